// Builds the small test image once (real loop device, real mmdebstrap against the host's apt
// sources) and checks inside the result what a user would check, reading it with debugfs (no mount).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator, type LogEvent, type ProgressEvent } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES, loadKickstart } from "./fixtures/engine-kickstart.js";

const HOST_SOCKET = "/run/imgcreate-test-engine.sock";
/** Fedora's live base kickstart from the corpus: its %post runs in our sandbox too (rpm and mandb are absent here, which it survives). */
const CORPUS_KS = join(FIXTURES, "..", "..", "..", "..", "shared", "kickstarts", "fedora-kickstarts", "fedora-live-base.ks");

function corpusPost(): string {
  const m = /^%post\n[\s\S]*?^%end\n/m.exec(readFileSync(CORPUS_KS, "utf8"));
  assert.ok(m, `a %post in ${CORPUS_KS}`);
  return m[0];
}

function debugfs(img: string, cmd: string): string {
  const r = spawnSync("debugfs", ["-R", cmd, img], { encoding: "utf8" });
  return r.stdout;
}
const cat = (img: string, path: string) => debugfs(img, `cat ${path}`);
const exists = (img: string, path: string) => !/File not found/.test(spawnSync("debugfs", ["-R", `stat ${path}`, img], { encoding: "utf8" }).stderr);

