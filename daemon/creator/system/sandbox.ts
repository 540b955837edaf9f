// The one sandbox everything from the image or the kickstart runs in: %post (chrooted and
// --nochroot), package scripts during install, the shell, dracut, and every command a configure step
// runs in the root. Its root is not the host's root.
//
// Why bubblewrap joined to a user namespace we make, and not systemd-nspawn: nspawn would give the
// same boundary (--private-users=pick, --private-network, its seccomp filter) but only for a whole OS
// tree as "/", while install (mmdebstrap) and %post --nochroot need the host's programs with the
// image bound at a path; nspawn also wants a running systemd for its cgroup and machine
// registration, which a daemon started on a machine without systemd as PID 1 does not have. One tool
// for every view keeps one set of tests. bubblewrap cannot map more than one id, so the daemon makes
// the user namespace (native/idmap: ids 0..65535 → this root's host range, owned by the range's
// first uid) and starts bubblewrap as that unprivileged uid with --userns; it cannot show the image
// with its real owners either, so the daemon attaches an idmapped mount of the install root
// (nosuid, nodev) and the sandbox binds that: files keep their owners on disk (0 and the image's own
// ids) while every process inside is, on the host, an unprivileged uid that owns nothing.
//
// What a sandboxed process gets: its own user, mount, pid, ipc, uts, cgroup and network namespaces
// (loopback only), a fresh /proc (its /proc/sys and friends read-only and owned by a root it is not),
// kcore/keys/timer_list/sched_debug masked, /sys read-only without firmware or the host's block
// devices, a /dev with only the usual nodes, an empty /run (no host or daemon socket by path; no
// abstract socket either, in its own network namespace), no_new_privs (bubblewrap always sets it),
// the seccomp filter of seccomp.ts, the cgroup limits of cgroup.ts, and --die-with-parent.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, statSync } from "node:fs";
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import idmap from "idmap";
import { ImgcreateError } from "../../errors.js";
import type { Journal } from "../journal.js";
import * as cgroup from "./cgroup.js";
import { run, type RunOptions, type RunResult } from "./exec.js";
import * as idrange from "./idrange.js";
import * as netstack from "./netstack.js";
import { killTree } from "./process.js";
import * as seccomp from "./seccomp.js";

/**
 * Capabilities (inside the sandbox's user namespace, never the host's) for code in the root: what
 * package scripts and useradd need (Docker's default set minus NET_RAW and MKNOD). Not SYS_ADMIN,
 * so no mount even in its own namespaces; not SYS_PTRACE, SYS_MODULE, NET_ADMIN.
 */
export const ROOT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_SETFCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_AUDIT_WRITE",
];

export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Files of /proc hidden behind /dev/null, and directories behind an empty read-only tmpfs. */
const MASKED_PROC_FILES = ["kcore", "keys", "timer_list", "sched_debug", "kallsyms", "kpagecount", "kpageflags", "kpagecgroup"];
const MASKED_PROC_DIRS = ["fs", "acpi", "scsi", "driver"];
/** The host's firmware tables and block devices: nothing an image build reads. */
const MASKED_SYS_DIRS = ["firmware", "block", "class/block", "dev/block", "kernel/debug", "kernel/security"];

export interface SandboxLimits extends cgroup.Limits {
  /** How long one %post may run. */
  scriptTimeoutMs: number;
}

/** Defaults (an administrator raises them with imgcreated's --sandbox-* options). */
export const DEFAULT_LIMITS: SandboxLimits = {
  tasks: 4096,
  memoryBytes: 4 * 2 ** 30,
  scriptTimeoutMs: 30 * 60_000,
};

/**
 * chroot: inside the image ("/" is the install root). host: the host's /usr, /etc and /opt
 * read-only with the install root at its host path (%post --nochroot). install: like host, with
 * every capability inside the user namespace (mmdebstrap mounts /proc in its chroot) and the
 * given work paths writable.
 */
export type View = "chroot" | "host" | "install";

export interface RunSpec {
  view: View;
  /** Host directories bound writable at the same path (host and install views). They must be granted. */
  writable?: string[];
  /** Host files or directories bound read-only at the same path (host and install views). */
  readable?: string[];
  /**
   * chroot view: host directories (granted) bound writable at a path inside the image, seen only by this
   * run (the package backend's lists and downloaded debs for apt-get in the image). The path resolves
   * inside the sandbox's own root, so a link in the image can only point into the image.
   */
  binds?: { from: string; to: string }[];
  env?: Record<string, string>;
  cwd?: string;
  hostname?: string;
  /** "outbound": a user-mode network to the outside, never to this host (netstack.ts). Default: loopback only. */
  network?: "none" | "outbound";
}

