// The machine-wide lock of the test harness: polkit's action and rules directories are global, so only
// one harness may run on the machine at a time, across processes and across engineers' test runs.
// The lock is a kernel flock held by a tiny child (`flock --no-fork ... cat`): when we release it, or
// when this process dies in any way (its stdin pipe closes), the holder exits and the kernel drops it.
// No stale lock files to reclaim, no pid reuse to worry about.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export const HARNESS_LOCK = "/run/lock/imgcreate-test-harness.lock";

export interface MachineLock {
  release(): Promise<void>;
}

/** Waits (up to timeoutSec) until no other harness on the machine holds the lock. */
export async function acquireMachineLock(timeoutSec = 1800): Promise<MachineLock> {
  const holder = spawn(
    "flock",
    ["--exclusive", "--no-fork", "--timeout", String(timeoutSec), HARNESS_LOCK, "sh", "-c", "echo locked; exec cat >/dev/null"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  holder.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const got = await new Promise<boolean>((resolve) => {
    holder.stdout!.once("data", () => resolve(true));
    holder.once("exit", () => resolve(false));
  });
  if (!got) {
    throw new Error(`could not take the test harness lock ${HARNESS_LOCK} within ${timeoutSec} s (another test run holds it): ${stderr.trim()}`);
  }
  return { release: () => releaseHolder(holder) };
}

async function releaseHolder(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return;
  const exited = once(holder, "exit");
  holder.stdin!.end(); // EOF: cat exits, and with it the lock
  await exited;
}
