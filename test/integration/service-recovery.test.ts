// Jobs that do not end well: cancel mid-install, a client that goes away, a queue under --max-jobs 1, and
// kill -9 of the daemon mid-install followed by a restart. Each ends with nothing of ours attached or mounted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startHarness, type Harness } from "../helpers/harness.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { BUILD_KS, gdbus, getProperty, kickstartArgs, MANAGER, objectPath, rawJsonRpc } from "./service-clients.js";

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("imgcreated when jobs are cancelled, clients leave and the daemon dies", { timeout: 1_200_000 }, () => {
  let h: Harness;
  const ours = (text: string): boolean => text.includes(h.stateDir);
  const leftovers = async (): Promise<string> => {
    const loops = (await h.run("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"])).stdout;
    const mounts = (await h.run("cat", ["/proc/self/mountinfo"])).stdout;
    return [...loops.split("\n"), ...mounts.split("\n")].filter(ours).join("\n");
  };
  const prop = (path: string, iface: string, name: string) => getProperty(h, "alice", path, iface, name);
  const create = async (): Promise<string> => {
    const r = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs(BUILD_KS));
    assert.ok(r.ok, `${r.error} ${r.message}\n--- daemon log:\n${h.daemonLog().slice(-4000)}`);
    return objectPath(r.out);
  };
  const waitStatus = (job: string, want: string[]) =>
    until(`${job} ${want.join("/")}`, async () => {
      const s = String(await prop(job, "Job", "Status"));
      return want.includes(s) ? s : undefined;
    });

  before(async () => {
    h = await startHarness({ daemon: true, daemonArgs: ["--max-jobs", "1"] });
  });
  after(async () => {
    await h?.stop();
    assertNoLeaks({ tmp: false });
  });

  it("JSON-RPC notifications: a Mount's progress and completion reach the connection that asked", async () => {
    const r = await rawJsonRpc(h, "alice", [{ method: "Manager.CreateSession", params: { kickstart: BUILD_KS } }, { method: "Session.Mount", params: { session: "$0" } }], {
      waitCompleted: true,
    });
    assert.equal(r.results[1]!.error, undefined, JSON.stringify(r.results[1]));
    const job = String(r.results[1]!.result);
    const progress = r.notifications.filter((n) => n.method === "Job.Progress" && n.params.job === job);
    assert.ok(progress.length >= 1, JSON.stringify(r.notifications));
    const done = r.notifications.find((n) => n.method === "Job.Completed");
    assert.deepEqual(done?.params, { job, success: true, errorName: "", message: "" });
    const session = String(r.results[0]!.result);
    assert.equal(await prop(session, "Session", "State"), "mounted");
    const close = await gdbus(h, "alice", session, "Session.Close", []);
    assert.ok(close.ok, close.message);
    assert.equal(await leftovers(), "");
  });

  it("a client that leaves does not stop its job; a second session queues under --max-jobs 1; cancel releases everything", async () => {
    const s1 = await create();
    const s2 = await create();
    // The JSON-RPC client starts Mount+Install through Create and exits at once.
    const m = await rawJsonRpc(h, "alice", [{ method: "Session.Mount", params: { session: s1 } }], { waitCompleted: true });
    assert.equal(m.notifications.find((n) => n.method === "Job.Completed")?.params.success, true);
    const started = await rawJsonRpc(h, "alice", [{ method: "Session.Install", params: { session: s1 } }]);
    const job = String(started.results[0]!.result);
    assert.equal(await waitStatus(job, ["running"]), "running");
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await prop(job, "Job", "Status"), "running", "the install goes on after its client left");

    const q = await gdbus(h, "alice", s2, "Session.Mount", ["@a{sv} {}"]);
    assert.ok(q.ok, q.message);
    const queued = objectPath(q.out);
    assert.equal(await prop(queued, "Job", "Status"), "queued");
    assert.equal(await prop(s2, "Session", "CurrentJob"), queued);

    const c = await gdbus(h, "alice", job, "Job.Cancel", []);
    assert.ok(c.ok, c.message);
    assert.equal(await waitStatus(job, ["cancelled", "completed", "failed"]), "cancelled");
    assert.equal(await prop(s1, "Session", "State"), "cancelled");
    assert.equal(await prop(s1, "Session", "CurrentJob"), "/");
    // The queued Mount gets the slot now.
    assert.equal(await waitStatus(queued, ["completed", "failed"]), "completed");
    for (const s of [s1, s2]) {
      const r = await gdbus(h, "alice", s, "Session.Close", []);
      assert.ok(r.ok, `Close: ${r.error} ${r.message}\n--- daemon log:\n${h.daemonLog().slice(-4000)}`);
    }
    assert.equal(await leftovers(), "");
  });

  it("kill -9 mid-install, then restart: the session is interrupted, nothing leaks, it can start over or be closed", async () => {
    const s = await create();
    const m = await rawJsonRpc(h, "alice", [{ method: "Session.Mount", params: { session: s } }], { waitCompleted: true });
    assert.equal(m.notifications.find((n) => n.method === "Job.Completed")?.params.success, true);
    const i = await gdbus(h, "alice", s, "Session.Install", ["@a{sv} {}"]);
    assert.ok(i.ok, i.message);
    await waitStatus(objectPath(i.out), ["running"]);
    await new Promise((r) => setTimeout(r, 4000)); // mmdebstrap is at work in the mounted root
    assert.notEqual(await leftovers(), "", "the install holds a loop device and a mount");

    await h.stopDaemon("SIGKILL");
    await h.startDaemon();
    assert.equal(await prop(s, "Session", "State"), "interrupted");
    assert.equal(await prop(s, "Session", "CurrentJob"), "/");
    assert.equal(await leftovers(), "", "the restarted daemon released the dead one's loop device and mounts");

    const again = await gdbus(h, "alice", s, "Session.Mount", ["@a{sv} {}"]);
    assert.ok(again.ok, `an interrupted session starts over: ${again.message}`);
    assert.equal(await waitStatus(objectPath(again.out), ["completed", "failed"]), "completed");
    assert.ok((await gdbus(h, "alice", s, "Session.Close", [])).ok);
    assert.equal(await leftovers(), "");
  });
});
