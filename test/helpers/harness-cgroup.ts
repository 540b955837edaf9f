// The daemon under test runs in its own cgroup (v2), as under systemd: when its main process ends —
// stopped, crashed or kill -9 — whatever it left running (mmdebstrap, bwrap, a shell) is killed with it,
// like KillMode=mixed does. Without a writable cgroup2 hierarchy we fall back to the process group.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CANDIDATES = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"];
const PREFIX = "imgcreate-test-daemon-";

function cgroup2Root(): string | undefined {
  for (const root of CANDIDATES) {
    if (existsSync(join(root, "cgroup.procs")) && existsSync(join(root, "cgroup.controllers"))) return root;
  }
  return undefined;
}

/** Empty leftovers of runs that died before cleaning up. */
function sweepStale(root: string): void {
  for (const name of readdirSync(root)) {
    if (!name.startsWith(PREFIX)) continue;
    try {
      rmdirSync(join(root, name)); // fails (and is kept) while it still has processes
    } catch {
      /* still in use by a live harness */
    }
  }
}

/** Creates a fresh cgroup for one daemon run, or undefined when cgroup2 is not usable here. */
export function makeDaemonCgroup(tag: string): string | undefined {
  const root = cgroup2Root();
  if (!root) return undefined;
  try {
    sweepStale(root);
    const dir = join(root, `${PREFIX}${process.pid}-${tag}`);
    mkdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs everything left in the cgroup, waits until it is empty, removes it. */
export async function killCgroup(dir: string, timeoutMs = 10_000): Promise<void> {
  if (!existsSync(dir)) return;
  const deadline = Date.now() + timeoutMs;
  while (cgroupPids(dir).length > 0) {
    if (existsSync(join(dir, "cgroup.kill"))) writeFileSync(join(dir, "cgroup.kill"), "1");
    else for (const pid of cgroupPids(dir)) tryKill(pid);
    if (Date.now() > deadline) throw new Error(`processes left in ${dir}: ${cgroupPids(dir).join(" ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  rmdirSync(dir);
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}
