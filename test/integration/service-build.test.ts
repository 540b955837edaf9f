// A real build through the service as alice: a python3-dbus client (not ours) creates a "loop" session from a
// minbase kickstart and drives it stage by stage, watching PropertiesChanged/LogMessage/Completed, opens a
// shell in the install root by fd passing, and gets the artifact written into her own directory as her.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chownSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { BUILD_KS, PY, rawJsonRpc } from "./service-clients.js";


// Drives a session over D-Bus. argv: kickstart file, destdir. Prints one JSON object: per step its job,
// the signals seen for that job, and the shell's output.
const DRIVER = String.raw`
import dbus, json, os, select, subprocess, sys, time
import dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
B = "org.imgcreate.ImageCreator1"
bus = dbus.SystemBus()
events = []
def on_signal(*args, **kw):
    events.append({"member": kw["member"], "path": str(kw["path"]), "args": [bool(a) if isinstance(a, dbus.Boolean) else int(a) if isinstance(a, int) else str(a) for a in args], "t": time.time()})
    if kw["member"] == "Completed" and kw["path"] == waiting[0]:
        loop.quit()
bus.add_signal_receiver(on_signal, bus_name=B, member_keyword="member", path_keyword="path")
bus.add_signal_receiver(on_signal, bus_name=B, signal_name="PropertiesChanged", dbus_interface="org.freedesktop.DBus.Properties", member_keyword="member", path_keyword="path")
loop = GLib.MainLoop()
waiting = [None]
mgr = dbus.Interface(bus.get_object(B, "/org/imgcreate/ImageCreator1"), B + ".Manager")
ks = open(sys.argv[1]).read()
path = mgr.CreateSession(ks, dbus.Dictionary({}, signature="ss"), dbus.Dictionary({"name": "svc-test", "type": "loop"}, signature="sv"))
sess = dbus.Interface(bus.get_object(B, path), B + ".Session")
props = dbus.Interface(bus.get_object(B, path), "org.freedesktop.DBus.Properties")
out = {"session": str(path), "steps": []}
def run(name, *args):
    job = getattr(sess, name)(*args, dbus.Dictionary({}, signature="sv"))
    waiting[0] = str(job)
    GLib.timeout_add_seconds(900, loop.quit)
    loop.run()
    mine = [e for e in events if e["path"] == str(job)]
    done = [e for e in mine if e["member"] == "Completed"]
    out["steps"].append({"name": name, "job": str(job), "completed": done[-1]["args"] if done else None, "state": str(props.Get(B + ".Session", "State")),
        "logs": [e["args"][1] for e in mine if e["member"] == "LogMessage"], "changes": sum(1 for e in mine if e["member"] == "PropertiesChanged"),
        "loops": subprocess.run(["losetup", "--list", "--noheadings", "--output", "BACK-FILE"], capture_output=True, text=True).stdout})
    return bool(done and done[-1]["args"][0])
def shell():
    fd = sess.OpenShell(dbus.Array(["/bin/sh", "-c", "echo shell-says-$((6*7)); id -u"], signature="s"), dbus.Dictionary({}, signature="sv")).take()
    data, end = b"", time.time() + 60
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 1)
        if not r: continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk: break
        data += chunk
    os.close(fd)
    out["shell"] = data.decode(errors="replace")
def rpc_shell():
    import base64, socket
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[3]); f = s.makefile("rwb")
    f.write((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Session.OpenShell", "params": {"session": str(path), "argv": ["/bin/sh", "-c", "read x; echo rpc-got-$x"]}}) + "\n").encode()); f.flush()
    data, shell_id = b"", None
    while True:
        m = json.loads(f.readline())
        if m.get("id") == 1:
            if "error" in m: out["rpc_shell_error"] = m["error"]; return
            shell_id = m["result"]
            f.write((json.dumps({"jsonrpc": "2.0", "id": 2, "method": "Session.ShellInput", "params": {"session": str(path), "shell": shell_id, "data": base64.b64encode(b"forty-two\n").decode()}}) + "\n").encode()); f.flush()
        elif m.get("method") == "Shell.Output": data += base64.b64decode(m["params"]["data"])
        elif m.get("method") == "Shell.Exited": out["rpc_shell_status"] = m["params"]["status"]; break
    out["rpc_shell"] = data.decode(errors="replace")
    s.close()
ok = run("Mount") and run("Install")
if ok:
    shell()
    rpc_shell()
    ok = run("Configure") and run("Unmount") and run("Package", sys.argv[2])
out["artifacts"] = [str(a) for a in props.Get(B + ".Session", "Artifacts")]
print(json.dumps(out))
`;

