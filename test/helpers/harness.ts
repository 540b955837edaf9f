// The real-system test harness: a private system bus, a real polkitd with the project's policy and a
// test rules file, real users, and (optionally) the real daemon — all as children of the test process,
// stopped by pid and waited for. See LESSONS.md "A real system bus and real polkit in tests".
//
//   const h = await startHarness({ daemon: true });
//   const r = await h.runAs("alice", "busctl", ["--system", "call", BUS_NAME, ...]);
//   await h.stop({ assertNoLeaks: true });   // in `after`: everything stopped, removed, checked
//
// Only one harness runs on the machine at a time (polkit's directories are global): startHarness waits
// for the machine-wide lock, so parallel test runs queue instead of breaking each other.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { makeTmp } from "./tmp.js";
import { assertNoLeaks } from "./leaks.js";
import { ensureTestUsers, type TestUser, type UserInfo } from "./users.js";
import { acquireMachineLock, type MachineLock } from "./harness-lock.js";
import { startPrivateBus, startPolkitd, assertActionsLoaded, nameHasOwner, ownerPid } from "./harness-bus.js";
import { startLogged, stopChild, waitUntil, tail, isRunning, type ExitStatus, type LoggedChild } from "./harness-proc.js";
import { makeDaemonCgroup, killCgroup } from "./harness-cgroup.js";
import { sweepAndRemove } from "./harness-sweep.js";
import { BUS_NAME, ROOT_PATH, ACTIONS as API_ACTIONS } from "../../daemon/api/names.js";

export { BUS_NAME, ROOT_PATH };
/** Every polkit action the service uses (from the API's own list, so the two cannot drift). */
export const ACTIONS: readonly string[] = Object.values(API_ACTIONS);

/** Project root: this file is test/helpers/harness.ts, or dist/test/helpers/harness.js once built. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
export const PROJECT_ROOT = fileURLToPath(new URL(FROM_SOURCE ? "../.." : "../../..", import.meta.url));

export const POLICY_SRC = join(PROJECT_ROOT, "polkit/org.imgcreate.policy");
export const BUSCONF_SRC = join(PROJECT_ROOT, "systemd/org.imgcreate.ImageCreator1.conf");
const POLICY_DEST = "/usr/share/polkit-1/actions/org.imgcreate.policy";
const RULES_DEST = "/etc/polkit-1/rules.d/10-imgcreate-test.rules";

/** alice's group may build, open shells and run host scripts; carol may do everything; bob gets the defaults. */
export const TEST_RULES = `// Installed by imgcreate's test harness (test/helpers/harness.ts) and removed when it stops.
polkit.addRule(function (action, subject) {
  if (action.id.indexOf("org.imgcreate.") !== 0) return polkit.Result.NOT_HANDLED;
  if (subject.user === "carol") return polkit.Result.YES;
  var adminOnly = ["org.imgcreate.manage-others", "org.imgcreate.manage-cache"];
  if (subject.isInGroup("imgbuilders") && adminOnly.indexOf(action.id) < 0) return polkit.Result.YES;
  return polkit.Result.NOT_HANDLED;
});
`;

