// imgcreate-gtk, the GNOME frontend, driven as a person would drive it: under Xvfb with the real
// daemon, bus and polkitd, alice opens a kickstart with the app, picks "Disk image", presses Build
// and watches her session go through the stages; the test reads what the window shows through the
// accessibility tree (AT-SPI, test/helpers/a11y.py) and keeps a screenshot of each screen under
// test-artifacts/gtk/. A kickstart with an error shows FILE:LINE in the window; bob, who may not
// build and has no polkit agent, sees the refusal as a sentence. With a polkit agent registered for
// his app (test/helpers/polkit-agent.py, speaking polkit's agent protocol), bob's Create session is
// answered by an administrator (carol) and works, or is dismissed and shows the refusal.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startHarness, PROJECT_ROOT, TEST_RULES, type Harness } from "../helpers/harness.js";
import { userDir, writeSmallKs, writeUserFile } from "./client-cli.js";

const APP = join(PROJECT_ROOT, "bin/imgcreate-gtk");
const A11Y = join(PROJECT_ROOT, "test/helpers/a11y.py");
const AGENT = join(PROJECT_ROOT, "test/helpers/polkit-agent.py");
/** The test's rules, and carol as the administrator polkit asks for (auth_admin) instead of the sudo group. */
const RULES = `${TEST_RULES}
polkit.addAdminRule(function (action, subject) {
  return action.id.indexOf("org.imgcreate.") === 0 ? ["unix-user:carol"] : null;
});
`;
const SHOTS = join(PROJECT_ROOT, "test-artifacts/gtk");
const skip = existsSync("/usr/bin/gjs") && existsSync("/usr/bin/Xvfb") ? false : "needs gjs and Xvfb (scripts/setup.sh installs them)";

interface A11yNode {
  role: string;
  name: string;
  sensitive: boolean;
  value?: number;
  children?: A11yNode[];
}

const flat = (n: A11yNode): A11yNode[] => [n, ...(n.children ?? []).flatMap(flat)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An X server without a screen and a session bus for one user: one process group, stopped as one. */
class Desktop {
  private constructor(
    readonly user: "alice" | "bob",
    readonly env: Record<string, string>,
    private readonly child: ChildProcess,
    private readonly pgid: number,
    private readonly display: number,
  ) {}

  static async start(h: Harness, user: "alice" | "bob", dir: string): Promise<Desktop> {
    let display = 90;
    while (existsSync(`/tmp/.X11-unix/X${display}`) || existsSync(`/tmp/.X${display}-lock`)) display++;
    const bus = join(dir, "session-bus");
    const script = `echo $$; Xvfb :${display} -screen 0 1100x900x24 -nolisten tcp -ac 2>/dev/null &
      dbus-daemon --session --address=unix:path=${bus} --nofork --nopidfile 2>/dev/null & wait`;
    const child = spawn("runuser", ["-u", user, "--", "setsid", "-w", "sh", "-c", script], { stdio: ["ignore", "pipe", "inherit"] });
    const pgid = await new Promise<number>((resolve, reject) => {
      child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once("exit", () => reject(new Error("the desktop script ended at once")));
    });
    child.stdout!.resume();
    for (let i = 0; i < 100 && !(existsSync(`/tmp/.X11-unix/X${display}`) && existsSync(bus)); i++) await sleep(100);
    const env = {
      DISPLAY: `:${display}`, DBUS_SESSION_BUS_ADDRESS: `unix:path=${bus}`, DBUS_SYSTEM_BUS_ADDRESS: h.busAddress,
      GSETTINGS_BACKEND: "memory", LANG: "C.UTF-8", NO_AT_BRIDGE: "0",
    };
    return new Desktop(user, env, child, pgid, display);
  }

  /**
   * Everything the desktop started (X, the buses, AT-SPI's helpers they activated) ends with its group;
   * what left the group (AT-SPI's launcher daemonizes) is the user's too, and is stopped by its pid.
   */
  async stop(uid: number): Promise<void> {
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once("exit", () => r())));
    const groupLeft = () => {
      try {
        process.kill(-this.pgid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      try {
        process.kill(-this.pgid, sig);
      } catch {
        break; // the group is gone
      }
      // Until the whole group is gone, not only the shell: Xvfb removes its socket and lock on SIGTERM.
      await Promise.race([exited, sleep(5000)]);
      for (let i = 0; i < 50 && groupLeft(); i++) await sleep(100);
    }
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      for (const pid of processesOf(uid).map((p) => Number(p.split(" ")[0]))) {
        try {
          process.kill(pid, sig);
        } catch {
          // gone meanwhile
        }
      }
      for (let i = 0; i < 30 && processesOf(uid).length > 0; i++) await sleep(100);
    }
    // A killed X server leaves them; the next free display is found by them.
    for (const f of [`/tmp/.X11-unix/X${this.display}`, `/tmp/.X${this.display}-lock`]) rmSync(f, { force: true });
  }

  screenshot(h: Harness, name: string): Promise<unknown> {
    mkdirSync(SHOTS, { recursive: true });
    return h.runAs("root", "import", ["-display", this.env.DISPLAY!, "-window", "root", join(SHOTS, `${name}.png`)], { timeoutMs: 20_000 });
  }
}

