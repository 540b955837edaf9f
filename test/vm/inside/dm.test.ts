// Runs inside the test VM (node dist/test/vm/run.js ...): the guest kernel has device-mapper. Snapshot
// tables over loop devices, each journaled before it exists: a snapshot of a mounted origin stays byte
// for byte as it was while the origin is written, and its COW use shows it; cleanup removes tables,
// loops and mounts; after kill -9 of the process holding them, recover() leaves `dmsetup ls` and
// `losetup -a` clean, also when a table was left suspended mid-reload.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recover } from "../../../daemon/creator/journal.js";
import * as dm from "../../../daemon/creator/system/dm.js";
import { mountedOrigin, snapshot } from "./dm-fixture.js";

const tmp = mkdtempSync("/tmp/imgcreate-dm-");
after(() => rmSync(tmp, { recursive: true, force: true }));

// O_DIRECT: what the device holds now, not what the page cache kept from an earlier read.
const sha = (dev: string) => execFileSync("sh", ["-c", 'dd if="$1" bs=1M iflag=direct status=none | sha256sum', "sh", dev], { encoding: "utf8" }).split(" ")[0];
const losetup = () => execFileSync("losetup", ["-a"], { encoding: "utf8" }).trim();
const sync = () => execFileSync("sync");

test("a snapshot of a mounted origin keeps its bytes while the origin is written; COW use shows it", async () => {
  const s = await mountedOrigin(join(tmp, "one"), "s1");
  try {
    writeFileSync(join(s.mnt, "file"), "one\n");
    const snap = await snapshot(s, "s1", "ckpt");
    assert.deepEqual((await dm.list()).sort(), ["imgcreate-s1-ckpt", "imgcreate-s1-root"]);
    const before = sha(snap);
    const used0 = (await dm.cowUsage("imgcreate-s1-ckpt")).allocated;
    writeFileSync(join(s.mnt, "file"), "two\n");
    writeFileSync(join(s.mnt, "more"), Buffer.alloc(8 * 2 ** 20, 7));
    sync();
    assert.equal(sha(snap), before, "the snapshot is byte for byte what it was");
    const used = await dm.cowUsage("imgcreate-s1-ckpt");
    assert.ok(used.allocated > used0, `COW use grows with the origin's writes (${used0} → ${used.allocated} of ${used.total} sectors)`);
    const ro = join(tmp, "ro");
    execFileSync("mkdir", [ro]);
    execFileSync("mount", ["-o", "ro,noload", snap, ro]);
    try {
      assert.equal(readFileSync(join(ro, "file"), "utf8"), "one\n");
    } finally {
      execFileSync("umount", [ro]);
    }
  } finally {
    await s.journal.releaseAll();
  }
  assert.deepEqual(await dm.list(), []);
  assert.doesNotMatch(losetup(), /imgcreate-dm-/);
});

test("kill -9 of the process holding the tables, then recover(): dmsetup ls and losetup -a are clean", async () => {
  const work = join(tmp, "two");
  const child = spawn(process.execPath, [fileURLToPath(new URL("./dm-child.js", import.meta.url)), work, "s2"], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((r) => child.once("exit", r));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => /ready/.test(d.toString()) && resolve());
      child.once("exit", (code) => reject(new Error(`the child ended early (${code})`)));
    });
    assert.equal((await dm.list()).length, 2);
  } finally {
    child.kill("SIGKILL");
    await exited;
    await recover(work);
  }
  assert.deepEqual(await dm.list(), [], "no table of ours is left");
  assert.doesNotMatch(losetup(), /imgcreate-dm-/, "no loop device of ours is left");
});

test("a table left suspended with a half-loaded table (its holder killed mid-reload): recover() resumes it as it was, then unmounts and removes", async () => {
  const s = await mountedOrigin(join(tmp, "three"), "s3");
  writeFileSync(join(s.mnt, "file"), "three\n");
  execFileSync("dmsetup", ["suspend", s.origin]);
  execFileSync("dmsetup", ["load", s.origin, "--table", dm.tables.origin(s.base, s.size)]);
  // As after kill -9: nothing of this process releases anything; recover() reads the journal.
  await recover(s.journal.workDir);
  assert.deepEqual(await dm.list(), [], "no table of ours is left");
  assert.doesNotMatch(losetup(), /imgcreate-dm-/, "no loop device of ours is left");
});