export interface HarnessOptions {
  /** Start the daemon right away (default false: call startDaemon() when you need it). */
  daemon?: boolean;
  /** Extra daemon arguments, appended after the harness's own (e.g. ["--max-jobs", "1"]). */
  daemonArgs?: string[];
  /** Serve JSON-RPC on <dir>/api.sock (default true); false passes --socket none. */
  socket?: boolean;
  /** Run the daemon from daemon/main.ts through tsx, or bin/imgcreated (dist/). Default: like this file. */
  daemonFrom?: "source" | "dist";
  /** polkit rules (JavaScript) to install instead of TEST_RULES, e.g. the example rules file. */
  rules?: string;
  /**
   * Let the bus start the daemon on the first call to BUS_NAME, from the shipped activation file
   * (its Exec= pointed at this checkout and the harness's socket, state and cache, plus daemonArgs).
   * The activated daemon is the bus's child; activatedDaemonPid() finds it, stop() ends it.
   */
  activation?: boolean;
  /** Runs under the machine-wide lock before anything is installed or started (e.g. a real install). */
  setup?: () => Promise<void>;
  /** Runs under the lock in stop(), after everything of the harness is stopped and removed. */
  teardown?: () => Promise<void>;
  /** How long to wait for another harness on this machine to finish (default 30 min). */
  lockTimeoutSec?: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export interface Harness {
  readonly dir: string;
  readonly busAddress: string;
  /** The JSON-RPC socket the daemon is told to serve (it exists only while the daemon runs). */
  readonly socketPath: string;
  readonly stateDir: string;
  readonly cacheDir: string;
  /** process.env plus DBUS_SYSTEM_BUS_ADDRESS of the private bus: pass it to busctl, gdbus, python3-dbus. */
  readonly env: NodeJS.ProcessEnv;
  readonly users: Record<TestUser, UserInfo>;
  readonly logs: { bus: string; polkitd: string; daemon: string };
  readonly daemonPid: number | undefined;
  /** Runs cmd as root with the harness env; never rejects on a non-zero exit. */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** `runuser -u USER -- cmd args` with DBUS_SYSTEM_BUS_ADDRESS kept; never rejects on a non-zero exit. */
  runAs(user: string, cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Like runAs but returns the running child (stdio pipes) for streaming; stop() ends it if you don't. */
  spawnAs(user: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): ChildProcess;
  /**
   * Signals the user's command under a spawnAs child and waits for it all to exit. Signalling runuser
   * itself works too but costs 2 s: su/runuser waits that long before it SIGKILLs its child.
   */
  stopSpawned(child: ChildProcess, signal?: NodeJS.Signals): Promise<ExitStatus>;
  startDaemon(extraArgs?: string[]): Promise<void>;
  /** Signals the daemon (default SIGTERM), waits for it, then kills what it left running, like KillMode=mixed. */
  stopDaemon(signal?: NodeJS.Signals): Promise<ExitStatus>;
  restartDaemon(extraArgs?: string[]): Promise<void>;
  /** Resolves when the daemon exits on its own (e.g. --idle-exit); rejects after timeoutMs. */
  waitDaemonExit(timeoutMs: number): Promise<ExitStatus>;
  daemonLog(): string;
  /** The pid owning BUS_NAME when it is not the harness's own daemon child (i.e. bus-activated). */
  activatedDaemonPid(): Promise<number | undefined>;
  /** Stops every child, removes the installed polkit files and the temp dir, then releases the lock. */
  stop(opts?: { assertNoLeaks?: boolean }): Promise<void>;
}

/** Writes a machine-global file, remembering what was there so stop() puts it back. */
class InstalledFile {
  private readonly previous: Buffer | undefined;
  constructor(readonly path: string, content: string | Buffer) {
    this.previous = existsSync(path) ? readFileSync(path) : undefined;
    writeFileSync(path, content, { mode: 0o644 });
    chmodSync(path, 0o644);
  }
  restore(): void {
    if (this.previous !== undefined) writeFileSync(this.path, this.previous);
    else rmSync(this.path, { force: true });
  }
}

let activeInProcess = false;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  if (activeInProcess) throw new Error("a test harness is already running in this process: stop() it first");
  activeInProcess = true;
  let lock: MachineLock | undefined;
  try {
    lock = await acquireMachineLock(opts.lockTimeoutSec);
    const h = new RealHarness(lock, opts);
    await h.start();
    return h;
  } catch (err) {
    activeInProcess = false;
    await lock?.release();
    throw err;
  }
}

class RealHarness implements Harness {
  dir = "";
  busAddress = "";
  socketPath = "";
  stateDir = "";
  cacheDir = "/var/cache/imgcreated";
  env: NodeJS.ProcessEnv = {};
  users = {} as Record<TestUser, UserInfo>;
  logs = { bus: "", polkitd: "", daemon: "" };
  private installed: InstalledFile[] = [];
  private bus: LoggedChild | undefined;
  private polkitd: LoggedChild | undefined;
  private daemon: LoggedChild | undefined;
  private daemonCgroup: string | undefined;
  private lastDaemonArgs: string[] = [];
  private spawned = new Set<ChildProcess>();
  private stopped = false;
  private readonly onExit = () => this.emergencyCleanup();
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.emergencyCleanup();
    process.kill(process.pid, sig); // handlers are gone now: die of the signal as we would have
  };

