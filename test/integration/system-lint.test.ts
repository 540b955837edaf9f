// Lint of the system integration files with the tools that will read them: systemd-analyze, xmllint
// against polkit's and D-Bus's DTDs, a real polkitd (pkaction), systemd-tmpfiles. Each file must also
// agree with the names the API declares (daemon/api/names.ts), so a renamed action or interface
// cannot silently lose its polkit or bus policy.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { startHarness, PROJECT_ROOT, type Harness } from "../helpers/harness.js";
import { ACTIONS, INTERFACES, BUS_NAME } from "../../daemon/api/names.js";
import { fullXml } from "../../daemon/api/introspect.js";

const file = (p: string) => join(PROJECT_ROOT, p);
const UNIT = file("systemd/imgcreated.service");
const ACTIVATION = file("systemd/org.imgcreate.ImageCreator1.service");
const BUSCONF = file("systemd/org.imgcreate.ImageCreator1.conf");
const TMPFILES = file("systemd/imgcreated.conf");
const POLICY = file("polkit/org.imgcreate.policy");
const RULES = file("polkit/org.imgcreate.rules.example");
const STANDARD_IFACES = ["org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Properties", "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.ObjectManager"];

let tmp: string;
before(async () => {
  tmp = await makeTmp("lint");
});
after(async () => {
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

/** Key=value lines of an ini-style file (last one wins), ignoring comments and section headers. */
function iniValues(path: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const kv = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, kv[2]!.trim());
  }
  return m;
}

test("systemd-analyze verify accepts imgcreated.service without a single warning", async () => {
  // verify checks that ExecStart's program exists. It is installed as /usr/local/sbin/imgcreated, a
  // link to bin/imgcreated: point the copy at bin/imgcreated, as install-system.sh does for --prefix.
  const copy = join(tmp, "imgcreated.service");
  writeFileSync(copy, readFileSync(UNIT, "utf8").replaceAll("/usr/local/sbin/imgcreated", file("bin/imgcreated")));
  const r = await execa("systemd-analyze", ["verify", copy], { reject: false });
  assert.equal(r.stderr, "", "systemd-analyze verify warned");
  assert.equal(r.exitCode, 0);
});