export interface SandboxOptions {
  /** The install root as mounted on the host. */
  root: string;
  /** The creator's work dir: the idmapped view of the root is attached under it. */
  workDir: string;
  /** Where machine-wide locks live (the id ranges). */
  runDir: string;
  journal: Journal;
  limits: SandboxLimits;
}

/**
 * The host's system directories, read-only, for the views that see the host. Deliberately NOT a
 * bind of the whole "/": a mount namespace holds a private copy of every mount it can see, so
 * binding "/" would pin every other session's mounted root (its loop device could not be released
 * while this sandbox lives) and show other sessions' and users' files. /usr, /etc and /opt hold no
 * session mounts; the merged-/usr links (/bin -> usr/bin ...) are recreated as links.
 */
export function hostSystemArgs(): string[] {
  const a: string[] = [];
  for (const d of ["/usr", "/etc", "/opt"]) if (existsSync(d)) a.push("--ro-bind", d, d);
  for (const l of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    let st;
    try {
      st = lstatSync(l);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) a.push("--symlink", readlinkSync(l), l);
    else a.push("--ro-bind", l, l);
  }
  return a;
}

/** /proc, /dev, /sys and /run as every view has them, with the masks. */
function kernelViewArgs(): string[] {
  const a = ["--proc", "/proc", "--dev", "/dev"];
  for (const f of MASKED_PROC_FILES) if (existsSync(`/proc/${f}`)) a.push("--ro-bind", "/dev/null", `/proc/${f}`);
  for (const d of MASKED_PROC_DIRS) if (existsSync(`/proc/${d}`)) a.push("--tmpfs", `/proc/${d}`, "--remount-ro", `/proc/${d}`);
  a.push("--ro-bind", "/sys", "/sys");
  for (const d of MASKED_SYS_DIRS) if (existsSync(`/sys/${d}`)) a.push("--tmpfs", `/sys/${d}`, "--remount-ro", `/sys/${d}`);
  a.push("--tmpfs", "/run");
  return a;
}

/**
 * bwrap's arguments (without "bwrap" and the command) for a root whose idmapped view is idroot
 * and whose host path is root. fds: the user namespace and the seccomp program.
 */
export function bwrapArgs(spec: RunSpec, paths: { root: string; idroot: string }, fds: { userns: number; seccomp: number }): string[] {
  const a = ["--userns", String(fds.userns), "--uid", "0", "--gid", "0"];
  if (spec.view === "chroot") {
    a.push("--bind", paths.idroot, "/");
    for (const b of spec.binds ?? []) a.push("--bind", b.from, b.to);
  } else {
    a.push(...hostSystemArgs(), "--tmpfs", "/tmp", "--tmpfs", "/var/tmp");
  }
  a.push(...kernelViewArgs());
  if (spec.view !== "chroot") {
    // After /tmp and /run, so paths below them show through.
    for (const p of spec.readable ?? []) a.push("--ro-bind", p, p);
    a.push("--bind", paths.idroot, paths.root);
    for (const p of spec.writable ?? []) a.push("--bind", p, p);
  }
  a.push(
    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--unshare-net",
    "--hostname", spec.hostname ?? "imgcreate",
    "--die-with-parent",
    "--cap-drop", "ALL",
  );
  if (spec.view === "install") a.push("--cap-add", "ALL");
  else for (const c of ROOT_CAPS) a.push("--cap-add", c);
  a.push("--seccomp", String(fds.seccomp));
  a.push("--clearenv", "--setenv", "PATH", SANDBOX_PATH);
  for (const [k, v] of Object.entries(spec.env ?? {})) a.push("--setenv", k, v);
  a.push("--chdir", spec.cwd ?? "/");
  return a;
}

/**
 * The launcher: a root shell that puts itself into the sandbox's cgroup (so everything after it is
 * counted from the first fork), then setpriv drops to the range's first uid with no groups, then
 * bubblewrap joins the user namespace.
 */
export function launcher(procsFiles: string[], uid: number): string[] {
  return [
    "/bin/sh", "-c", 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; shift; done; shift; exec "$@"', "imgcreate-sandbox",
    ...procsFiles, "--",
    "setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--",
  ];
}

/**
 * The first program inside: bubblewrap leaves the user namespace's fd (3) open into the command,
 * so a shell closes it, waits for the outbound network's route when there is one (at most 30 s),
 * and becomes the command.
 */