  constructor(private readonly lock: MachineLock, private readonly opts: HarnessOptions) {}

  get daemonPid(): number | undefined {
    return isRunning(this.daemon?.child) ? this.daemon!.child.pid : undefined;
  }

  async start(): Promise<void> {
    process.on("exit", this.onExit);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    try {
      await this.startSystem();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  private async startSystem(): Promise<void> {
    this.dir = await makeTmp("harness");
    chmodSync(this.dir, 0o755); // test users must reach the bus socket and api.sock
    this.socketPath = join(this.dir, "api.sock");
    this.stateDir = join(this.dir, "state");
    this.logs = { bus: join(this.dir, "bus.log"), polkitd: join(this.dir, "polkitd.log"), daemon: join(this.dir, "daemon.log") };
    this.users = await ensureTestUsers();
    await this.opts.setup?.();
    // polkitd reads actions and rules when it starts: put ours in place first.
    this.installed.push(new InstalledFile(POLICY_DEST, readFileSync(POLICY_SRC)));
    this.installed.push(new InstalledFile(RULES_DEST, this.opts.rules ?? TEST_RULES));
    const services = this.opts.activation ? this.writeActivationFile() : undefined;
    const bus = await startPrivateBus(this.dir, [BUSCONF_SRC], process.env, services);
    this.bus = bus;
    this.busAddress = bus.address;
    this.env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: this.busAddress };
    this.polkitd = await startPolkitd(this.dir, this.env);
    await assertActionsLoaded(ACTIONS, this.env, this.logs.polkitd);
    if (this.opts.daemon) await this.startDaemon();
  }

  /** How to run the daemon: through tsx from source, or the built bin/imgcreated. Independent of cwd. */
  private daemonEntry(): string[] {
    const fromSource = (this.opts.daemonFrom ?? (FROM_SOURCE ? "source" : "dist")) === "source";
    return fromSource
      ? [process.execPath, "--import", import.meta.resolve("tsx"), join(PROJECT_ROOT, "daemon/main.ts")]
      : [process.execPath, join(PROJECT_ROOT, "bin/imgcreated")];
  }

  private daemonArgv(extra: string[]): string[] {
    const socket = this.opts.socket === false ? "none" : this.socketPath;
    return [...this.daemonEntry(), "--bus", "system", "--socket", socket, "--state-dir", this.stateDir,
      "--cache-dir", this.cacheDir, ...this.cacheArgs(), ...(this.opts.daemonArgs ?? []), ...extra];
  }

  /**
   * No cache of installed roots unless the test asks (--root-cache-size in daemonArgs): a hit would make
   * an install too quick for the tests that cancel one, and tests must not depend on each other's images.
   */
  private cacheArgs(): string[] {
    return (this.opts.daemonArgs ?? []).includes("--root-cache-size") ? [] : ["--root-cache-size", "0"];
  }

  /** The shipped activation file, its Exec= aimed at this checkout and this harness's paths. */
  private writeActivationFile(): string {
    const dir = join(this.dir, "services");
    mkdirSync(dir);
    const shipped = readFileSync(join(PROJECT_ROOT, "systemd/org.imgcreate.ImageCreator1.service"), "utf8");
    const exec = /^Exec=(\S+)(.*)$/m.exec(shipped);
    if (!exec) throw new Error("systemd/org.imgcreate.ImageCreator1.service has no Exec= line");
    const ours: Record<string, string> = {
      "--socket": this.opts.socket === false ? "none" : this.socketPath,
      "--state-dir": this.stateDir,
      "--cache-dir": this.cacheDir,
    };
    const args = exec[2]!.trim().split(/\s+/).map((a, i, all) => ours[all[i - 1]!] ?? a);
    const line = `Exec=${[...this.daemonEntry(), ...args, ...this.cacheArgs(), ...(this.opts.daemonArgs ?? [])].join(" ")}`;
    writeFileSync(join(dir, "org.imgcreate.ImageCreator1.service"), shipped.replace(exec[0], line));
    return dir;
  }

  async activatedDaemonPid(): Promise<number | undefined> {
    const pid = await ownerPid(BUS_NAME, this.env);
    return pid !== undefined && pid !== this.daemonPid ? pid : undefined;
  }

  /** The bus's activated daemon is not our child: signal it by pid and wait until it is gone. */
  private async stopActivated(): Promise<void> {
    const pid = await this.activatedDaemonPid();
    if (pid === undefined) return;
    tryKill(pid, "SIGTERM");
    const gone = () => {
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8")); // a zombie is gone too
      } catch {
        return true;
      }
    };
    await waitUntil(gone, { timeoutMs: 15_000, what: `activated imgcreated ${pid} to exit` }).catch(async () => {
      tryKill(pid, "SIGKILL");
      await waitUntil(gone, { timeoutMs: 5_000, what: `activated imgcreated ${pid} to die` });
    });
  }

