// Copies of our mounts in other mount namespaces. A process that makes a private mount namespace
// (mmdebstrap --mode=unshare, unshare -m) while an install root is mounted gets its own copy of that
// mount; our umount then only removes the host's, the file system stays alive and its loop device
// cannot be detached until that process ends. Seen here whenever builds run side by side.
import { readFile, readdir, readlink, stat } from "node:fs/promises";

/** "major:minor" of a block device node (a loop device, a /dev/mapper table) as mountinfo writes it. */
export async function deviceNumber(dev: string): Promise<string | undefined> {
  const st = await stat(dev).catch(() => undefined);
  if (!st?.isBlockDevice()) return undefined;
  // Linux's encoding of dev_t (glibc's gnu_dev_major / gnu_dev_minor).
  const r = BigInt(st.rdev);
  const major = ((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn);
  const minor = (r & 0xffn) | ((r >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Processes in other mount namespaces that have the file system of device `devNum` mounted (one per namespace). */
export async function otherNamespaceHolders(devNum: string): Promise<string[]> {
  const self = await readlink("/proc/self/ns/mnt");
  const seen = new Set<string>([self]);
  const out: string[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const ns = await readlink(`/proc/${d}/ns/mnt`).catch(() => "");
    if (ns === "" || seen.has(ns)) continue;
    const info = await readFile(`/proc/${d}/mountinfo`, "utf8").catch(() => "");
    if (info.split("\n").some((l) => l.split(" ")[2] === devNum)) {
      seen.add(ns);
      const comm = (await readFile(`/proc/${d}/comm`, "utf8").catch(() => "?")).trim();
      out.push(`${comm} (pid ${d})`);
    }
  }
  return out;
}

/**
 * Waits until no other mount namespace holds the device's file system (or the time is up, or the
 * signal aborts), reporting once who is waited for. Returns those still holding it.
 */
export async function waitForOtherHolders(dev: string, opts: { timeoutMs: number; signal?: AbortSignal; onWait?: (who: string[]) => void }): Promise<string[]> {
  const num = await deviceNumber(dev);
  if (!num) return [];
  const deadline = Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    const who = await otherNamespaceHolders(num);
    if (who.length === 0 || Date.now() > deadline || opts.signal?.aborted) return who;
    if (!told) opts.onWait?.(who);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
