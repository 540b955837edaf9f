// The test harness itself, checked the way the rest of the suite will lean on it: a private system bus,
// a real polkitd that knows our actions, real users whose rights follow the test rules, our D-Bus
// policy enforced by the bus, and the machine-wide lock held while it runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { execa } from "execa";
import { startHarness, ACTIONS, BUS_NAME, type Harness } from "../helpers/harness.js";
import { HARNESS_LOCK } from "../helpers/harness-lock.js";
import { sweepAndRemove, loopsUnder } from "../helpers/harness-sweep.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { makeDaemonCgroup, killCgroup, cgroupPids } from "../helpers/harness-cgroup.js";
import { spawn } from "node:child_process";
import { processStartTime } from "../../daemon/auth/peercred.js";

const PY = "/usr/bin/python3"; // python3 on PATH is a pyenv build without dbus

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.stop({ assertNoLeaks: true });
});

/** pkcheck on the calling process itself (exec keeps $$ the pid pkcheck checks). */
function pkcheckAs(user: string, action: string) {
  return h.runAs(user, "sh", ["-c", `exec pkcheck --action-id ${action} --process $$`]);
}

test("the bus is private: its address is our temp dir, not the machine's socket", () => {
  assert.match(h.busAddress, new RegExp(`^unix:path=${h.dir}/system_bus_socket`));
  assert.notEqual(h.env.DBUS_SYSTEM_BUS_ADDRESS, undefined);
});

test("polkitd knows every imgcreate action", async () => {
  for (const id of ACTIONS) {
    const r = await h.run("pkaction", ["--action-id", id, "--verbose"]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(id.replace(/\./g, "\\.")));
  }
});

test("alice (imgbuilders) may build, open shells and run host scripts, but not manage others", async () => {
  for (const id of ["org.imgcreate.build", "org.imgcreate.shell", "org.imgcreate.run-host-scripts"]) {
    const r = await pkcheckAs("alice", id);
    assert.equal(r.exitCode, 0, `${id}: ${r.stderr}`);
  }
  const r = await pkcheckAs("alice", "org.imgcreate.manage-others");
  assert.notEqual(r.exitCode, 0);
});

test("bob is refused every imgcreate action", async () => {
  for (const id of ACTIONS) {
    const r = await pkcheckAs("bob", id);
    assert.notEqual(r.exitCode, 0, `bob was authorized for ${id}`);
  }
});

test("carol holds manage-others", async () => {
  const r = await pkcheckAs("carol", "org.imgcreate.manage-others");
  assert.equal(r.exitCode, 0, r.stderr);
});

test("CheckAuthorization on a unix-process subject (pid, start-time, uid) answers as the daemon will ask", async () => {
  const check = async (user: "alice" | "bob") => {
    const sleeper = h.spawnAs(user, "sh", ["-c", "echo $$; exec sleep 60"]);
    const [line] = (await once(sleeper.stdout!, "data")) as [Buffer];
    const pid = Number(line.toString().trim());
    const subject = ["unix-process", "3", "pid", "u", String(pid), "start-time", "t", String(processStartTime(pid)), "uid", "i", String(h.users[user].uid)];
    const r = await h.run("busctl", ["--system", "call", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
      "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us", ...subject, "org.imgcreate.build", "0", "0", ""]);
    await h.stopSpawned(sleeper);
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout.trim(); // "(bba{ss}) is_authorized is_challenge details"
  };
  assert.match(await check("alice"), /^\(bba\{ss\}\) true false/);
  assert.match(await check("bob"), /^\(bba\{ss\}\) false true/); // auth_admin_keep: a challenge, no agent: refused
});

/** A stand-in owner of our bus name, run as root with python3-dbus, to see what the bus lets through. */
const IMPOSTOR = `
import dbus, dbus.service, dbus.mainloop.glib, sys
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
name = dbus.service.BusName("${BUS_NAME}", bus)
class Obj(dbus.service.Object):
    @dbus.service.method("org.imgcreate.ImageCreator1.Manager", out_signature="s")
    def Ping(self): return "manager"
    @dbus.service.method("com.example.NotOurs", out_signature="s")
    def Ping2(self): return "other"
o = Obj(bus, "/org/imgcreate/ImageCreator1")
print("ready", flush=True)
GLib.MainLoop().run()
`;

