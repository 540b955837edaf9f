// Checkpoints and clones of a creator's image, on the fallback these machines have (no device-mapper):
// a checkpoint of a mounted, installed root; a change made and rolled back (the state goes back too);
// a clone of the mounted source at its state, with a UUID of its own, changed and packaged while the
// source stays byte for byte as it was; checkpoints refused where they cannot mean anything. And the
// copy itself: a reflink on xfs, a sparse copy elsewhere, and the log says which.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { copyImage } from "../../daemon/creator/system/copy.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import type { KickstartModel } from "../../daemon/kickstart/model.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES } from "./fixtures/engine-kickstart.js";

let tmp = "";
const creators: LoopImageCreator[] = [];
before(async () => (tmp = await makeTmp("checkpoint")));
after(async () => {
  for (const c of creators) await c.cleanup();
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

function model(): KickstartModel {
  const ksPath = join(FIXTURES, "engine-minimal.ks");
  const text = readFileSync(ksPath, "utf8").replace("%packages --excludedocs\n", "%packages --excludedocs\nhello\n");
  const { model, diagnostics } = parseKickstart(ksPath, { readFile: mapReader({ [ksPath]: text }), cwd: FIXTURES });
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  return model;
}

function creator(name: string): LoopImageCreator {
  const c = new LoopImageCreator(model(), name, { workDir: join(tmp, name) });
  creators.push(c);
  return c;
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
const uuid = (img: string) => execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", img], { encoding: "utf8" }).trim();

test("checkpoint, change, roll back; clone at the source's state; the source stays as it was", { timeout: 15 * 60_000 }, async () => {
  const a = creator("source");
  await a.mount();
  await a.install();
  assert.match(await a.checkpoint("installed"), /^(reflink|sparse copy)$/);
  await assert.rejects(a.checkpoint("installed"), /already has a checkpoint named "installed"/);
  await assert.rejects(a.checkpoint("../x"), /not a usable checkpoint name/);

  // What a user tries in the shell: a file added, a program removed, then configure.
  writeFileSync(join(a.instroot, "etc/tried"), "x\n");
  unlinkSync(join(a.instroot, "usr/bin/hello"));
  await a.configure();
  await a.checkpoint("configured");
  assert.deepEqual(a.listCheckpoints(), ["installed", "configured"]);

  await a.rollback("installed");
  assert.equal(a.state, "installed", "the state goes back with the image");
  assert.ok(!existsSync(join(a.instroot, "etc/tried")));
  assert.ok(existsSync(join(a.instroot, "usr/bin/hello")));
  await a.rollback("configured");
  assert.equal(a.state, "configured");
  assert.ok(existsSync(join(a.instroot, "etc/tried")));
  await a.rollback("installed");

  // A clone of the mounted source: same state, its own mounted copy with a new UUID.
  const b = creator("clone");
  assert.match(await b.cloneFrom(a), /^(reflink|sparse copy)$/);
  assert.equal(b.state, "installed");
  assert.ok(existsSync(join(b.instroot, "usr/bin/hello")));
  assert.notEqual(uuid(join(b.workDir, "rootfs.img")), uuid(join(a.workDir, "rootfs.img")));
  writeFileSync(join(b.instroot, "etc/only-in-clone"), "b\n");
  assert.ok(!existsSync(join(a.instroot, "etc/only-in-clone")));
  await b.configure();
  await b.unmount();
  // A package that fails leaves the image as it was (packaging works on a copy): package again.
  await assert.rejects(b.package("/dev/null/out"));
  assert.equal(b.state, "unmounted");
  const [img] = await b.package(join(tmp, "out"));
  execFileSync("e2fsck", ["-fn", img!], { stdio: "pipe" });

  // The unmounted source is not changed by cloning it, nor by what the clone does.
  await a.configure();
  await a.unmount();
  const before = sha256(join(a.workDir, "rootfs.img"));
  const c = creator("clone2");
  await c.cloneFrom(a);
  assert.equal(c.state, "unmounted");
  await c.mount();
  writeFileSync(join(c.instroot, "etc/changed"), "c\n");
  await c.unmount();
  assert.equal(sha256(join(a.workDir, "rootfs.img")), before, "the source image is byte for byte unchanged");

  // A checkpoint taken mounted cannot be put back under an unmounted image; drop frees its directory.
  await assert.rejects(a.rollback("installed"), /was taken while the image was mounted: Mount the session first/);
  const dir = join(a.workDir, "checkpoints", "configured");
  assert.ok(existsSync(join(dir, "image")));
  await a.dropCheckpoint("configured");
  assert.ok(!existsSync(dir));
  await assert.rejects(a.dropCheckpoint("configured"), /no checkpoint named "configured" \(it has: installed\)/);

  // Checkpoints rest with the image and come back with it in a new creator (a restarted daemon).
  await a.rest();
  const a2 = creator("source");
  await a2.resume();
  assert.deepEqual(a2.listCheckpoints(), ["installed"]);
  await a2.mount();
  await a2.rollback("installed");
  assert.equal(a2.state, "installed");

  for (const x of [a2, b, c]) await x.cleanup();
  assert.ok(!existsSync(join(a.workDir, "checkpoints", "installed")), "cleanup removes the checkpoints");
});

test("a new creator cannot be checkpointed; a clone needs a new creator", async () => {
  const n = creator("fresh");
  await assert.rejects(n.checkpoint("x"), /cannot checkpoint x now: the image is new/);
  await assert.rejects(creator("fresh-clone").cloneFrom(n), /cannot clone it now: the image is new/);
});

test("copyImage: a reflink on xfs, else a sparse copy that keeps the holes", async () => {
  const img = join(tmp, "xfs.img");
  const mnt = join(tmp, "xfs");
  mkdirSync(mnt);
  execFileSync("truncate", ["-s", "320M", img]);
  execFileSync("mkfs.xfs", ["-q", "-m", "reflink=1", img]);
  const dev = execFileSync("losetup", ["--find", "--show", img], { encoding: "utf8" }).trim();
  try {
    execFileSync("mount", [dev, mnt]);
    try {
      const src = join(mnt, "a");
      execFileSync("truncate", ["-s", "64M", src]);
      execFileSync("dd", ["if=/dev/urandom", `of=${src}`, "bs=1M", "count=4", "conv=notrunc", "status=none"]);
      assert.equal(await copyImage(src, join(mnt, "b")), "reflink");
      assert.equal(sha256(join(mnt, "b")), sha256(src));
      const other = join(tmp, "sparse-copy");
      const how = await copyImage(src, other);
      if (!isReflinkFs(tmp)) assert.equal(how, "sparse copy");
      const used = Number(execFileSync("du", ["-k", other], { encoding: "utf8" }).split("\t")[0]);
      assert.ok(used < 16 * 1024, `the copy keeps the holes (${used} KiB used)`);
      rmSync(other);
    } finally {
      execFileSync("umount", [mnt]);
    }
  } finally {
    execFileSync("losetup", ["-d", dev]);
  }
});

/** Whether dir is on a filesystem with reflinks (then the "elsewhere" copy is a reflink too). */
function isReflinkFs(dir: string): boolean {
  const t = execFileSync("stat", ["-f", "-c", "%T", dir], { encoding: "utf8" }).trim();
  return t === "xfs" || t === "btrfs";
}
