// scripts/install-system.sh on this machine for real, the way an admin runs it: the files land where
// systemd, dbus-daemon and polkitd look; the installed unit verifies; a real polkitd with only the
// installed example rules lets imgbuilders build; a second run keeps an edited rules file; uninstall
// removes what install put there. It runs under the harness's machine-wide lock and leaves the machine
// as it found it. If imgcreate is really installed here, it leaves that alone (skips).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, readlinkSync, statSync, readFileSync, writeFileSync, rmdirSync, chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { startHarness, PROJECT_ROOT, type Harness } from "../helpers/harness.js";
import { ensureTestUsers } from "../helpers/users.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { ACTIONS } from "../../daemon/api/names.js";

const SCRIPT = join(PROJECT_ROOT, "scripts/install-system.sh");
const FILES = {
  daemon: "/usr/local/sbin/imgcreated",
  client: "/usr/local/bin/imgcreate",
  unit: "/usr/local/lib/systemd/system/imgcreated.service",
  activation: "/usr/share/dbus-1/system-services/org.imgcreate.ImageCreator1.service",
  busconf: "/usr/share/dbus-1/system.d/org.imgcreate.ImageCreator1.conf",
  policy: "/usr/share/polkit-1/actions/org.imgcreate.policy",
  rules: "/etc/polkit-1/rules.d/50-imgcreate.rules",
  tmpfiles: "/usr/lib/tmpfiles.d/imgcreated.conf",
};
const DIRS = ["/run/imgcreated", "/var/lib/imgcreated", "/var/cache/imgcreated"];
// The policy is left out: a test harness running elsewhere installs it for a while.
const alreadyInstalled = [FILES.daemon, FILES.unit, FILES.activation, FILES.busconf, FILES.tmpfiles].some((f) => existsSync(f) || isLink(f));

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);

/** What the machine had before, so teardown can put it back. */
const before = new Map<string, number | undefined>(DIRS.map((d) => [d, existsSync(d) ? statSync(d).mode & 0o7777 : undefined]));
const results: Record<string, { exitCode: number | undefined; stdout: string; stderr: string }> = {};