test("the unit is a D-Bus service for our name, stopped with KillMode=mixed, with a reason for every setting", () => {
  const v = iniValues(UNIT);
  assert.equal(v.get("Type"), "dbus");
  assert.equal(v.get("BusName"), BUS_NAME);
  assert.equal(v.get("KillMode"), "mixed");
  assert.equal(v.get("PrivateDevices"), "no", "loop and dm devices must stay visible");
  assert.notEqual(v.get("PrivateTmp"), "yes", "a caller's destdir under /tmp must be the real /tmp");
  assert.notEqual(v.get("ProtectHome"), "yes", "a caller's destdir is often in their home");
  // Every hardening setting in [Service] after the Exec line is preceded by a comment saying why.
  const lines = readFileSync(UNIT, "utf8").split("\n");
  const start = lines.findIndex((l) => l.startsWith("# --- Hardening"));
  assert.ok(start > 0, "the hardening block is marked");
  for (let i = start + 1; i < lines.length; i++) {
    if (/^[A-Za-z]+=/.test(lines[i]!)) assert.match(lines[i - 1]!, /^(#|[A-Za-z]+=)/, `no reason above: ${lines[i]}`);
  }
});

test("the D-Bus activation file names the same service, program and options as the unit", () => {
  const a = iniValues(ACTIVATION);
  const u = iniValues(UNIT);
  assert.match(readFileSync(ACTIVATION, "utf8"), /^\[D-BUS Service\]$/m);
  assert.equal(a.get("Name"), BUS_NAME);
  assert.equal(a.get("User"), "root");
  assert.equal(a.get("SystemdService"), "imgcreated.service");
  assert.equal(a.get("Exec"), u.get("ExecStart"));
});

test("the polkit policy is valid against polkit's DTD and declares exactly the API's actions", async () => {
  const r = await execa("xmllint", ["--noout", "--dtdvalid", "/usr/share/polkit-1/policyconfig-1.dtd", POLICY], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const declared = [...readFileSync(POLICY, "utf8").matchAll(/<action id="([^"]+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(declared, Object.values(ACTIONS).sort());
});

test("the D-Bus policy conf is well-formed and opens exactly our interfaces and the standard ones", async () => {
  const r = await execa("xmllint", ["--noout", BUSCONF], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const text = readFileSync(BUSCONF, "utf8");
  const opened = [...text.matchAll(/send_interface="([^"]+)"/g)].map((m) => m[1]).sort();
  assert.deepEqual(opened, [...Object.values(INTERFACES), ...STANDARD_IFACES].sort());
  assert.match(text, /<policy user="root">\s*<allow own="org\.imgcreate\.ImageCreator1"\/>\s*<\/policy>/);
  assert.doesNotMatch(text, /<allow own=.*context="default"|<allow send_destination="org\.imgcreate\.ImageCreator1"\s*\/>/);
});

test("the introspection XML the API generates is valid against D-Bus's introspect.dtd", async () => {
  const xml = join(tmp, "introspect.xml");
  writeFileSync(xml, fullXml());
  const r = await execa("xmllint", ["--noout", "--dtdvalid", "/usr/share/xml/dbus-1/introspect.dtd", xml], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  for (const iface of Object.values(INTERFACES)) assert.match(fullXml(), new RegExp(`<interface name="${iface.replace(/\./g, "\\.")}"`));
});

test("systemd-tmpfiles creates the runtime, state and cache directories with their modes", async () => {
  const root = join(tmp, "root");
  const r = await execa("systemd-tmpfiles", [`--root=${root}`, "--create", TMPFILES], { reject: false });
  assert.equal(r.stderr, "");
  assert.equal(r.exitCode, 0);
  const mode = (p: string) => (statSync(join(root, p)).mode & 0o7777).toString(8);
  assert.equal(mode("run/imgcreated"), "755");
  assert.equal(mode("var/lib/imgcreated"), "711");
  assert.equal(mode("var/cache/imgcreated"), "700");
});

test("a real polkitd loads every action with its defaults, and the example rules grant build (only) to imgbuilders", async () => {
  // The example rules file stands in for the harness's test rules here, so polkitd's own engine judges it.
  let h: Harness | undefined;
  try {
    h = await startHarness({ rules: readFileSync(RULES, "utf8") });
    for (const id of Object.values(ACTIONS)) {
      const r = await h.run("pkaction", ["--action-id", id]);
      assert.equal(r.exitCode, 0, `${id}: ${r.stderr}`);
    }
    const implicitAny = async (id: string) => /implicit any:\s+(\S+)/.exec((await h!.run("pkaction", ["--action-id", id, "--verbose"])).stdout)?.[1];
    assert.equal(await implicitAny(ACTIONS.build), "auth_admin_keep");
    assert.equal(await implicitAny(ACTIONS.shell), "auth_admin_keep");
    assert.equal(await implicitAny(ACTIONS.runHostScripts), "auth_admin_keep");
    assert.equal(await implicitAny(ACTIONS.manageOthers), "auth_admin");
    const pkcheck = (user: string, id: string) => h!.runAs(user, "sh", ["-c", `exec pkcheck --action-id ${id} --process $$`]);
    assert.equal((await pkcheck("alice", ACTIONS.build)).exitCode, 0, "imgbuilders member alice may build");
    assert.notEqual((await pkcheck("alice", ACTIONS.shell)).exitCode, 0, "the example grants nothing but build");
    assert.notEqual((await pkcheck("bob", ACTIONS.build)).exitCode, 0, "bob is not in imgbuilders");
  } finally {
    await h?.stop();
  }
});