test("the D-Bus policy: only root owns the name; users reach our interfaces and the standard ones, nothing else", async () => {
  const script = join(h.dir, "impostor.py");
  writeFileSync(script, IMPOSTOR);
  const own = await h.runAs("alice", PY, ["-c", `import dbus; print(dbus.SystemBus().request_name("${BUS_NAME}"))`]);
  assert.notEqual(own.exitCode, 0);
  assert.match(own.stderr, /AccessDenied/);

  const server = h.spawnAs("root", PY, [script]);
  try {
    const [ready] = (await once(server.stdout!, "data")) as [Buffer];
    assert.match(ready.toString(), /ready/);
    const call = (iface: string, member: string) =>
      h.runAs("alice", "busctl", ["--system", "call", BUS_NAME, "/org/imgcreate/ImageCreator1", iface, member]);
    const ours = await call("org.imgcreate.ImageCreator1.Manager", "Ping");
    assert.equal(ours.exitCode, 0, ours.stderr);
    assert.match(ours.stdout, /"manager"/);
    const introspect = await call("org.freedesktop.DBus.Introspectable", "Introspect");
    assert.equal(introspect.exitCode, 0, introspect.stderr);
    const other = await call("com.example.NotOurs", "Ping2");
    assert.notEqual(other.exitCode, 0);
    assert.match(other.stderr, /denied|AccessDenied/i);
  } finally {
    await h.stopSpawned(server);
  }
});

test("the machine-wide lock is held while the harness runs", async () => {
  const r = await execa("flock", ["--exclusive", "--nonblock", HARNESS_LOCK, "true"], { reject: false });
  assert.equal(r.exitCode, 1, "another process could take the harness lock");
  await assert.rejects(startHarness(), /already running in this process/);
});

test("the daemon starts, owns the bus name, and stops with nothing left", { skip: !daemonWritten() && "daemon/main.ts does not exist yet" }, async () => {
  await h.startDaemon();
  assert.ok(h.daemonPid);
  const r = await h.runAs("alice", "busctl", ["--system", "status", BUS_NAME]);
  assert.equal(r.exitCode, 0, r.stderr);
  const status = await h.stopDaemon();
  assert.equal(h.daemonPid, undefined);
  assert.ok(status.code === 0 || status.signal === "SIGTERM", `daemon exit: ${JSON.stringify(status)}\n${h.daemonLog()}`);
  await h.startDaemon();
  const killed = await h.stopDaemon("SIGKILL");
  assert.equal(killed.signal, "SIGKILL");
});

test("stop() never deletes through a mount the daemon left behind, and detaches its loop devices", async () => {
  // What a leaked install root looks like: a bind mount (think /dev) and a loop device under the state dir.
  const victim = await makeTmp("sweep-victim");
  const fake = await makeTmp("sweep-harness");
  try {
    writeFileSync(join(victim, "precious"), "keep me");
    const mp = join(fake, "state/sessions/1/root/dev");
    mkdirSync(mp, { recursive: true });
    await execa("mount", ["--bind", victim, mp]);
    const img = join(fake, "state/sessions/1/disk.img");
    writeFileSync(img, Buffer.alloc(1 << 20));
    const dev = (await execa("losetup", ["--find", "--show", img])).stdout.trim();
    const found = sweepAndRemove(fake);
    assert.deepEqual(found.sort(), [`loop ${dev}`, `mount ${mp}`].sort());
    assert.equal(readFileSync(join(victim, "precious"), "utf8"), "keep me");
    assert.equal(existsSync(fake), false);
    assert.deepEqual(loopsUnder(fake), []);
  } finally {
    sweepAndRemove(fake);
    await removeTmp(victim);
  }
});

test("when the daemon's main process dies, what it left running dies too (its cgroup, as KillMode=mixed)", async () => {
  const cg = makeDaemonCgroup("selftest");
  assert.ok(cg, "cgroup2 is not writable here");
  // A stand-in for a daemon with two children; the main process is then SIGKILLed, orphaning them.
  const main = spawn("sh", ["-c", `echo $$ > '${cg}/cgroup.procs'; sleep 300 & sleep 300 & echo started; wait`], { stdio: ["ignore", "pipe", "ignore"] });
  await once(main.stdout!, "data");
  const orphans = cgroupPids(cg).filter((p) => p !== main.pid);
  assert.equal(orphans.length, 2);
  main.kill("SIGKILL");
  await once(main, "exit");
  assert.ok(orphans.every(alive), "the children outlive their parent until the cgroup is killed");
  await killCgroup(cg);
  assert.equal(existsSync(cg), false);
  for (const p of orphans) assert.equal(alive(p), false, `${p} survived`);
});

/** A process counts as gone when it no longer exists or is a zombie (PID 1 here does not reap orphans). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

function daemonWritten(): boolean {
  return existsSync(new URL("../../daemon/main.ts", import.meta.url)) || existsSync(new URL("../../daemon/main.js", import.meta.url));
}
