// The journal: written before each acquisition, replayed by recover() newest first, tolerant of a torn
// last line, idempotent. Uses only temporary files (the loop/mount kinds are covered by the image tests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { Journal, outstanding, recover, releaseDevices } from "../../daemon/creator/journal.js";
import { bootId, startTime } from "../../daemon/creator/system/process.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

test("an entry is on disk before the acquisition runs, and release is recorded", async () => {
  const tmp = await makeTmp("creator-journal");
  try {
    const j = new Journal(tmp);
    const f = join(tmp, "scratch");
    const { id } = await j.take("file", { path: f }, async () => {
      assert.match(readFileSync(j.path, "utf8"), /"op":"take".*scratch/);
      writeFileSync(f, "x");
    });
    assert.equal(outstanding(tmp).length, 1);
    await j.release(id);
    assert.ok(!existsSync(f));
    assert.equal(outstanding(tmp).length, 0);
  } finally {
    await removeTmp(tmp);
  }
});

test("a failed acquisition releases what it half did", async () => {
  const tmp = await makeTmp("creator-journal");
  try {
    const j = new Journal(tmp);
    const d = join(tmp, "half");
    await assert.rejects(j.take("file", { path: d }, async () => {
      mkdirSync(d);
      throw new Error("boom");
    }));
    assert.ok(!existsSync(d));
    assert.equal(j.outstanding, 0);
  } finally {
    await removeTmp(tmp);
  }
});

test("recover() releases what a dead process left, ignores a torn last line, and is idempotent", async () => {
  const tmp = await makeTmp("creator-journal");
  try {
    const j = new Journal(tmp);
    const a = join(tmp, "a");
    const b = join(tmp, "b");
    await j.take("file", { path: a }, async () => mkdirSync(a));
    await j.take("file", { path: b }, async () => writeFileSync(join(a, "inner"), "x"));
    appendFileSync(j.path, '{"op":"take","id":3,"ki'); // the process died mid-write
    // Not released by this process: as if it was killed here.
    assert.deepEqual(outstanding(tmp).map((h) => h.data.path), [a, b]);
    assert.deepEqual(await recover(tmp), { released: 2 });
    assert.ok(!existsSync(a));
    assert.ok(!existsSync(j.path));
    assert.deepEqual(await recover(tmp), { released: 0 });
  } finally {
    await removeTmp(tmp);
  }
});

test("recover() kills a journaled process of this boot, and leaves a pid recorded in another boot alone", async () => {
  const tmp = await makeTmp("creator-journal");
  const ours = spawn("sleep", ["30"], { stdio: "ignore" });
  const stranger = spawn("sleep", ["30"], { stdio: "ignore" });
  const oursGone = new Promise((r) => ours.once("exit", r));
  const strangerGone = new Promise((r) => stranger.once("exit", r));
  try {
    const j = new Journal(tmp);
    const a = await j.take("process", { argv: ["sleep"], boot: bootId() }, async () => undefined);
    j.notePid(a.id, ours.pid!);
    await j.take("process", { argv: ["sleep"], boot: "an-earlier-boot", pid: stranger.pid! }, async () => undefined);
    await new Promise((r) => setTimeout(r, 100)); // let the start time be noted
    assert.equal(outstanding(tmp).find((h) => h.id === a.id)?.data.start, await startTime(ours.pid!));
    await recover(tmp);
    assert.equal(await oursGone, null);
    assert.equal(ours.signalCode, "SIGTERM");
    assert.equal(stranger.exitCode, null, "the other boot's pid was not touched");
    assert.equal(stranger.signalCode, null);
  } finally {
    stranger.kill("SIGKILL");
    ours.kill("SIGKILL");
    await Promise.all([oursGone, strangerGone]);
    await removeTmp(tmp);
  }
});

test("releaseDevices() releases what sits above loop devices in every journal, and leaves the rest (and the journals) to recover()", async () => {
  const tmp = await makeTmp("creator-journal");
  const procs = [spawn("sleep", ["30"], { stdio: "ignore" }), spawn("sleep", ["30"], { stdio: "ignore" })];
  const gone = procs.map((p) => new Promise((r) => p.once("exit", r)));
  try {
    const dirs = [join(tmp, "a"), join(tmp, "b")];
    for (const [i, dir] of dirs.entries()) {
      mkdirSync(dir);
      const j = new Journal(dir);
      await j.take("file", { path: join(dir, "image") }, async () => writeFileSync(join(dir, "image"), "x"));
      const p = await j.take("process", { argv: ["sleep"], boot: bootId() }, async () => undefined);
      j.notePid(p.id, procs[i]!.pid!);
    }
    await new Promise((r) => setTimeout(r, 100)); // let the start times be noted
    await releaseDevices(dirs);
    await Promise.all(gone);
    for (const dir of dirs) {
      assert.ok(existsSync(join(dir, "image")), "files stay for recover()");
      assert.equal(outstanding(dir).length, 2, "the journal is replayed in full by recover()");
      assert.deepEqual(await recover(dir), { released: 2 });
      assert.ok(!existsSync(join(dir, "image")));
    }
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(gone);
    await removeTmp(tmp);
  }
});