/** Processes of a user still running (there must be none after a test). */
function processesOf(uid: number): string[] {
  const out: string[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (statSync(`/proc/${d}`).uid !== uid) continue;
      out.push(`${d} ${readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

let h: Harness;
let home = "";
const desktops: Desktop[] = [];
const apps: ChildProcess[] = [];
const agents: ChildProcess[] = [];

before(async () => {
  if (skip) return;
  h = await startHarness({ daemon: true, rules: RULES });
  home = userDir(h, "alice", "gtk");
  writeSmallKs(home, "small.ks");
  // The error is in an %include: the app reads it through Gio as alice and names that file's line.
  writeUserFile(join(home, "broken.ks"), "lang C.UTF-8\ntimezone UTC\n%include parts/extra.ks\n");
  mkdirSync(join(home, "parts"));
  chownSync(join(home, "parts"), h.users.alice.uid, h.users.alice.gid);
  writeUserFile(join(home, "parts/extra.ks"), "# more settings\nfrobnicate --now\n");
});

after(async () => {
  if (skip) return;
  for (const a of apps) await h.stopSpawned(a);
  for (const a of agents) await stopAgent(a);
  for (const d of desktops) await d.stop(h.users[d.user].uid);
  const left = [h.users.alice.uid, h.users.bob.uid].flatMap(processesOf);
  await h.stop({ assertNoLeaks: true });
  assert.deepEqual(left, [], "no process of the test users is left");
});

/** The user's desktop the tests share (started on first use, stopped in after()). */
async function desktopFor(user: "alice" | "bob", dir: string): Promise<Desktop> {
  let d = desktops.find((x) => x.user === user);
  if (!d) desktops.push((d = await Desktop.start(h, user, dir)));
  return d;
}

async function startApp(d: Desktop, cwd: string, args: string[]): Promise<ChildProcess> {
  // One app at a time (a11y.py finds it by name): an earlier test that failed may have left its own.
  for (const a of apps) await h.stopSpawned(a);
  const app = h.spawnAs(d.user, APP, args, { env: d.env, cwd });
  apps.push(app);
  let stderr = "";
  // What the app says goes with the screenshots (GJS prints a JavaScript error there before it exits).
  mkdirSync(SHOTS, { recursive: true });
  const log = join(SHOTS, `app-${d.user}-${apps.length}.log`);
  writeFileSync(log, "");
  app.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
    appendFileSync(log, b);
  });
  app.stdout!.resume();
  // Until the window is in the accessibility tree.
  for (let i = 0; i < 150; i++) {
    if ((await dump(d).catch(() => undefined)) !== undefined) return app;
    if (app.exitCode !== null) break;
    await sleep(200);
  }
  throw new Error(`imgcreate-gtk did not show a window: ${stderr}`);
}

async function dump(d: Desktop): Promise<A11yNode[]> {
  const r = await h.runAs(d.user, "/usr/bin/python3", [A11Y, "imgcreate-gtk", "dump"], { env: d.env, timeoutMs: 20_000 });
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return flat(JSON.parse(r.stdout) as A11yNode);
}

async function click(d: Desktop, role: string, name: string): Promise<void> {
  const r = await h.runAs(d.user, "/usr/bin/python3", [A11Y, "imgcreate-gtk", "click", role, name], { env: d.env, timeoutMs: 20_000 });
  assert.equal(r.exitCode, 0, r.stderr);
}

async function waitFor(d: Desktop, what: string, ok: (nodes: A11yNode[]) => boolean, timeoutMs: number, each?: (nodes: A11yNode[]) => void): Promise<A11yNode[]> {
  const end = Date.now() + timeoutMs;
  let last: A11yNode[] = [];
  let failure = "";
  while (Date.now() < end) {
    try {
      last = await dump(d);
    } catch (err) {
      // The accessibility bus may answer for a widget that has just gone (a row, a window): ask again.
      failure = String(err);
      await sleep(300);
      continue;
    }
    each?.(last);
    if (ok(last)) return last;
    await sleep(300);
  }
  throw new Error(`the window never showed ${what}; it shows: ${last.map((n) => `${n.role} "${n.name}"`).join(", ")}${failure && `; the last failed look: ${failure}`}`);
}

const labels = (nodes: A11yNode[]) => nodes.filter((n) => n.role === "label").map((n) => n.name);

test("alice builds a disk image from the window: stages, a moving progress bar, the artifact hers, Close removes the session", { skip, timeout: 900_000 }, async () => {
  const d = await desktopFor("alice", home);
  const app = await startApp(d, home, [join(home, "small.ks")]);
  let nodes = await waitFor(d, "the Build button", (n) => n.some((x) => x.role === "push button" && x.name === "Build" && x.sensitive), 30_000);
  assert.ok(labels(nodes).includes(join(home, "small.ks")), "New build shows the chosen kickstart");
  // GTK 4.8 gives AT-SPI neither an entry's text nor the toggle role: the image name is checked by the
  // artifact's name (small.img), and "Disk image" is a push button that stays pressed.
  await click(d, "push button", "Disk image");
  await d.screenshot(h, "1-new-build");
  await click(d, "push button", "Build");

  const fractions: number[] = [];
  const states = new Set<string>();
  let shotDuringBuild = false;
  nodes = await waitFor(d, "a packaged session with its artifact", (n) => labels(n).some((l) => l.startsWith("Written: ")), 840_000, (n) => {
    for (const l of labels(n)) if (l.startsWith("State: ")) states.add(l);
    for (const b of n.filter((x) => x.role === "progress bar" && typeof x.value === "number")) fractions.push(b.value!);
    if (!shotDuringBuild && fractions.some((f) => f > 0.2)) {
      shotDuringBuild = true;
      void d.screenshot(h, "2-building");
    }
  });
  await d.screenshot(h, "3-done");
  assert.ok(labels(nodes).includes("State: packaged"), labels(nodes).join(" | "));
  // Build runs the stages as one job ("create"): the state moves under it. Which states the window is
  // caught in depends on when the tree is read (a cached install is "installed" for a moment only), so
  // the check is that it moved, not through which.
  const running = [...states].filter((s) => / — create running$/.test(s));
  assert.ok(running.length >= 2, `the states were shown while building: ${[...states].join(", ")}`);
  assert.ok(fractions.some((f) => f > 0) && new Set(fractions).size > 2, `the progress bar moved: ${fractions.join(" ")}`);
  const artifact = join(home, "small.img");
  assert.ok(labels(nodes).includes(`Written: ${artifact}`), labels(nodes).join(" | "));
  assert.equal(statSync(artifact).uid, h.users.alice.uid, "the image belongs to alice");

  await click(d, "push button", "Close session");
  await waitFor(d, "the empty list", (n) => labels(n).some((l) => l.startsWith("No sessions yet")), 60_000);
  await h.stopSpawned(app);
});

test("a kickstart with an error in its %include shows that FILE:LINE in the window and cannot be built", { skip, timeout: 120_000 }, async () => {
  const d = await desktopFor("alice", home);
  const app = await startApp(d, home, [join(home, "broken.ks")]);
  const nodes = await waitFor(d, "the kickstart's error", (n) => labels(n).some((l) => /parts\/extra\.ks:2: error: .*frobnicate/.test(l)), 30_000);
  assert.equal(nodes.find((n) => n.role === "push button" && n.name === "Build")?.sensitive, false, "Build is not offered");
  await d.screenshot(h, "4-kickstart-error");
  await h.stopSpawned(app);
});

test("the window follows a daemon restart (away, then back with alice's session, without restarting the app), and Cancel stops a running job", { skip, timeout: 120_000 }, async () => {
  const d = await desktopFor("alice", home);
  const app = await startApp(d, home, [join(home, "small.ks")]);
  await waitFor(d, "the Create session button", (n) => n.some((x) => x.role === "push button" && x.name === "Create session" && x.sensitive), 30_000);
  await click(d, "push button", "Disk image");
  await click(d, "push button", "Create session");
  await waitFor(d, "alice's new session", (n) => labels(n).includes("State: created"), 30_000);
  await h.stopDaemon();
  await waitFor(d, "that the daemon is away", (n) => labels(n).some((l) => l.startsWith("The image service (imgcreated) is not running")) && !labels(n).includes("State: created"), 30_000);
  await d.screenshot(h, "5-daemon-away");
  await h.startDaemon();
  await waitFor(d, "the session again", (n) => labels(n).includes("State: created") && !labels(n).some((l) => l.startsWith("The image service")), 60_000);
  // Cancel from the row: the running job ends, and the row says so in a sentence.
  await click(d, "push button", "Run all stages");
  await waitFor(d, "the Cancel button", (n) => n.some((x) => x.role === "push button" && x.name === "Cancel"), 30_000);
  await click(d, "push button", "Cancel");
  const nodes = await waitFor(d, "the cancelled job", (n) => labels(n).some((l) => l.startsWith("Cancelled: ")) && !n.some((x) => x.name === "Cancel"), 60_000);
  assert.ok(!labels(nodes).some((l) => / running$/.test(l)), labels(nodes).join(" | "));
  await d.screenshot(h, "5-cancelled");
  await click(d, "push button", "Close session");
  await waitFor(d, "the empty list", (n) => labels(n).some((l) => l.startsWith("No sessions yet")), 30_000);
  await h.stopSpawned(app);
});

test("bob, who may not build and has no polkit agent, is told so in a sentence", { skip, timeout: 120_000 }, async () => {
  const bobHome = userDir(h, "bob", "gtk-bob");
  writeSmallKs(bobHome, "small.ks");
  const d = await desktopFor("bob", bobHome);
  const app = await startApp(d, bobHome, [join(bobHome, "small.ks")]);
  await waitFor(d, "the Build button", (n) => n.some((x) => x.role === "push button" && x.name === "Build" && x.sensitive), 30_000);
  await click(d, "push button", "Build");
  const nodes = await waitFor(d, "the refusal", (n) => labels(n).some((l) => l.startsWith("Not allowed: ")), 30_000);
  const refusal = labels(nodes).find((l) => l.startsWith("Not allowed: "))!;
  assert.doesNotMatch(refusal, /\n\s+at |GDBus\.Error/, "a sentence, not a trace");
  await d.screenshot(h, "6-refused");
  await h.stopSpawned(app);
});

/** The pid of the user's command under a spawnAs child (runuser's child). */
function commandPid(child: ChildProcess): number {
  const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  assert.equal(kids.length, 1, `runuser has one child: ${kids.join(" ")}`);
  return Number(kids[0]);
}

/** A polkit agent for one process (see test/helpers/polkit-agent.py); resolves once polkitd has it. */
async function startAgent(forPid: number, answer: string[]): Promise<{ agent: ChildProcess; asked: () => string }> {
  const agent = spawn("/usr/bin/python3", [AGENT, String(forPid), ...answer], { env: h.env, stdio: ["ignore", "pipe", "pipe"] });
  agents.push(agent);
  let out = "";
  let err = "";
  agent.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  await new Promise<void>((resolve, reject) => {
    agent.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("registered\n")) resolve();
    });
    agent.once("exit", () => reject(new Error(`the polkit agent ended: ${err}`)));
  });
  return { agent, asked: () => out };
}

async function stopAgent(agent: ChildProcess): Promise<void> {
  if (agent.exitCode !== null || agent.signalCode !== null) return;
  const exited = new Promise<void>((r) => agent.once("exit", () => r()));
  agent.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (agent.exitCode === null && agent.signalCode === null) {
    agent.kill("SIGKILL");
    await exited;
  }
}

test("bob with a polkit agent: the administrator's answers let him create a session, run its stages one by one and open a shell", { skip, timeout: 240_000 }, async () => {
  const bobHome = userDir(h, "bob", "gtk-bob-agent");
  writeSmallKs(bobHome, "small.ks");
  const d = await desktopFor("bob", bobHome);
  const app = await startApp(d, bobHome, [join(bobHome, "small.ks")]);
  const { agent, asked } = await startAgent(commandPid(app), ["approve", "carol"]);
  await waitFor(d, "the Create session button", (n) => n.some((x) => x.role === "push button" && x.name === "Create session" && x.sensitive), 30_000);
  await click(d, "push button", "Disk image");
  await click(d, "push button", "Create session");
  await waitFor(d, "bob's new session", (n) => labels(n).includes("State: created"), 30_000);
  assert.match(asked(), /^asked org\.imgcreate\.build$/m, "the agent was asked for the build action");
  await d.screenshot(h, "7-authorized");
  // One stage at a time: the row offers the next one when the last has ended.
  await click(d, "push button", "Mount");
  await waitFor(d, "the mounted session", (n) => labels(n).includes("State: mounted") && n.some((x) => x.role === "push button" && x.name === "Install"), 60_000);
  await click(d, "push button", "Install");
  await waitFor(d, "the installed session", (n) => labels(n).includes("State: installed") && n.some((x) => x.role === "push button" && x.name === "Open shell"), 180_000);
  await click(d, "push button", "Open shell");
  await waitFor(d, "the shell's window", (n) => n.some((x) => x.role === "frame" && x.name === "Shell in small"), 30_000);
  assert.match(asked(), /^asked org\.imgcreate\.shell$/m, "the agent was asked for the shell action");
  await d.screenshot(h, "8-shell");
  // Closing the session hangs the shell up: its window goes with it.
  await click(d, "push button", "Close session");
  await waitFor(d, "the empty list and no shell", (n) => labels(n).some((l) => l.startsWith("No sessions yet")) && !n.some((x) => x.name === "Shell in small"), 60_000);
  await stopAgent(agent);
  await h.stopSpawned(app);
});

test("bob's Create session with a polkit agent that is dismissed: the refusal as a sentence", { skip, timeout: 120_000 }, async () => {
  const bobHome = userDir(h, "bob", "gtk-bob-dismissed");
  writeSmallKs(bobHome, "small.ks");
  const d = await desktopFor("bob", bobHome);
  const app = await startApp(d, bobHome, [join(bobHome, "small.ks")]);
  const { agent, asked } = await startAgent(commandPid(app), ["refuse"]);
  await waitFor(d, "the Create session button", (n) => n.some((x) => x.role === "push button" && x.name === "Create session" && x.sensitive), 30_000);
  await click(d, "push button", "Create session");
  const nodes = await waitFor(d, "the refusal", (n) => labels(n).some((l) => l.startsWith("Not allowed: ")), 30_000);
  assert.match(asked(), /^asked org\.imgcreate\.build$/m, "the agent was asked for the build action");
  const refusal = labels(nodes).find((l) => l.startsWith("Not allowed: "))!;
  assert.doesNotMatch(refusal, /\n\s+at |GDBus\.Error/, "a sentence, not a trace");
  assert.ok(!labels(nodes).includes("State: created"), "no session was made");
  await d.screenshot(h, "9-dismissed");
  await stopAgent(agent);
  await h.stopSpawned(app);
});
