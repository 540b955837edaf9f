// The service's API as users see it: real gdbus/busctl/python clients on a private system bus with real
// polkitd, as alice (imgbuilders), bob (nobody special) and carol (may do everything). No image is built here.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { startHarness, type Harness, BUS_NAME } from "../helpers/harness.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { MANAGER, gdbus, getProperty, kickstartArgs, objectPath, rawJsonRpc } from "./service-clients.js";

const KS = `lang C.UTF-8
keyboard us
timezone UTC
part / --size 512 --fstype ext4
bootloader --location=none
%packages
%end
`;
const ERR = `${BUS_NAME}.Error.`;
// Here imgbuilders may build and open shells but not run host scripts or use the network; carol may do
// everything. The network is refused outright (NO, not NOT_HANDLED): an installed example rules file,
// read after this one, would grant it to imgbuilders.
const RULES = `polkit.addRule(function (action, subject) {
  if (action.id.indexOf("org.imgcreate.") !== 0) return polkit.Result.NOT_HANDLED;
  if (subject.user === "carol") return polkit.Result.YES;
  if (action.id === "org.imgcreate.network") return polkit.Result.NO;
  if (subject.isInGroup("imgbuilders") && (action.id === "org.imgcreate.build" || action.id === "org.imgcreate.shell")) return polkit.Result.YES;
  return polkit.Result.NOT_HANDLED;
});
`;

