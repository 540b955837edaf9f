// Thousands of seeded random mutations of real kickstarts: the parser never throws, every problem is
// a diagnostic with a file and a line, and whatever parses also flattens and re-parses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseKickstart, flatten, mapReader, hasErrors } from "../../daemon/kickstart/index.js";

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
}

const CORPUS = path.resolve(repoRoot(), "..", "shared", "kickstarts");

/** A small built-in seed so the fuzz test also runs where the shared corpus is absent. */
const SEED = `#version=DEVEL
lang en_US.UTF-8
keyboard --vckeymap=us --xlayouts='us'
timezone Europe/Berlin --utc
part / --size 4096 --fstype ext4
repo --name="deb" --baseurl=http://x/ --includepkgs=a,b
network --bootproto=dhcp --device=link --activate
rootpw --iscrypted "$6$a#b"
%include inc.ks
%packages --excludedocs
@core --nodefaults
-fcoe-utils
vim*
%end
%post --nochroot --log=/tmp/x
echo "hi" > $INSTALL_ROOT/etc/motd
%end
%addon org_imgcreate --suite=bookworm
variant = minbase
%end
`;

function corpusFiles(): Record<string, string> {
  const files: Record<string, string> = { "/seed/a.ks": SEED, "/seed/inc.ks": "services --enabled=sshd\n" };
  if (!existsSync(CORPUS)) return files;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      if (name === "_expected") continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ks|cfg)$/.test(name)) files[p] = readFileSync(p, "utf8");
    }
  };
  walk(CORPUS);
  return files;
}

/** mulberry32: a tiny seeded PRNG, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [" ", "\t", '"', "'", "\\", "#", "%", "-", "--", "=", "@", "@^", "\n", "\r", "a", "/", ",", ":", "\u00e9", "\0"];
const LINES = ["%end", "%post", "%packages", "%pre --interpreter", "%include inc.ks", "%include missing.ks", "%include a.ks",
  "%addon org_imgcreate --suite", "%addon", "%anaconda", "part /", "repo --name", "lang", "rootpw", "network --onboot=maybe",
  "bootloader --timeout=x", "%certificate --filename=x", "-@", "@", "--", "\"", "user --name=a --uid=1", "firewall --port=22"];

function mutate(text: string, r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let t = text;
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(r() * (t.length + 1));
    const lines = t.split("\n");
    const li = Math.floor(r() * lines.length);
    switch (Math.floor(r() * 7)) {
      case 0: t = t.slice(0, pos) + pick(CHARS) + t.slice(pos); break;
      case 1: t = t.slice(0, pos) + t.slice(pos + 1 + Math.floor(r() * 8)); break;
      case 2: lines.splice(li, 0, pick(LINES)); t = lines.join("\n"); break;
      case 3: lines.splice(li, 1); t = lines.join("\n"); break;
      case 4: lines.splice(li, 0, lines[Math.floor(r() * lines.length)] ?? ""); t = lines.join("\n"); break;
      case 5: t = t.slice(0, pos); break;
      default: lines[li] = (lines[li] ?? "") + " " + pick(LINES); t = lines.join("\n");
    }
  }
  return t;
}

test("fuzz: 3000 seeded mutations never throw; every diagnostic has a file and a line", () => {
  const files = corpusFiles();
  const roots = Object.keys(files).filter((f) => !f.endsWith("inc.ks"));
  const r = rng(20261130);
  let parsedClean = 0;
  for (let i = 0; i < 3000; i++) {
    const root = roots[Math.floor(r() * roots.length)]!;
    // Mutate the root and, sometimes, one file it may include.
    const tree = { ...files, [root]: mutate(files[root]!, r) };
    const other = Object.keys(files)[Math.floor(r() * Object.keys(files).length)]!;
    if (r() < 0.3) tree[other] = mutate(files[other]!, r);
    const version = ["DEVEL", "RHEL7", "RHEL8", "RHEL9", "RHEL10", undefined][Math.floor(r() * 6)];
    const ctx = `case ${i}: ${root} at ${String(version)}`;
    let res;
    try {
      res = parseKickstart(root, { readFile: mapReader(tree), cwd: path.dirname(root), ...(version ? { version } : {}) });
    } catch (err) {
      assert.fail(`${ctx}: parser threw ${String(err)}`);
    }
    for (const d of res.diagnostics) {
      assert.ok(typeof d.file === "string" && d.file !== "", `${ctx}: diagnostic without a file`);
      assert.ok(Number.isInteger(d.line) && d.line >= 1, `${ctx}: diagnostic without a line: ${d.message}`);
      assert.ok(d.severity === "error" || d.severity === "warning");
      assert.ok(d.message.length > 0);
    }
    const text = flatten(res.model);
    if (hasErrors(res.diagnostics)) continue;
    parsedClean++;
    const again = parseKickstart("/flat.ks", { readFile: (p) => (p === "/flat.ks" ? text : undefined), version: res.model.version });
    assert.deepEqual(again.diagnostics.filter((d) => d.severity === "error"), [], `${ctx}: its flattened form does not parse`);
    // ksflatten writes a legacy keymap given together with --vckeymap/--xlayouts only as a comment
    // ("# old format: keyboard us"), so that one value does not survive a second flatten.
    const k = res.model.keyboard;
    if (k?.keymap && (k.vckeymap || k.xlayouts.length)) continue;
    assert.equal(flatten(again.model), text, `${ctx}: flatten is not stable`);
  }
  assert.ok(parsedClean > 100, `only ${parsedClean} mutations parsed cleanly; the mutations are too harsh to test flatten`);
});
