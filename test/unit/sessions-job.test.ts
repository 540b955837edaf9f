// Jobs and session records without an engine: progress coalescing, results, and the record on disk.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ImgcreateError } from "../../daemon/errors.js";
import { Job } from "../../daemon/sessions/job.js";
import { Session } from "../../daemon/sessions/session.js";
import { hasHostScripts } from "../../daemon/sessions/registry.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

describe("Job", () => {
  it("sends at most 10 progress updates a second, and always the last one", async () => {
    const j = new Job(1, "s", "install");
    const seen: number[] = [];
    j.on("changed", (s: { progress: number }) => seen.push(s.progress));
    j.started();
    const t0 = Date.now();
    for (let i = 1; i <= 1000; i++) {
      j.update({ fraction: i / 1000 });
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => setTimeout(r, 150));
    const secs = (Date.now() - t0) / 1000;
    assert.ok(seen.length <= Math.ceil(secs * 10) + 2, `${seen.length} updates in ${secs.toFixed(2)} s`);
    assert.equal(seen.at(-1), 1);
  });

  it("ends once: completed, failed with the error's code, or cancelled when aborted", async () => {
    const ok = new Job(1, "s", "mount");
    ok.finish();
    ok.finish(new Error("late"));
    assert.deepEqual(await ok.wait(), { success: true, message: "" });
    assert.equal(ok.status, "completed");

    const bad = new Job(2, "s", "install");
    bad.finish(new ImgcreateError("Failed", "mmdebstrap exited with status 1"));
    assert.deepEqual(await bad.wait(), { success: false, code: "Failed", message: "mmdebstrap exited with status 1" });

    const c = new Job(3, "s", "install");
    c.abort.abort();
    c.finish(new Error("killed by signal"));
    assert.equal((await c.wait()).code, "Cancelled");
    assert.equal(c.status, "cancelled");
  });
});

describe("Session record", () => {
  let dir = "";
  after(async () => removeTmp(dir));
  it("is written atomically, private to root, and reads back", async () => {
    dir = await makeTmp("sessions-unit");
    const s = new Session(
      { id: "abc", name: "n", type: "loop", owner: 1000, ownerGid: 1000, state: "created", options: {}, hostScripts: false, artifacts: [], createdAt: 1 },
      dir,
    );
    await s.save();
    s.record.state = "mounted";
    s.record.running = { job: 4, operation: "install" };
    await s.save();
    const back = await Session.load(dir);
    assert.equal(back.state, "mounted");
    assert.deepEqual(back.record.running, { job: 4, operation: "install" });
    assert.equal(statSync(join(dir, "session.json")).mode & 0o777, 0o600);
    assert.doesNotThrow(() => JSON.parse(readFileSync(join(dir, "session.json"), "utf8")));
  });
});

describe("host scripts", () => {
  it("are what the parsed model marks nochroot", () => {
    assert.equal(hasHostScripts({ scripts: [{ nochroot: false }] }), false);
    assert.equal(hasHostScripts({ scripts: [{ nochroot: false }, { nochroot: true }] }), true);
    assert.equal(hasHostScripts(undefined), false);
  });
});
