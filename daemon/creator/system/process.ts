// Processes we started: find a process's descendants through /proc and kill the whole tree. PID 1
// does not reap orphans here, so every process must be stopped deliberately, never left running.
import { readFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";

interface Stat {
  ppid: number;
  starttime: string;
}

async function stat(pid: number): Promise<Stat | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    if (f[0] === "Z") return undefined; // a zombie holds nothing
    return { ppid: Number(f[1]), starttime: f[19] ?? "" };
  } catch {
    return undefined;
  }
}

/** This boot's id: a pid recorded in an earlier boot names nothing of ours. */
export function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}

/** The kernel's start time of pid (clock ticks since boot): with the pid it names one process for good. */
export async function startTime(pid: number): Promise<string | undefined> {
  return (await stat(pid))?.starttime;
}

/** pid and all its living descendants, parents first. */
export async function processTree(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const d of await readdir("/proc")) {
    const p = Number(d);
    if (!Number.isInteger(p)) continue;
    const s = await stat(p);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(p);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function alive(pids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of pids) if (await stat(p)) out.push(p);
  return out;
}

/**
 * Stops pid and every descendant: SIGTERM to the tree (so mmdebstrap and dpkg can clean up), then
 * SIGKILL to whatever is left after graceMs. If expectStart is given, a pid that now names a
 * different process (reused after a crash) is left alone.
 */
export async function killTree(pid: number, graceMs = 3000, expectStart?: string): Promise<void> {
  const st = await stat(pid);
  if (!st || (expectStart !== undefined && st.starttime !== expectStart)) return;
  let tree = await processTree(pid);
  for (const p of tree) signal(p, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    tree = await alive(tree);
    if (tree.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Collect late-born descendants too, then kill everything still alive.
  const more = new Set(tree);
  for (const p of tree) for (const q of await processTree(p)) more.add(q);
  for (const p of more) signal(p, "SIGKILL");
}