export function inner(outbound: boolean, argv: string[]): string[] {
  const wait = outbound
    ? 'n=0; until grep -q "^tap0[[:space:]]*00000000" /proc/net/route; do n=$((n+1)); [ $n -gt 300 ] && { echo "imgcreate: the outbound network did not come up" >&2; exit 125; }; sleep 0.1; done; '
    : "";
  return ["/bin/sh", "-c", `exec 3<&-; ${wait}exec "$@"`, "imgcreate", ...argv];
}

/** Directories above path must be searchable by everyone: bubblewrap runs as an unprivileged uid. */
function checkSearchable(path: string): void {
  for (let d = dirname(path); ; d = dirname(d)) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      throw new ImgcreateError(
        "Failed",
        `the sandbox cannot reach ${path}: ${d} is mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; make it searchable by everyone (chmod o+x ${d}) — its contents keep their own permissions`,
        { path: d },
      );
    }
    if (d === "/") return;
  }
}

export class Sandbox {
  /** The idmapped view of the root (under workDir, reachable only by this range's group). */
  readonly idroot: string;
  private usernsFd = -1;
  private held: number[] = [];
  private seccompFile: string;
  private cg: cgroup.Cgroup;

  private constructor(
    private readonly o: SandboxOptions,
    readonly ids: idrange.IdRange,
  ) {
    this.idroot = join(o.workDir, "sandbox-root");
    this.seccompFile = join(o.workDir, "seccomp.bpf");
    this.cg = cgroup.paths(`${ids.base.toString(16)}`);
  }

  /** Takes an id range, a user namespace, the idmapped root and the cgroup, each journaled first. */
  static async open(o: SandboxOptions): Promise<Sandbox> {
    checkSearchable(o.workDir);
    // Journaled by owner: recovery frees whichever range names this work dir, even one taken just before a crash.
    const { id, value: ids } = await o.journal.take("idrange", { path: idrange.lockDir(o.runDir), owner: o.workDir }, () => idrange.allocate(o.runDir, o.workDir));
    const sb = new Sandbox(o, ids);
    sb.held.push(id);
    try {
      await sb.setUp();
    } catch (err) {
      await sb.close().catch(() => undefined);
      throw err;
    }
    return sb;
  }

  private async setUp(): Promise<void> {
    const { journal, workDir, root, limits } = this.o;
    // Only this range's group (the sandbox's root group) may pass through the work dir: bubblewrap
    // reaches the idmapped root and the bound work paths there, no other host user can.
    await chown(workDir, 0, this.ids.base);
    await chmod(workDir, 0o710);
    this.usernsFd = idmap.createUserns(this.ids.base, this.ids.count);
    const f = await journal.take("file", { path: this.seccompFile }, async () => writeFile(this.seccompFile, await seccomp.program(), { mode: 0o644 }));
    this.held.push(f.id);
    const d = await journal.take("file", { path: this.idroot }, () => mkdir(this.idroot, { recursive: true }));
    this.held.push(d.id);
    const m = await journal.take("mount", { path: this.idroot }, async () => idmap.idmapMount(root, this.idroot, this.usernsFd));
    this.held.push(m.id);
    const c = await journal.take("cgroup", { path: this.cg.pids, paths: [this.cg.pids, this.cg.memory], version: this.cg.version }, () => cgroup.create(this.cg, limits));
    this.held.push(c.id);
  }

  /** Kills what still runs inside, detaches the idmapped root and frees the id range. */
  async close(): Promise<void> {
    let first: unknown;
    for (const id of this.held.reverse()) {
      try {
        await this.o.journal.release(id);
      } catch (err) {
        first ??= err;
      }
    }
    this.held = [];
    if (this.usernsFd >= 0) closeSync(this.usernsFd);
    this.usernsFd = -1;
    await chmod(this.o.workDir, 0o700).catch(() => undefined);
    await chown(this.o.workDir, 0, 0).catch(() => undefined);
    if (first) throw first;
  }

  get limits(): SandboxLimits {
    return this.o.limits;
  }

  /** Makes a host directory the sandbox's root owns (LIVE_ROOT, apt's archive dir). */
  async grant(dir: string): Promise<void> {
    await chown(dir, this.ids.base, this.ids.base);
  }

  private command(spec: RunSpec, argv: string[], fds: { userns: number; seccomp: number }): string[] {
    if (this.usernsFd < 0) throw new ImgcreateError("InvalidState", "the sandbox is closed: the install root is not mounted");
    return [
      ...launcher(cgroup.procsFiles(this.cg), this.ids.base),
      "bwrap", ...bwrapArgs(spec, { root: this.o.root, idroot: this.idroot }, fds), "--",
      ...inner(spec.network === "outbound", argv),
    ];
  }