async function install(...args: string[]) {
  const r = await execa("bash", [SCRIPT, ...args], { reject: false });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Uninstall, then undo what uninstall deliberately keeps (data dirs, an edited rules file) if we made it. */
async function restoreMachine(): Promise<void> {
  results.uninstall = await install("--uninstall");
  rmSync(FILES.rules, { force: true });
  for (const [dir, m] of before) {
    if (m === undefined && existsSync(dir)) rmdirSync(dir); // empty unless a daemon wrote there meanwhile
    else if (m !== undefined) chmodSync(dir, m);
  }
}

let h: Harness | undefined;
after(async () => {
  if (h) await h.stop({ assertNoLeaks: true });
  else assertNoLeaks({ tmp: false });
});

test("install-system.sh installs, works with real polkitd, keeps an admin's rules, uninstalls cleanly", { skip: alreadyInstalled && "imgcreate is installed on this machine: not touching it" }, async (t) => {
  h = await startHarness({
    rules: "// no test rules: only what install-system.sh installed applies\n",
    setup: async () => {
      results.install = await install();
    },
    teardown: restoreMachine,
  });

  await t.test("the files are where systemd, dbus-daemon and polkitd look", () => {
    assert.equal(results.install!.exitCode, 0, results.install!.stderr);
    assert.equal(readlinkSync(FILES.daemon), join(PROJECT_ROOT, "bin/imgcreated"));
    assert.equal(readlinkSync(FILES.client), join(PROJECT_ROOT, "bin/imgcreate"));
    for (const f of [FILES.unit, FILES.activation, FILES.busconf, FILES.policy, FILES.rules, FILES.tmpfiles]) {
      assert.equal(mode(f), "644", f);
    }
    assert.equal(readFileSync(FILES.policy, "utf8"), readFileSync(join(PROJECT_ROOT, "polkit/org.imgcreate.policy"), "utf8"));
  });

  await t.test("the group and the directories exist with their modes", async () => {
    assert.equal((await execa("getent", ["group", "imgbuilders"], { reject: false })).exitCode, 0);
    assert.equal(mode("/run/imgcreated"), "755");
    assert.equal(mode("/var/lib/imgcreated"), "711"); // searchable: the sandbox's uid reaches its own work dir
    assert.equal(mode("/var/cache/imgcreated"), "700");
  });

  await t.test("the installed unit passes systemd-analyze verify without a warning", async () => {
    const r = await execa("systemd-analyze", ["verify", FILES.unit], { reject: false });
    assert.equal(r.stderr, "");
    assert.equal(r.exitCode, 0);
  });

  await t.test("polkitd with only the installed rules: imgbuilders may build, nothing more; others may not", async () => {
    for (const id of Object.values(ACTIONS)) assert.equal((await h!.run("pkaction", ["--action-id", id])).exitCode, 0, id);
    const pkcheck = (user: string, id: string) => h!.runAs(user, "sh", ["-c", `exec pkcheck --action-id ${id} --process $$`]);
    assert.equal((await pkcheck("alice", ACTIONS.build)).exitCode, 0);
    assert.notEqual((await pkcheck("alice", ACTIONS.manageOthers)).exitCode, 0);
    assert.notEqual((await pkcheck("bob", ACTIONS.build)).exitCode, 0);
  });

  await t.test("a second install keeps the admin's edited rules file", async () => {
    const edited = "// edited by the admin\n";
    writeFileSync(FILES.rules, edited);
    const again = await install();
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(readFileSync(FILES.rules, "utf8"), edited);
  });

  await t.test("uninstall removes every installed file but keeps the admin's rules and the data", async () => {
    const r = await install("--uninstall");
    assert.equal(r.exitCode, 0, r.stderr);
    for (const f of [FILES.daemon, FILES.client, FILES.unit, FILES.activation, FILES.busconf, FILES.policy, FILES.tmpfiles]) {
      assert.ok(!existsSync(f) && !isLink(f), `${f} is still there`);
    }
    assert.ok(existsSync(FILES.rules), "the edited rules file is the admin's");
    assert.ok(existsSync("/var/lib/imgcreated"), "uninstall keeps the state");
  });
});

test("--destdir stages the same layout for packaging, --prefix moves the program and its references", async () => {
  const stage = await makeTmp("install-destdir");
  try {
    const r = await install("--destdir", stage, "--prefix", "/opt/imgcreate");
    assert.equal(r.exitCode, 0, r.stderr);
    const at = (p: string) => join(stage, p);
    assert.equal(readlinkSync(at("/opt/imgcreate/sbin/imgcreated")), join(PROJECT_ROOT, "bin/imgcreated"));
    const unit = readFileSync(at("/opt/imgcreate/lib/systemd/system/imgcreated.service"), "utf8");
    const activation = readFileSync(at(FILES.activation), "utf8");
    for (const text of [unit, activation]) {
      assert.match(text, /\/opt\/imgcreate\/sbin\/imgcreated --bus system/);
      assert.doesNotMatch(text, /\/usr\/local\/sbin/);
    }
    for (const f of [FILES.busconf, FILES.policy, FILES.rules, FILES.tmpfiles]) assert.ok(existsSync(at(f)), f);
    assert.equal(mode(at("/var/lib/imgcreated")), "711");
    const u = await install("--destdir", stage, "--prefix", "/opt/imgcreate", "--uninstall");
    assert.equal(u.exitCode, 0, u.stderr);
    const left = (await execa("find", [stage, "-type", "f", "-o", "-type", "l"])).stdout.trim();
    assert.equal(left, "", "uninstall --destdir left files behind");
  } finally {
    await removeTmp(stage);
  }
});

test("install-system.sh as a non-root user refuses with a sentence", async () => {
  await ensureTestUsers();
  const r = await execa("runuser", ["-u", "bob", "--", "bash", SCRIPT], { reject: false, cwd: "/" });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /run as root/);
});