  async startDaemon(extraArgs: string[] = []): Promise<void> {
    if (isRunning(this.daemon?.child)) throw new Error("the daemon is already running");
    this.lastDaemonArgs = extraArgs;
    mkdirSync(this.cacheDir, { recursive: true });
    this.daemonCgroup = makeDaemonCgroup(String(Date.now()));
    const argv = this.daemonArgv(extraArgs);
    // The shell joins the cgroup first and then becomes the daemon, so even its first child is inside.
    // Should joining fail, the daemon still starts; its process group is then the fallback.
    const join_ = this.daemonCgroup ? `{ echo $$ > '${this.daemonCgroup}/cgroup.procs'; } 2>/dev/null; ` : "";
    writeFileSync(this.logs.daemon, `--- ${new Date().toISOString()} ${argv.slice(1).join(" ")}\n`, { flag: "a" });
    this.daemon = startLogged("sh", ["-c", `${join_}exec "$@"`, "sh", ...argv], {
      env: this.env, log: this.logs.daemon, detached: true, cwd: PROJECT_ROOT,
    });
    const child = this.daemon.child;
    await waitUntil(async () => (await nameHasOwner(BUS_NAME, this.env)) && (this.opts.socket === false || existsSync(this.socketPath)), {
      timeoutMs: 30_000,
      what: `imgcreated (owning ${BUS_NAME}${this.opts.socket === false ? "" : " and serving " + this.socketPath})`,
      abort: () => (isRunning(child) ? undefined : `it exited (${child.exitCode ?? child.signalCode}): ${tail(this.logs.daemon)}`),
    }).catch(async (err: Error) => {
      await this.stopDaemon("SIGKILL");
      throw new Error(`${err.message}\n--- daemon log:\n${tail(this.logs.daemon)}`);
    });
  }

  async stopDaemon(signal: NodeJS.Signals = "SIGTERM"): Promise<ExitStatus> {
    const d = this.daemon;
    if (!d) return { code: null, signal: null };
    const status = await stopChild(d.child, signal, 15_000);
    await this.killDaemonLeftovers(d.child);
    return status;
  }

  /** What the daemon's main process left running dies with it, as under systemd's KillMode=mixed. */
  private async killDaemonLeftovers(child: ChildProcess): Promise<void> {
    if (child.pid !== undefined) tryKill(-child.pid, "SIGKILL"); // its process group (it was started detached)
    if (this.daemonCgroup) {
      await killCgroup(this.daemonCgroup);
      this.daemonCgroup = undefined;
    }
  }

