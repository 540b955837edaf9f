// The daemon's life: it refuses to start, with a sentence, when it lacks what it needs, and it leaves on
// its own after --idle-exit seconds with nothing running.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startHarness, PROJECT_ROOT, type Harness } from "../helpers/harness.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { getProperty, MANAGER } from "./service-clients.js";

const FROM_SOURCE = import.meta.url.endsWith(".ts");
const DAEMON = FROM_SOURCE ? ["--import", "tsx", join(PROJECT_ROOT, "daemon/main.ts")] : [join(PROJECT_ROOT, "bin/imgcreated")];

describe("imgcreated starting and stopping", { timeout: 120_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ daemon: true });
  });
  after(async () => {
    await h?.stop();
    assertNoLeaks({ tmp: false });
  });

  const second = (args: string[], user?: string) =>
    user ? h.runAs(user, process.execPath, [...DAEMON, ...args], { timeoutMs: 20_000, cwd: PROJECT_ROOT }) : h.run(process.execPath, [...DAEMON, ...args], { timeoutMs: 20_000, cwd: PROJECT_ROOT });

  it("refuses to run as a normal user", async () => {
    const r = await second(["--bus", "none", "--socket", join(h.dir, "bob.sock")], "bob");
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^imgcreated: .*must run as root/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  });

  it("refuses when another imgcreated owns the bus name", async () => {
    const r = await second(["--bus", "system", "--socket", "none", "--state-dir", join(h.dir, "state2")]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /already owned on this bus/);
  });

  it("refuses when another imgcreated serves the socket", async () => {
    const r = await second(["--bus", "none", "--socket", h.socketPath, "--state-dir", join(h.dir, "state3")]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /already serves/);
  });

  it("refuses nonsense options with a sentence", async () => {
    const r = await second(["--max-jobs", "0"]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /--max-jobs must be a whole number/);
  });

  it("exits by itself after --idle-exit with nothing running, and comes back when started", async () => {
    await h.stopDaemon();
    await h.startDaemon(["--idle-exit", "1"]);
    const status = await h.waitDaemonExit(15_000);
    assert.equal(status.code, 0);
    assert.match(h.daemonLog(), /idle for 1 s/);
    await h.startDaemon();
    assert.match(String(await getProperty(h, "bob", MANAGER, "Manager", "Version")), /^\d/);
  });
});
