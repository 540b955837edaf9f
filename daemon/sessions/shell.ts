// A shell inside a session's install root on a fresh pty (LESSONS.md): the pty is opened raw with node-pty's
// native open(), the command runs through the engine's sandboxed spawnInRoot with `setsid -c` on the slave
// (so the pty becomes its controlling terminal), and the master goes to the client. Our copy of the slave is
// closed at once; the process stays our child and is killed when the session closes.
import { closeSync } from "node:fs";
import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import { ImgcreateError } from "../errors.js";
import type { Session } from "./session.js";

interface PtyNative {
  open(cols: number, rows: number): { master: number; slave: number; pty: string };
  resize(fd: number, cols: number, rows: number): void;
}

let native: PtyNative | undefined;
function pty(): PtyNative {
  native ??= createRequire(import.meta.url)("node-pty/build/Release/pty.node") as PtyNative;
  return native;
}

export interface Shell {
  id: string;
  /** The pty master; whoever receives it owns it (close it after sending it away). */
  master: number;
  child: ChildProcess;
  exited: Promise<number>;
}

let counter = 0;
const shells = new Map<string, Set<Shell>>();

export async function openShell(s: Session, argv: string[], opts: { term?: string; rows?: number; cols?: number }): Promise<Shell> {
  const c = s.creator;
  if (!c?.spawnInRoot) throw new ImgcreateError("InvalidState", `session ${s.id} has no install root to open a shell in`);
  const { master, slave } = pty().open(opts.cols || 80, opts.rows || 24);
  let child: ChildProcess;
  try {
    const cmd = argv.length > 0 ? argv : ["/bin/sh", "-l"];
    child = c.spawnInRoot(["setsid", "-c", ...cmd], {
      stdio: [slave, slave, slave],
      env: { TERM: opts.term ?? "xterm-256color", HOME: "/root", PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
    });
  } catch (err) {
    closeSync(master);
    throw err;
  } finally {
    closeSync(slave);
  }
  const exited = new Promise<number>((resolve) => {
    child.on("error", () => resolve(127));
    child.on("exit", (code, sig) => resolve(code ?? 128 + (sig ? 9 : 0)));
  });
  const shell: Shell = { id: `${s.id}-${++counter}`, master, child, exited };
  const set = shells.get(s.id) ?? new Set<Shell>();
  set.add(shell);
  shells.set(s.id, set);
  void exited.then(() => set.delete(shell));
  s.log?.info(`shell ${shell.id} opened: ${argv.join(" ") || "/bin/sh -l"}`);
  return shell;
}

/** Sets the pty's window size (TIOCSWINSZ on the master); the kernel sends the shell SIGWINCH. */
export function resizeShell(shell: Shell, rows: number, cols: number): void {
  if (rows < 1 || cols < 1) throw new ImgcreateError("InvalidArgs", `a terminal needs at least 1 row and 1 column, got ${rows}x${cols}`);
  try {
    pty().resize(shell.master, cols, rows);
  } catch (err) {
    throw new ImgcreateError("InvalidState", `shell ${shell.id} has ended; it cannot be resized (${(err as Error).message})`);
  }
}

/** Kills the session's shells and waits for them (before its root is unmounted or the session closed). */
export async function closeShells(sessionId: string): Promise<void> {
  const set = shells.get(sessionId);
  if (!set) return;
  for (const sh of set) sh.child.kill("SIGKILL");
  await Promise.all([...set].map((sh) => sh.exited));
  shells.delete(sessionId);
}