  async restartDaemon(extraArgs?: string[]): Promise<void> {
    await this.stopDaemon();
    await this.startDaemon(extraArgs ?? this.lastDaemonArgs);
  }

  async waitDaemonExit(timeoutMs: number): Promise<ExitStatus> {
    const child = this.daemon?.child;
    if (!child) throw new Error("the daemon was never started");
    if (!isRunning(child)) {
      await this.killDaemonLeftovers(child);
      return { code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null };
    }
    const timer = new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error(`the daemon did not exit within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    const [code, signal] = (await Promise.race([once(child, "exit"), timer])) as [number | null, NodeJS.Signals | null];
    await this.killDaemonLeftovers(child);
    return { code, signal };
  }

  daemonLog(): string {
    return existsSync(this.logs.daemon) ? readFileSync(this.logs.daemon, "utf8") : "";
  }

  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.exec(cmd, args, opts);
  }

  runAs(user: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.exec("runuser", ["-u", user, "--", cmd, ...args], opts);
  }

  private async exec(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
    const r = await execa(cmd, args, {
      env: { ...this.env, ...opts.env },
      cwd: opts.cwd ?? this.dir,
      input: opts.input,
      timeout: opts.timeoutMs,
      reject: false,
      stripFinalNewline: false,
    });
    return { exitCode: r.exitCode, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  spawnAs(user: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    const child = spawn("runuser", ["-u", user, "--", cmd, ...args], {
      env: { ...this.env, ...opts.env }, cwd: opts.cwd ?? this.dir, stdio: ["pipe", "pipe", "pipe"],
    });
    child.on("error", () => {});
    this.spawned.add(child);
    child.once("exit", () => this.spawned.delete(child));
    return child;
  }

  async stopSpawned(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<ExitStatus> {
    if (!isRunning(child)) return { code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null };
    const exited = new Promise<ExitStatus>((resolve) => child.once("exit", (code, sig) => resolve({ code, signal: sig })));
    for (const pid of childrenOf(child.pid!)) tryKill(pid, signal);
    const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5_000).unref());
    if ((await Promise.race([exited, timer])) === "timeout") return stopChild(child, "SIGKILL");
    return exited;
  }

  async stop(opts: { assertNoLeaks?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    const step = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    for (const c of [...this.spawned]) await step(() => this.stopSpawned(c));
    await step(() => this.stopDaemon());
    if (this.opts.activation && this.bus) await step(() => this.stopActivated());
    await step(() => this.polkitd && stopChild(this.polkitd.child));
    await step(() => this.bus && stopChild(this.bus.child));
    for (const f of this.installed.reverse()) await step(() => f.restore());
    await step(() => {
      const left = this.dir ? sweepAndRemove(this.dir) : [];
      if (left.length > 0) throw new Error(`the daemon left these under ${this.dir} (now cleaned up): ${left.join("; ")}`);
    });
    if (this.opts.teardown) await step(this.opts.teardown);
    this.detachHandlers();
    // Checked while we still hold the lock: the next harness's polkitd is not ours to blame.
    if (opts.assertNoLeaks) await step(() => assertNoLeaks({ tmp: false }));
    await step(() => this.lock.release());
    activeInProcess = false;
    if (errors.length > 0) throw errors.length === 1 ? errors[0] : new AggregateError(errors, "harness stop failed");
  }

  private detachHandlers(): void {
    process.off("exit", this.onExit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }

  /** Last resort when the test process dies without stop(): synchronous, no waiting possible. */
  private emergencyCleanup(): void {
    this.detachHandlers();
    for (const c of [this.daemon?.child, this.polkitd?.child, this.bus?.child, ...this.spawned]) {
      if (c && isRunning(c)) c.kill("SIGKILL");
    }
    for (const f of this.installed) f.restore();
    if (this.dir) sweepAndRemove(this.dir);
  }
}

/** Direct children of pid (runuser forks the user's command and waits for it). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}
