// Limits for everything a sandbox runs: one cgroup per mounted install root, below the daemon's own
// (cgroup v2 with Delegate=yes under systemd; cgroup v1's pids and memory hierarchies where those
// are what the machine has, as on the test machines). The cgroup bounds tasks and memory; its event
// counters tell a fork bomb or an out-of-memory kill apart from an ordinary failure; releasing it
// kills whatever is still inside, so nothing a sandbox started can outlive its root.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";

const FS = "/sys/fs/cgroup";

export interface Limits {
  /** Most tasks (processes and threads) at once. */
  tasks: number;
  /** Most memory in bytes (swap included where the kernel counts it). */
  memoryBytes: number;
}

export interface Counters {
  /** Times a fork failed at the task limit. */
  taskLimitHits: number;
  /** Processes the kernel's OOM killer ended at the memory limit. */
  oomKills: number;
}

/** The cgroup directories of one sandbox: one on v2, one per controller on v1. */
export interface Cgroup {
  version: 1 | 2;
  pids: string;
  memory: string;
}

/** This process's own cgroup path in a hierarchy ("" for v2's unified one). */
function ownPath(controller: string): string | undefined {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, ctrls, path] = line.split(":");
    if (ctrls === undefined || path === undefined) continue;
    if (controller === "" ? line.startsWith("0::") : ctrls.split(",").includes(controller)) return path;
  }
  return undefined;
}

function isV2(): boolean {
  return existsSync(join(FS, "cgroup.controllers"));
}

/** What the machine offers, for the error when it offers nothing usable. */
export function available(): boolean {
  return isV2() || (existsSync(join(FS, "pids", "cgroup.procs")) && existsSync(join(FS, "memory", "cgroup.procs")));
}

/** Under v2 a cgroup with processes cannot give controllers to children: the daemon moves itself into a leaf first. */
async function delegateV2(parent: string): Promise<void> {
  const enabled = await readFile(join(parent, "cgroup.subtree_control"), "utf8");
  if (/\bpids\b/.test(enabled) && /\bmemory\b/.test(enabled)) return;
  const procs = (await readFile(join(parent, "cgroup.procs"), "utf8")).trim();
  if (procs) {
    await mkdir(join(parent, "supervisor"), { recursive: true });
    for (const pid of procs.split("\n")) await writeFile(join(parent, "supervisor", "cgroup.procs"), pid).catch(() => undefined);
  }
  await writeFile(join(parent, "cgroup.subtree_control"), "+pids +memory");
}

/** The directories a sandbox named `name` would use (nothing is created). */
export function paths(name: string): Cgroup {
  if (isV2()) {
    const dir = join(FS, ownPath("")?.replace(/\/supervisor$/, "") ?? "/", `imgcreate-${name}`);
    return { version: 2, pids: dir, memory: dir };
  }
  return {
    version: 1,
    pids: join(FS, "pids", ownPath("pids") ?? "/", `imgcreate-${name}`),
    memory: join(FS, "memory", ownPath("memory") ?? "/", `imgcreate-${name}`),
  };
}

export async function create(cg: Cgroup, limits: Limits): Promise<void> {
  if (!available()) {
    throw new ImgcreateError("Failed", "the sandbox needs cgroup v2, or cgroup v1 with the pids and memory controllers, to bound what a build runs; none is mounted under /sys/fs/cgroup");
  }
  if (cg.version === 2) {
    await delegateV2(join(cg.pids, ".."));
    await mkdir(cg.pids);
    await writeFile(join(cg.pids, "pids.max"), String(limits.tasks));
    await writeFile(join(cg.memory, "memory.max"), String(limits.memoryBytes));
    await writeFile(join(cg.memory, "memory.swap.max"), "0").catch(() => undefined);
    return;
  }
  await mkdir(cg.pids);
  await mkdir(cg.memory);
  await writeFile(join(cg.pids, "pids.max"), String(limits.tasks));
  await writeFile(join(cg.memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
  // Memory and swap together, where swap accounting is on; otherwise swap is not bounded.
  await writeFile(join(cg.memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes)).catch(() => undefined);
}

/** The cgroup.procs files a new process writes its pid into to enter the sandbox's cgroup. */
export function procsFiles(cg: Cgroup): string[] {
  return [...new Set([cg.pids, cg.memory])].map((d) => join(d, "cgroup.procs"));
}

function field(text: string, key: string): number {
  const m = new RegExp(`^${key}\\s+(\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

export async function counters(cg: Cgroup): Promise<Counters> {
  const read = (p: string) => readFile(p, "utf8").catch(() => "");
  const taskLimitHits = field(await read(join(cg.pids, "pids.events")), "max");
  const oomKills = cg.version === 2
    ? field(await read(join(cg.memory, "memory.events")), "oom_kill")
    : field(await read(join(cg.memory, "memory.oom_control")), "oom_kill");
  return { taskLimitHits, oomKills };
}

async function members(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map(Number);
}

/** Kills everything in the cgroup (repeatedly: a fork bomb refills it) and removes it. Idempotent. */
export async function remove(cg: Cgroup): Promise<void> {
  for (const dir of [...new Set([cg.pids, cg.memory])]) {
    if (!existsSync(dir)) continue;
    if (cg.version === 2) await writeFile(join(dir, "cgroup.kill"), "1").catch(() => undefined);
    for (let i = 0; i < 100; i++) {
      const pids = await members(dir);
      if (pids.length === 0) break;
      for (const p of pids) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw new ImgcreateError("Busy", `cannot remove the sandbox cgroup ${dir}: ${err.message}`);
    });
  }
}
