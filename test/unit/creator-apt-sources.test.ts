// The apt sources a build writes: a repository's own key (--repo-key) is the only key for that
// repository, the cache key follows the key, and a local repository the daemon must not read is
// refused at its kickstart line before apt runs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { prepareSources } from "../../daemon/creator/packages/apt-sources.js";
import { checkRepositories } from "../../daemon/creator/index.js";
import { repoConfig } from "../../daemon/creator/repositories.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const asRoot = { skip: process.getuid?.() !== 0 ? "needs root: the rule is about root-owned trees" : false };
const KEY_A = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaaaa\n-----END PGP PUBLIC KEY BLOCK-----\n";
const KEY_B = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEbbbb\n-----END PGP PUBLIC KEY BLOCK-----\n";
const tmps: string[] = [];
after(async () => {
  for (const t of tmps) await removeTmp(t);
});

async function tmp(): Promise<string> {
  const t = await makeTmp("apt-sources");
  tmps.push(t);
  await chmod(t, 0o755); // a local repository below must be reachable by every user
  return t;
}

function model(ks: string, files: Record<string, string> = {}) {
  const r = parseKickstart("/ks/a.ks", { readFile: mapReader({ "/ks/a.ks": ks, ...files }), cwd: "/ks" });
  assert.deepEqual(r.diagnostics, []);
  return r.model;
}

const TWO_REPOS = `repo --name=mine --baseurl=https://mine.example.invalid/debian
repo --name=other --baseurl=https://other.example.invalid/debian
%addon org_imgcreate --suite=bookworm --repo-key=mine:mine.asc
%end
`;

/** The deb822 stanzas of the written sources, by URI. */
async function stanzas(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, "utf8");
  return new Map(text.split("\n\n").map((s) => [/^URIs: (\S+)$/m.exec(s)![1]!, s]));
}

/** The key embedded in a stanza's Signed-By (deb822 continuation lines), or its keyring path. */
function signedBy(stanza: string): string {
  const m = /^Signed-By:(.*)\n((?: .*\n?)*)/m.exec(stanza + "\n");
  assert.ok(m, stanza);
  if (m[1]!.trim() !== "") return m[1]!.trim();
  return m[2]!.split("\n").filter(Boolean).map((l) => (l === " ." ? "" : l.slice(1))).join("\n") + "\n";
}

test("--repo-key: that repository's Signed-By is its key alone, embedded (no file _apt could not read); the other keeps the host's", async () => {
  const t = await tmp();
  const s = await prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": KEY_A })), join(t, "s1"), "amd64");
  const by = await stanzas(s.files[0]!);
  assert.equal(signedBy(by.get("https://mine.example.invalid/debian")!), KEY_A);
  const other = signedBy(by.get("https://other.example.invalid/debian")!);
  assert.ok(other.startsWith("/") && !other.includes("PGP"), other);
});

test("the cache key follows the key: same key in another session shares it, another key does not", async () => {
  const t = await tmp();
  const prep = (key: string, dir: string) => prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": key })), join(t, dir), "amd64");
  const a1 = await prep(KEY_A, "s1");
  const a2 = await prep(KEY_A, "s2");
  const b = await prep(KEY_B, "s3");
  assert.equal(a1.key, a2.key);
  assert.notEqual(a1.key, b.key);
});

test("a file:// repository in a 0700 directory is refused at its repo line saying why and what to change", asRoot, async () => {
  const t = await tmp();
  const dir = join(t, "repo");
  await mkdir(dir, { mode: 0o700 });
  const ks = model(`lang C\nrepo --name=local --baseurl=file://${dir}\n`);
  const expected = (e: ImgcreateError) => {
    assert.equal(e.code, "InvalidArgs");
    assert.equal(
      e.message,
      `a.ks:2: repo "local": imgcreated reads file://${dir} as root, so it takes a local repository only when every user can read all ` +
        `of it and only root can change it or any directory above it: ${dir} is mode 0700: not readable by every user. ` +
        `Fix: chmod a+rX ${dir} (the whole repository root-owned and world-readable), or serve it over http(s)`,
    );
    return true;
  };
  // The engine's early check (session creation) and the install's own, before apt runs.
  await assert.rejects(checkRepositories(ks), expected);
  await assert.rejects(prepareSources(repoConfig(ks), join(t, "s"), "amd64"), expected);
  await chmod(dir, 0o755);
  await checkRepositories(ks);
});