interface DriverOut {
  session: string;
  steps: { name: string; job: string; completed: [boolean, string, string] | null; state: string; logs: string[]; changes: number; loops: string }[];
  shell?: string;
  rpc_shell?: string;
  rpc_shell_status?: number;
  rpc_shell_error?: unknown;
  artifacts: string[];
}

describe("a full build through the service, as alice", { timeout: 1_500_000 }, () => {
  let h: Harness;
  let out: DriverOut;
  let destdir = "";
  before(async () => {
    h = await startHarness({ daemon: true });
    destdir = join(h.dir, "alice-out");
    mkdirSync(destdir, { mode: 0o700 });
    chownSync(destdir, h.users.alice.uid, h.users.alice.gid);
    const ksFile = join(destdir, "small.ks");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(ksFile, BUILD_KS);
    chownSync(ksFile, h.users.alice.uid, h.users.alice.gid);
    const r = await h.runAs("alice", PY, ["-c", DRIVER, ksFile, destdir, h.socketPath], { timeoutMs: 1_400_000 });
    assert.equal(r.exitCode, 0, `driver failed: ${r.stderr}\n--- daemon log:\n${h.daemonLog().slice(-3000)}`);
    out = JSON.parse(r.stdout) as DriverOut;
  });
  after(async () => {
    await h?.stop();
    assertNoLeaks({ tmp: false });
  });

  it("every stage completes in order and the session ends packaged", () => {
    assert.deepEqual(
      out.steps.map((s) => [s.name, s.completed?.[0], s.state]),
      [
        ["Mount", true, "mounted"],
        ["Install", true, "installed"],
        ["Configure", true, "configured"],
        ["Unmount", true, "unmounted"],
        ["Package", true, "packaged"],
      ],
      JSON.stringify(out.steps.map((s) => s.completed)),
    );
  });

  it("progress and log lines reach the client as signals", () => {
    const install = out.steps.find((s) => s.name === "Install")!;
    assert.ok(install.changes >= 2, `PropertiesChanged for the install job: ${install.changes}`);
    assert.ok(install.logs.length > 0, "LogMessage during install");
    const configure = out.steps.find((s) => s.name === "Configure")!;
    assert.ok(configure.logs.some((l) => l.includes("post-from-service-test 42")), `the %post output: ${configure.logs.join(" | ").slice(0, 2000)}`);
  });

  it("OpenShell hands alice a pty running inside the install root (as root there)", () => {
    assert.match(out.shell ?? "", /shell-says-42/);
    assert.match(out.shell ?? "", /^0\s*$/m);
  });

  it("over JSON-RPC the shell streams: input by ShellInput, output by Shell.Output, then Shell.Exited", () => {
    assert.match(out.rpc_shell ?? JSON.stringify(out.rpc_shell_error), /rpc-got-forty-two/);
    assert.equal(out.rpc_shell_status, 0);
  });

  it("the artifact is in alice's directory and belongs to her", () => {
    assert.ok(out.artifacts.length > 0, "Artifacts property lists what was written");
    for (const a of out.artifacts) {
      assert.ok(a.startsWith(destdir + "/"), a);
      const st = statSync(a);
      assert.equal(st.uid, h.users.alice.uid, `${a} owner`);
      assert.ok(st.size > 0);
    }
    assert.ok(readdirSync(destdir).length >= 2);
  });

  it("nothing of the session stays attached or mounted after the build", async () => {
    const close = await rawJsonRpc(h, "alice", [{ method: "Session.Close", params: { session: out.session } }]);
    assert.equal(close.results[0]!.error, undefined, JSON.stringify(close.results[0]));
    assert.equal(existsSync(join(h.stateDir, "sessions", out.session.split("/").pop()!)), false);
    const r = await h.run("losetup", ["--list", "--noheadings", "--output", "BACK-FILE"]);
    assert.doesNotMatch(r.stdout, new RegExp(h.stateDir), "no loop device of the session after Close");
    const mounts = await h.run("cat", ["/proc/self/mountinfo"]);
    assert.doesNotMatch(mounts.stdout, new RegExp(h.stateDir), "no mount of the session after Close");
  });
});