describe("imgcreated API (D-Bus and JSON-RPC)", { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ daemon: true, rules: RULES });
  });
  after(async () => {
    await h?.stop();
    assertNoLeaks({ tmp: false });
  });

  it("introspection of every object is valid XML against the D-Bus DTD and lists our interfaces", async () => {
    const r = await h.runAs("bob", "gdbus", ["introspect", "--system", "--dest", BUS_NAME, "--object-path", MANAGER, "--xml"]);
    assert.equal(r.exitCode, 0, r.stderr);
    for (const i of ["Manager", "org.freedesktop.DBus.ObjectManager", "org.freedesktop.DBus.Properties"]) assert.match(r.stdout, new RegExp(`interface name="[^"]*${i}"`));
    const lint = await execa("xmllint", ["--noout", "--dtdvalid", "/usr/share/xml/dbus-1/introspect.dtd", "-"], { input: r.stdout, reject: false });
    assert.equal(lint.exitCode, 0, lint.stderr);
    const tree = await h.runAs("bob", "busctl", ["--system", "tree", BUS_NAME]);
    assert.match(tree.stdout, /\/org\/imgcreate\/ImageCreator1/);
  });

  it("anyone can read Version and Features", async () => {
    assert.match(String(await getProperty(h, "bob", MANAGER, "Manager", "Version")), /^\d+\.\d+/);
    const features = (await getProperty(h, "bob", MANAGER, "Manager", "Features")) as string[];
    assert.ok(Array.isArray(features));
    if (existsSync("/dev/kvm")) assert.ok(features.includes("kvm"));
    assert.ok(features.includes("apt"), `mmdebstrap is installed, Features: ${features.join(",")}`);
  });

  it("bob may not create a session: NotAuthorized on D-Bus and on the socket", async () => {
    const r = await gdbus(h, "bob", MANAGER, "Manager.CreateSession", kickstartArgs(KS));
    assert.equal(r.error, ERR + "NotAuthorized", r.message);
    assert.doesNotMatch(r.message ?? "", /\bat .*\.js:\d+/, "no stack trace");
    const j = await rawJsonRpc(h, "bob", [{ method: "Manager.CreateSession", params: { kickstart: KS } }]);
    assert.equal(j.results[0]!.error?.data?.name, ERR + "NotAuthorized");
  });

  it("bad arguments of every kind are InvalidArgs, before polkit is asked", async () => {
    const cases: [string, string[]][] = [
      ["unknown option", kickstartArgs(KS, "@a{sv} {'colour': <'red'>}")],
      ["option of the wrong type", kickstartArgs(KS, "@a{sv} {'name': <42>}")],
      ["option outside its values", kickstartArgs(KS, "@a{sv} {'type': <'floppy'>}")],
      ["name with a slash", kickstartArgs(KS, "@a{sv} {'name': <'../etc'>}")],
      ["empty kickstart", kickstartArgs("")],
      ["kickstart with an unknown command", kickstartArgs("bogus-command --now\n")],
    ];
    for (const [what, args] of cases) {
      for (const user of ["alice", "bob"]) {
        const r = await gdbus(h, user, MANAGER, "Manager.CreateSession", args);
        assert.equal(r.error, ERR + "InvalidArgs", `${what} as ${user}: ${r.error} ${r.message}`);
      }
    }
    const ks = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs("lang C.UTF-8\nbogus-command --now\n"));
    assert.match(ks.message ?? "", /:2: .*bogus-command/, "kickstart errors carry FILE:LINE");
    // A wrong D-Bus signature (busctl sends what it is told; gdbus would refuse locally).
    const sig = await h.runAs("alice", "busctl", ["--system", "call", BUS_NAME, MANAGER, `${BUS_NAME}.Manager`, "CreateSession", "s", "x"]);
    assert.notEqual(sig.exitCode, 0);
    assert.match(sig.stderr, /takes \(sa\{ss\}a\{sv\}\)/);
    // JSON-RPC: positional params, a missing one, an unknown one, a wrong type.
    const j = await rawJsonRpc(h, "alice", [
      { method: "Manager.CreateSession", params: { kickstart: 5 } },
      { method: "Manager.CreateSession", params: {} },
      { method: "Manager.CreateSession", params: { kickstart: KS, colour: "red" } },
      { method: "Session.Mount", params: { session: "nosuchsession" } },
    ]);
    for (const r of j.results) assert.equal(r.error?.data?.name, ERR + "InvalidArgs", JSON.stringify(r));
    assert.equal(j.results[0]!.error?.code, -32602);
  });

  it("a kickstart with %post --nochroot needs org.imgcreate.run-host-scripts", async () => {
    const ks = KS + "%post --nochroot\necho on the host\n%end\n";
    const a = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs(ks));
    assert.equal(a.error, ERR + "NotAuthorized", a.message);
    assert.match(a.message ?? "", /run-host-scripts/);
    const c = await gdbus(h, "carol", MANAGER, "Manager.CreateSession", kickstartArgs(ks));
    assert.ok(c.ok, c.message);
    assert.ok((await gdbus(h, "carol", objectPath(c.out), "Session.Close", [])).ok);
  });

  it("a kickstart asking %post for the network needs org.imgcreate.network", async () => {
    const ks = KS + "%addon org_imgcreate --network=outbound\n%end\n";
    const a = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs(ks));
    assert.equal(a.error, ERR + "NotAuthorized", a.message);
    assert.match(a.message ?? "", /org\.imgcreate\.network/);
    const c = await gdbus(h, "carol", MANAGER, "Manager.CreateSession", kickstartArgs(ks));
    assert.ok(c.ok, c.message);
    assert.ok((await gdbus(h, "carol", objectPath(c.out), "Session.Close", [])).ok);
  });

  it("a file:// repository in a 0700 directory is refused at CreateSession with why and what to change, after polkit", async () => {
    const top = await makeTmp("api-repo");
    try {
      await chmod(top, 0o755);
      const dir = join(top, "repo");
      await mkdir(dir, { mode: 0o700 });
      const ks = `repo --name=local --baseurl=file://${dir}\n` + KS;
      const a = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs(ks));
      assert.equal(a.error, ERR + "InvalidArgs", a.message);
      assert.match(a.message ?? "", new RegExp(`:1: repo "local": imgcreated reads file://${dir} as root, .*: ${dir} is mode 0700: not readable by every user\\. Fix: chmod a\\+rX ${dir} .*or serve it over http`));
      // bob may not create sessions: he learns nothing about the path.
      assert.equal((await gdbus(h, "bob", MANAGER, "Manager.CreateSession", kickstartArgs(ks))).error, ERR + "NotAuthorized");
    } finally {
      await removeTmp(top);
    }
  });

  describe("with sessions", () => {
    let alices = "";
    let carols = "";
    before(async () => {
      const a = await gdbus(h, "alice", MANAGER, "Manager.CreateSession", kickstartArgs(KS, "@a{sv} {'name': <'alice-img'>}"));
      assert.ok(a.ok, `alice creates a session: ${a.error} ${a.message}`);
      alices = objectPath(a.out);
      const c = await gdbus(h, "carol", MANAGER, "Manager.CreateSession", kickstartArgs(KS));
      assert.ok(c.ok, `carol creates a session: ${c.error} ${c.message}`);
      carols = objectPath(c.out);
    });

    it("a new session belongs to its creator and is created, with its files under the state dir", async () => {
      assert.equal(await getProperty(h, "alice", alices, "Session", "Owner"), h.users.alice.uid);
      assert.equal(await getProperty(h, "alice", alices, "Session", "State"), "created");
      assert.equal(await getProperty(h, "alice", alices, "Session", "Name"), "alice-img");
      assert.equal(await getProperty(h, "alice", alices, "Session", "CurrentJob"), "/");
      const id = alices.split("/").pop()!;
      assert.ok(existsSync(join(h.stateDir, "sessions", id, "session.json")));
    });

    it("ListSessions shows alice her own sessions only; ObjectManager lists them all", async () => {
      const r = await gdbus(h, "alice", MANAGER, "Manager.ListSessions", []);
      assert.ok(r.ok, r.message);
      assert.ok(r.out.includes(alices) && !r.out.includes(carols), r.out);
      const om = await gdbus(h, "alice", MANAGER, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", []);
      assert.ok(om.ok && om.out.includes(alices) && om.out.includes(carols), om.out);
    });

    it("stages in the wrong order are InvalidState", async () => {
      for (const m of ["Install", "Configure", "Unmount"]) {
        const r = await gdbus(h, "alice", alices, `Session.${m}`, ["@a{sv} {}"]);
        assert.equal(r.error, ERR + "InvalidState", `${m}: ${r.error} ${r.message}`);
        assert.match(r.message ?? "", /created/);
      }
      const p = await gdbus(h, "alice", alices, "Session.Package", ["'/tmp'", "@a{sv} {}"]);
      assert.equal(p.error, ERR + "InvalidState");
      const j = await rawJsonRpc(h, "alice", [{ method: "Session.Install", params: { session: alices } }]);
      assert.equal(j.results[0]!.error?.data?.name, ERR + "InvalidState");
      assert.equal(await getProperty(h, "alice", alices, "Session", "State"), "created");
    });

    it("alice cannot drive or close carol's session: NotOwner", async () => {
      for (const [m, args] of [["Mount", ["@a{sv} {}"]], ["Close", []], ["Install", ["@a{sv} {}"]]] as const) {
        const r = await gdbus(h, "alice", carols, `Session.${m}`, [...args]);
        assert.equal(r.error, ERR + "NotOwner", `${m}: ${r.error} ${r.message}`);
      }
      const j = await rawJsonRpc(h, "alice", [{ method: "Session.Close", params: { session: carols } }]);
      assert.equal(j.results[0]!.error?.data?.name, ERR + "NotOwner");
      assert.equal(await getProperty(h, "carol", carols, "Session", "State"), "created");
    });

    it("bob gets NotAuthorized on anyone's session", async () => {
      const r = await gdbus(h, "bob", alices, "Session.Mount", ["@a{sv} {}"]);
      assert.equal(r.error, ERR + "NotAuthorized");
    });

    it("JSON-RPC mirrors D-Bus: properties of the manager and of a session", async () => {
      const j = await rawJsonRpc(h, "alice", [
        { method: "Manager.GetProperties" },
        { method: "Session.GetProperties", params: { session: alices } },
        { method: "Manager.ListSessions" },
      ]);
      const [m, s, l] = j.results;
      assert.match(String((m!.result as { Version: string }).Version), /^\d/);
      assert.equal((s!.result as { Owner: number }).Owner, h.users.alice.uid);
      assert.deepEqual(l!.result, [alices]);
    });

    it("GetLog gives alice her session's log so far; carol's is NotOwner to her, and bob is NotAuthorized", async () => {
      const r = await gdbus(h, "alice", alices, "Session.GetLog", ["@a{sv} {}"]);
      assert.ok(r.ok, r.message);
      assert.match(r.out, new RegExp(`session created by uid ${h.users.alice.uid}: type \\w+, name alice-img`));
      const j = await rawJsonRpc(h, "alice", [
        { method: "Session.GetLog", params: { session: alices, options: { lines: 1 } } },
        { method: "Session.GetLog", params: { session: carols } },
      ]);
      const last = j.results[0]!.result as string[];
      assert.equal(last.length, 1, JSON.stringify(j.results[0]));
      assert.equal(j.results[1]!.error?.data?.name, ERR + "NotOwner");
      const c = await gdbus(h, "alice", carols, "Session.GetLog", ["@a{sv} {}"]);
      assert.equal(c.error, ERR + "NotOwner", c.message);
      const b = await gdbus(h, "bob", alices, "Session.GetLog", ["@a{sv} {}"]);
      assert.equal(b.error, ERR + "NotAuthorized", b.message);
    });

    it("a destdir alice cannot write is refused before anything runs", async () => {
      // /root is not hers; the session is created, so the state is fine for Create.
      const r = await gdbus(h, "alice", alices, "Session.Create", ["'/root'", "@a{sv} {}"]);
      assert.equal(r.error, ERR + "InvalidArgs", r.message);
      assert.equal(await getProperty(h, "alice", alices, "Session", "CurrentJob"), "/");
    });

    it("Close removes the session, its object and its files", async () => {
      const id = alices.split("/").pop()!;
      const r = await gdbus(h, "alice", alices, "Session.Close", []);
      assert.ok(r.ok, r.message);
      assert.equal(existsSync(join(h.stateDir, "sessions", id)), false);
      const again = await gdbus(h, "alice", alices, "Session.Close", []);
      assert.equal(again.error, "org.freedesktop.DBus.Error.UnknownObject");
      const c = await gdbus(h, "carol", carols, "Session.Close", []);
      assert.ok(c.ok, c.message);
    });
  });
});
