// Everything that runs code from the image or the kickstart runs under bubblewrap: its own mount,
// pid, ipc, uts (and cgroup) namespaces, a fresh /proc that shows only its own processes, a /dev
// with only the usual nodes, an empty /run (so no host or daemon socket is reachable by path), and a
// reduced capability set without CAP_SYS_ADMIN (so it cannot mount). --die-with-parent: if the
// daemon dies, the whole sandbox dies with it.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { run, type RunOptions, type RunResult } from "./exec.js";

/**
 * Capabilities left to code in the root: what package scripts and useradd need (Docker's default set
 * minus NET_RAW and MKNOD). Not SYS_ADMIN, so no mount; not SYS_PTRACE, SYS_MODULE, NET_ADMIN.
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

export interface SandboxSpec {
  /** The install root. In "chroot" mode it becomes "/"; in "host" mode it is one of the writable paths. */
  root: string;
  /** "chroot": inside the image. "host": the host's /usr, /etc, /opt read-only (for %post --nochroot and mmdebstrap). */
  view: "chroot" | "host";
  /** Extra host paths writable in "host" view (LIVE_ROOT). */
  writable?: string[];
  /** Host files to show read-only in "host" view even under the private /tmp (the script itself). */
  readable?: string[];
  env?: Record<string, string>;
  cwd?: string;
  hostname?: string;
}

function common(spec: SandboxSpec): string[] {
  const a = [
    "--proc", "/proc",
    "--dev", "/dev",
    "--ro-bind-try", "/sys", "/sys",
    "--tmpfs", "/run",
    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
    "--hostname", spec.hostname ?? "imgcreate",
    "--die-with-parent",
    "--cap-drop", "ALL",
  ];
  for (const c of ROOT_CAPS) a.push("--cap-add", c);
  a.push("--clearenv", "--setenv", "PATH", SANDBOX_PATH);
  for (const [k, v] of Object.entries(spec.env ?? {})) a.push("--setenv", k, v);
  a.push("--chdir", spec.cwd ?? "/");
  return a;
}

/**
 * The host's system directories, read-only, for sandboxes that see the host. Deliberately NOT a bind
 * of the whole "/": a mount namespace holds a private copy of every mount it can see, so binding "/"
 * would pin every other session's mounted root (its loop device could not be released while this
 * sandbox lives) and show other sessions' and users' files. /usr, /etc and /opt hold no session
 * mounts; the merged-/usr links (/bin -> usr/bin ...) are recreated as links.
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

/** bwrap's arguments (without "bwrap" and the command). */
export function bwrapArgs(spec: SandboxSpec): string[] {
  if (spec.view === "chroot") return ["--bind", spec.root, "/", ...common(spec)];
  // Host view: the host's programs and config read-only, private /tmp and /var/tmp; the writable
  // paths (and read-only files the command needs) are bound after them, so they show through.
  const a = [...hostSystemArgs(), "--tmpfs", "/tmp", "--tmpfs", "/var/tmp"];
  for (const p of spec.readable ?? []) a.push("--ro-bind", p, p);
  for (const p of [spec.root, ...(spec.writable ?? [])]) a.push("--bind", p, p);
  return [...a, ...common(spec)];
}

/** Runs argv inside the sandbox and waits; output streams through opts.onLine. */
export function runSandboxed(spec: SandboxSpec, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(["bwrap", ...bwrapArgs(spec), "--", ...argv], { ...opts, cleanEnv: true, env: { PATH: SANDBOX_PATH } });
}

/** Starts argv inside the sandbox in its own session and process group and returns it (the shell). */
export function spawnSandboxed(
  spec: SandboxSpec,
  argv: string[],
  opts: { stdio?: StdioOptions } = {},
): ChildProcess {
  return spawn("bwrap", [...bwrapArgs(spec), "--", ...argv], {
    stdio: opts.stdio ?? "pipe",
    detached: true, // setsid(): its own session and process group
    env: { PATH: SANDBOX_PATH },
  });
}

/** Writes content to path inside the root, resolved inside the sandbox so a symlink in the image cannot point the write at the host. */
export async function writeInRoot(root: string, path: string, content: string, mode = "0644"): Promise<void> {
  await runSandboxed({ root, view: "chroot" }, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', "sh", path, mode], {
    input: content,
  });
}

/** Reads a file inside the root the same way (undefined if absent). */
export async function readInRoot(root: string, path: string): Promise<string | undefined> {
  const res = await runSandboxed({ root, view: "chroot" }, ["sh", "-c", '[ -f "$1" ] && cat "$1" || exit 3', "sh", path], {
    okCodes: [3],
  });
  return res.exitCode === 3 ? undefined : res.stdout;
}
