// livecd-creator and image-creator, run the way livecd-tools' README and man page show, against the real
// daemon as alice: a real image-creator build, livecd-creator's desktop example reaching the daemon as a
// live session with the given label, and the options that are refused or only warned about.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { imgcreateAs, jsonLines, ourProgram, userDir, writeSmallKs } from "./client-cli.js";

let h: Harness;
let home: string;

before(async () => {
  h = await startHarness({ daemon: true });
  home = userDir(h, "alice", "alice");
  writeSmallKs(home, "livecd-fedora-minimal.ks");
  // A live image needs a kernel (refused at mount otherwise); this one is only ever started, then stopped.
  writeSmallKs(home, "livecd-fedora-desktop.ks", ["linux-image-amd64"]);
});

after(async () => {
  await h?.stop({ assertNoLeaks: true });
});

function compatAs(prog: "livecd-creator" | "image-creator", args: string[], timeoutMs = 60_000) {
  const [cmd, ...pre] = ourProgram(prog);
  return h.runAs("alice", cmd!, [...pre, ...args], { cwd: home, timeoutMs });
}

test("image-creator KICKSTART builds image-<name>-<date>.img in the current directory, owned by alice", { timeout: 900_000 }, async () => {
  const r = await compatAs("image-creator", ["-q", "livecd-fedora-minimal.ks"], 900_000);
  assert.equal(r.exitCode, 0, r.stderr);
  const imgs = readdirSync(home).filter((f) => /^image-livecd-fedora-minimal-\d{12}\.img$/.test(f));
  assert.equal(imgs.length, 1, readdirSync(home).join(" "));
  assert.equal(statSync(join(home, imgs[0]!)).uid, h.users.alice.uid);
  assert.equal(r.stdout.trim(), `wrote ${join(home, imgs[0]!)}`, "-q prints only the result");
});

test("livecd-creator's desktop example reaches the daemon as a live session labelled as asked (--nocleanup keeps it)", { timeout: 300_000 }, async () => {
  const [cmd, ...pre] = ourProgram("livecd-creator");
  const child = h.spawnAs("alice", cmd!, [...pre, "--config=livecd-fedora-desktop.ks", "--fslabel=Fedora9-LiveCD-foo", "--nocleanup", "-t", "/var/tmp"], { cwd: home });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/install: started/.test(stdout) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  // The session exists and is installing: stop the build as Ctrl-C would; --nocleanup keeps the session.
  const status = await h.stopSpawned(child, "SIGINT");
  const list0 = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
  try {
    assert.equal(status.code, 130, stdout + stderr);
  } finally {
    for (const s of jsonLines(list0.stdout)) await imgcreateAs(h, "alice", ["session", "close", String(s["id"])], home);
  }
  assert.match(stderr, /livecd-creator: warning: --tmpdir is ignored/);
  assert.match(stderr, /livecd-creator: using label 'Fedora9-LiveCD-foo' and name 'Fedora9-LiveCD-foo'/);
  const sessions = jsonLines(list0.stdout);
  assert.equal(sessions.length, 1, list0.stdout + list0.stderr);
  assert.equal(sessions[0]!["name"], "Fedora9-LiveCD-foo");
  assert.equal(sessions[0]!["type"], "live");
  assert.equal(sessions[0]!["state"], "cancelled");
  const remaining = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
  assert.deepEqual(jsonLines(remaining.stdout), [], "closed");
});

test("options that cannot apply are refused with the reason (exit 2) before anything is built", async () => {
  for (const [args, re] of [
    [["--config=livecd-fedora-minimal.ks", "--repo=/etc/yum.repos.d"], /--repo is not supported: .*put the repositories in the kickstart/],
    [["--config=livecd-fedora-minimal.ks", "--base-on", "old.iso"], /--base-on is not supported/],
    [["--config=livecd-fedora-minimal.ks", "--fslabel", "has space"], /CD labels cannot contain spaces/],
    [[], /Kickstart file must be provided/],
    [["--config=nosuch.ks"], /cannot read the kickstart nosuch\.ks: no such file/],
  ] as [string[], RegExp][]) {
    const r = await compatAs("livecd-creator", args);
    assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
  assert.deepEqual(jsonLines(list.stdout), []);
});

test("livecd-creator --help lists livecd-tools' options", async () => {
  const r = await compatAs("livecd-creator", ["--help"]);
  assert.equal(r.exitCode, 0);
  for (const o of ["--config", "--fslabel", "--title", "--product", "--releasever", "--tmpdir", "--cache", "--cacheonly", "--nocleanup", "--shell", "--compression-type", "--flat-squashfs", "--syslinux", "--nomacboot", "--logfile"]) {
    assert.ok(r.stdout.includes(o), o);
  }
});