  /**
   * fds 3 and 4 of the child: the user namespace, and a fresh read of the seccomp program. Nothing
   * else of the daemon's may reach a sandbox: every other fd is made close-on-exec first.
   */
  private withFds<T>(fn: (fds: number[]) => T): T {
    idmap.cloexecFrom(3);
    const filter = openSync(this.seccompFile, "r");
    try {
      return fn([this.usernsFd, filter]);
    } finally {
      closeSync(filter);
    }
  }

  /**
   * Runs argv in the sandbox and waits. A task limit reached stops it at once (a fork bomb would
   * otherwise spin until the timeout); an out-of-memory kill and a timeout are named in the error.
   */
  async run(spec: RunSpec, argv: string[], opts: RunOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
    const before = await cgroup.counters(this.cg);
    let pid: number | undefined;
    let stopped: { why: string; limit: boolean } | undefined;
    const stop = (why: string, limit = true) => {
      stopped ??= { why, limit };
      if (pid !== undefined) void killTree(pid, 0);
    };
    const watch = setInterval(() => {
      void cgroup.counters(this.cg).then((c) => {
        if (c.taskLimitHits > before.taskLimitHits) stop(`it reached the sandbox's limit of ${this.o.limits.tasks} tasks (a fork bomb?)`);
      });
    }, 500);
    const timer = opts.timeoutMs ? setTimeout(() => stop(`it ran longer than ${Math.round(opts.timeoutMs! / 1000)} s`), opts.timeoutMs) : undefined;
    const outbound = spec.network === "outbound";
    let network: Promise<netstack.Attached> | undefined;
    try {
      const res = await this.withFds((fds) =>
        run(this.command(spec, argv, { userns: 3, seccomp: 4 }), {
          ...opts,
          cleanEnv: true,
          env: { PATH: SANDBOX_PATH },
          extraFds: fds,
          onSpawn: (p) => {
            pid = p;
            opts.onSpawn?.(p);
            if (outbound) {
              network = netstack.attach(p, launcher(cgroup.procsFiles(this.cg), this.ids.base), this.o.journal);
              network.catch((err: Error) => stop(err.message, false));
            }
          },
        }),
      );
      if (stopped) throw this.stoppedError(argv, stopped);
      return res;
    } catch (err) {
      if (stopped) throw this.stoppedError(argv, stopped);
      const after = await cgroup.counters(this.cg);
      if (after.oomKills > before.oomKills) {
        throw this.stoppedError(argv, { why: `it ran out of memory (the sandbox allows ${Math.round(this.o.limits.memoryBytes / 2 ** 20)} MiB)`, limit: true });
      }
      throw err;
    } finally {
      clearInterval(watch);
      if (timer) clearTimeout(timer);
      await network?.then((n) => n.stop()).catch(() => undefined);
    }
  }

  private stoppedError(argv: string[], s: { why: string; limit: boolean }): ImgcreateError {
    const raise = s.limit ? "; an administrator can raise the limit with imgcreated's --sandbox-tasks, --sandbox-memory or --script-timeout" : "";
    return new ImgcreateError("Failed", `${argv.join(" ").slice(0, 80)} was stopped: ${s.why}${raise}`, { argv, stopped: s.why });
  }

  /** Starts argv in the sandbox in its own session and process group and returns it (the shell). */
  spawn(spec: RunSpec, argv: string[], opts: { stdio?: StdioOptions } = {}): ChildProcess {
    return this.withFds((fds) => {
      const cmd = this.command(spec, argv, { userns: 3, seccomp: 4 });
      const base = opts.stdio ?? "pipe";
      const stdio = Array.isArray(base) ? base.slice(0, 3) : [base, base, base];
      return spawn(cmd[0]!, cmd.slice(1), {
        stdio: [...stdio, ...fds] as StdioOptions,
        detached: true, // setsid(): its own session and process group
        env: { PATH: SANDBOX_PATH },
      });
    });
  }

  /** Writes content to path inside the root, resolved inside the sandbox so a symlink in the image cannot point the write at the host. */
  async writeFile(path: string, content: string, mode = "0644"): Promise<void> {
    await this.run({ view: "chroot" }, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "sh", path, mode], { input: content });
  }

  /** Reads a file inside the root the same way (undefined if absent). */
  async readFile(path: string): Promise<string | undefined> {
    const res = await this.run({ view: "chroot" }, ["sh", "-c", '[ -f "$1" ] && cat "$1" || exit 3', "sh", path], { okCodes: [3] });
    return res.exitCode === 3 ? undefined : res.stdout;
  }
}
