// Children of the test harness: started with their output in a log file, stopped by pid and waited for
// (PID 1 here does not reap orphans), and polled for readiness with a deadline that names what failed.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { openSync, closeSync, readFileSync, existsSync } from "node:fs";

export interface LoggedChild {
  child: ChildProcess;
  log: string;
}

/** Starts cmd with stdout+stderr appended to `log`; extra stdio entries (e.g. fd 3 as a pipe) may follow. */
export function startLogged(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; log: string; extraStdio?: Array<"pipe" | "ignore" | number>; detached?: boolean; cwd?: string },
): LoggedChild {
  const fd = openSync(opts.log, "a");
  try {
    const stdio = ["ignore", fd, fd, ...(opts.extraStdio ?? [])] as StdioOptions;
    const child = spawn(cmd, args, { env: opts.env, stdio, detached: opts.detached ?? false, cwd: opts.cwd });
    child.on("error", () => {}); // reported through exitCode/waitUntil, not as an unhandled event
    return { child, log: opts.log };
  } finally {
    closeSync(fd); // the child has its own copy
  }
}

export function isRunning(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null && child.pid !== undefined;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Sends `signal`, waits up to graceMs, then SIGKILL and waits again. Always returns with the child reaped. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<ExitStatus> {
  if (!isRunning(child)) return { code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null };
  const exited = new Promise<ExitStatus>((resolve) =>
    child.once("exit", (code, sig) => resolve({ code, signal: sig })),
  );
  child.kill(signal);
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
  if ((await Promise.race([exited, timer])) === "timeout") child.kill("SIGKILL");
  return exited;
}

/** Polls `ready` every intervalMs until it returns true; throws with `describe()`'s text after timeoutMs. */
export async function waitUntil(
  ready: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; what: string; intervalMs?: number; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const why = opts.abort?.();
    if (why !== undefined) throw new Error(`${opts.what}: ${why}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

/** The last lines of a log file, for error messages. */
export function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