describe("LoopImageCreator builds the small image", { timeout: 15 * 60_000 }, () => {
  let tmp = "";
  let img = "";
  let creator: LoopImageCreator;
  let server: Server;
  const progress: ProgressEvent[] = [];
  const logs: LogEvent[] = [];

  before(async () => {
    tmp = await makeTmp("engine-build");
    rmSync(HOST_SOCKET, { force: true });
    server = createServer();
    await new Promise<void>((r) => server.listen(HOST_SOCKET, r));
    const ks = loadKickstart("engine-small.ks", (t) => `${t}\n${corpusPost()}`);
    creator = new LoopImageCreator(ks, "engine-small", { workDir: join(tmp, "work"), fslabel: "ENGINETEST" });
    creator.on("progress", (p) => progress.push(p));
    creator.on("log", (l) => logs.push(l));
    const artifacts = await creator.create(join(tmp, "out"));
    assert.deepEqual(artifacts, [join(tmp, "out", "engine-small.img")]);
    img = artifacts[0]!;
  });

  after(async () => {
    await creator?.cleanup();
    await new Promise((r) => server?.close(r));
    rmSync(HOST_SOCKET, { force: true });
    await removeTmp(tmp);
    assertNoLeaks({ tmp: false });
  });

  test("the image is fsck-clean, carries the label, and is minimized and sparse", () => {
    const fsck = spawnSync("e2fsck", ["-f", "-n", img], { encoding: "utf8" });
    assert.equal(fsck.status, 0, fsck.stdout + fsck.stderr);
    const label = execFileSync("e2label", [img], { encoding: "utf8" }).trim();
    assert.equal(label, "ENGINETEST");
    const st = statSync(img);
    assert.ok(st.size < 1024 * 1024 * 1024, `shrunk below the 1024 MiB of part / (is ${st.size})`);
    assert.ok(st.blocks * 512 <= st.size, "sparse: no more blocks than bytes");
  });

  test("hostname, /etc/hosts, timezone, keyboard and fstab come from the kickstart", () => {
    assert.equal(cat(img, "/etc/hostname").trim(), "engine-test.example.org");
    assert.match(cat(img, "/etc/hosts"), /127\.0\.1\.1\s+engine-test\.example\.org engine-test/);
    assert.equal(cat(img, "/etc/timezone").trim(), "Europe/Berlin");
    assert.match(debugfs(img, "stat /etc/localtime"), /Fast link dest: "\/usr\/share\/zoneinfo\/Europe\/Berlin"/);
    assert.match(cat(img, "/etc/adjtime"), /UTC/);
    assert.match(cat(img, "/etc/default/keyboard"), /XKBLAYOUT="de"/);
    assert.match(cat(img, "/etc/fstab"), /^\/dev\/root\s+\/\s+ext4/m);
    assert.match(cat(img, "/etc/default/locale"), /LANG=en_US.UTF-8/);
  });

  test("the user exists with its groups, password and ssh key; root has a password", () => {
    assert.match(cat(img, "/etc/passwd"), /^alice:x:\d+:\d+::\/home\/alice:\/bin\/bash$/m);
    const group = cat(img, "/etc/group");
    assert.match(group, /^builders:x:2500:alice$/m);
    assert.match(group, /^audio:x:\d+:alice$/m);
    const shadow = cat(img, "/etc/shadow");
    assert.match(shadow, /^alice:\$[0-9a-z]+\$/m);
    assert.match(shadow, /^root:\$[0-9a-z]+\$/m);
    assert.match(cat(img, "/home/alice/.ssh/authorized_keys"), /^ssh-ed25519 \S+ alice@test$/m);
  });

  test("files keep their real owners on disk although the sandbox's root is an unprivileged host uid", () => {
    const owner = (path: string) => {
      const m = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(debugfs(img, `stat ${path}`));
      assert.ok(m, path);
      return `${m[1]}:${m[2]}`;
    };
    const mode = (path: string) => /Mode:\s+(\d+)/.exec(debugfs(img, `stat ${path}`))?.[1];
    const alice = /^alice:x:(\d+):(\d+):/m.exec(cat(img, "/etc/passwd"))!;
    const shadowGid = /^shadow:x:(\d+):/m.exec(cat(img, "/etc/group"))![1];
    assert.equal(owner("/usr/bin/bash"), "0:0");
    assert.equal(owner("/etc/passwd"), "0:0");
    assert.equal(owner("/etc/shadow"), `0:${shadowGid}`, "package scripts chown'd to the image's own group");
    assert.equal(owner("/home/alice"), `${alice[1]}:${alice[2]}`, "the kickstart's user owns its home");
    assert.equal(owner("/home/alice/.ssh/authorized_keys"), `${alice[1]}:${alice[2]}`);
    assert.equal(mode("/usr/bin/passwd"), "04755", "setuid root inside the image, as Debian ships it");
    assert.equal(owner("/usr/bin/passwd"), "0:0");
  });

  test("services: the enabled unit is linked, the disabled one is not", () => {
    assert.ok(exists(img, "/etc/systemd/system/timers.target.wants/e2scrub_all.timer"));
    assert.ok(!exists(img, "/etc/systemd/system/default.target.wants/e2scrub_reap.service"));
  });

  test("%post ran in the root and --nochroot ran with INSTALL_ROOT and LIVE_ROOT", () => {
    assert.equal(cat(img, "/etc/imgcreate-post-marker").trim(), "post ran");
    assert.equal(cat(img, "/etc/imgcreate-nochroot-marker").trim(), "nochroot");
    assert.equal(cat(img, "/root/probe-liveroot").trim(), join(tmp, "work", "live"));
    assert.match(cat(img, "/root/post.log"), /chrooted post output line/);
    assert.ok(logs.some((l) => l.stage === "configure" && l.line === "chrooted post output line"), "script output streams as log lines");
  });

  test("the corpus's Fedora live %post ran in the sandbox: fstab line, update stamps, emptied machine-id", () => {
    assert.match(cat(img, "/etc/fstab"), /^vartmp\s+\/var\/tmp\s+tmpfs\s+defaults\s+0\s+0$/m);
    assert.equal(cat(img, "/etc/.updated").trim(), "File created by kickstart. See systemd-update-done.service(8).");
    assert.equal(cat(img, "/var/.updated").trim(), "File created by kickstart. See systemd-update-done.service(8).");
    assert.equal(cat(img, "/etc/machine-id"), "");
  });

  test("packages: the requested ones are in, the excluded one and the docs are not", () => {
    const status = cat(img, "/var/lib/dpkg/status");
    assert.match(status, /^Package: procps$/m);
    assert.match(status, /^Package: tzdata$/m, "the glob tzdat? matched tzdata");
    assert.doesNotMatch(status, /^Package: psmisc$/m, "psmisc (a Recommends of procps) is excluded");
    // debugfs ls -p: /inode/mode/uid/gid/name/size/ — only regular files (mode 10xxxx) count as docs.
    const entries = debugfs(img, "ls -p /usr/share/doc/procps").split("\n").filter((l) => l.startsWith("/")).map((l) => l.split("/"));
    assert.deepEqual(entries.filter((f) => f[2]?.startsWith("10")).map((f) => f[5]), ["copyright"]);
    assert.ok(!exists(img, "/usr/share/man/man1/ps.1.gz"), "man pages excluded with --excludedocs");
    // Build-time settings do not stay in the image: no unsafe dpkg I/O, no exclude pins, no cached debs.
    assert.doesNotMatch(cat(img, "/etc/dpkg/dpkg.cfg.d/99mmdebstrap"), /force-unsafe-io/);
    assert.ok(!exists(img, "/etc/apt/preferences.d/imgcreate-exclude"));
    assert.doesNotMatch(debugfs(img, "ls /var/cache/apt/archives"), /\.deb/);
  });

  test("the sandbox: %post sees no host process or device, cannot mount, write /sys or the host, or reach a host socket", () => {
    assert.ok(Number(cat(img, "/root/probe-procs").trim()) <= 4, "only the sandbox's own processes are visible");
    assert.equal(cat(img, "/root/probe-mount").trim(), "refused");
    assert.equal(cat(img, "/root/probe-devices").trim(), "hidden");
    assert.equal(cat(img, "/root/probe-sys").trim(), "refused");
    assert.equal(cat(img, "/root/probe-socket").trim(), "unreachable");
    assert.equal(cat(img, "/root/probe-hostwrite").trim(), "refused");
    assert.equal(cat(img, "/root/probe-nochroot-socket").trim(), "unreachable");
  });

  test("progress events carry the stage, a fraction and the downloaded bytes", () => {
    const stages = new Set(progress.map((p) => p.stage));
    for (const s of ["mount", "install", "configure", "unmount", "package"] as const) assert.ok(stages.has(s), s);
    const install = progress.filter((p) => p.stage === "install");
    assert.ok(install.some((p) => p.fraction !== undefined && p.fraction > 0 && p.fraction < 1));
    assert.ok(install.some((p) => (p.bytes ?? 0) > 0) || install.some((p) => /unpacking|setting up/.test(p.message)));
  });

  test("a stage out of order is refused with InvalidState", async () => {
    await assert.rejects(creator.install(), (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidState");
  });

  test("cleanup() leaves the work dir empty and can be called again", async () => {
    await creator.cleanup();
    assert.deepEqual(readdirSync(join(tmp, "work")), []);
    await creator.cleanup();
    assert.equal(creator.state, "cleaned");
  });
});
