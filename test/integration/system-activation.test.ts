// D-Bus activation with the shipped activation file: the first call to org.imgcreate.ImageCreator1 by
// an ordinary user starts the daemon as root, it exits by itself when idle (--idle-exit), and the
// next call brings it back. The private bus starts it directly (as dbus-daemon does where systemd
// is not the init system); the Exec= options are the shipped ones, pointed at this checkout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startHarness, BUS_NAME, ROOT_PATH, type Harness } from "../helpers/harness.js";
import { nameHasOwner } from "../helpers/harness-bus.js";
import { waitUntil } from "../helpers/harness-proc.js";

const IDLE_EXIT = 2;
let h: Harness;
before(async () => {
  h = await startHarness({ activation: true, daemonArgs: ["--idle-exit", String(IDLE_EXIT)] });
});
after(async () => {
  await h?.stop({ assertNoLeaks: true });
});

const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
const versionAs = (user: string) =>
  h.runAs(user, "busctl", ["--system", "--timeout=60", "get-property", BUS_NAME, ROOT_PATH, "org.imgcreate.ImageCreator1.Manager", "Version"]);

test("nothing owns the name until someone calls", async () => {
  assert.equal(await nameHasOwner(BUS_NAME, h.env), false);
});

test("alice's first call starts the daemon, as root, and gets an answer", async () => {
  const r = await versionAs("alice");
  assert.equal(r.exitCode, 0, `${r.stderr}\n${readFileSync(h.logs.bus, "utf8")}`);
  assert.match(r.stdout, /^s "\S+"/);
  const pid = await h.activatedDaemonPid();
  assert.ok(pid, "the bus should have started imgcreated");
  assert.equal(uidOf(pid), 0);
});

test(`it exits after ${IDLE_EXIT} idle seconds, and the next call starts it again`, async () => {
  const first = await h.activatedDaemonPid();
  assert.ok(first);
  await waitUntil(async () => !(await nameHasOwner(BUS_NAME, h.env)), { timeoutMs: (IDLE_EXIT + 20) * 1000, what: "idle exit", intervalMs: 100 });
  const r = await versionAs("bob"); // reading a property needs no authorization
  assert.equal(r.exitCode, 0, r.stderr);
  const second = await h.activatedDaemonPid();
  assert.ok(second);
  assert.notEqual(second, first);
});
