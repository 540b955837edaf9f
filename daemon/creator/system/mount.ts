// Mounts: the one module that owns them. Unmounting a busy filesystem is retried, then reported
// with the processes that hold it; it is never lazily detached (a lazy umount hides a leak).
import { readFile, readdir, readlink } from "node:fs/promises";
import { ImgcreateError } from "../../errors.js";
import { run } from "./exec.js";

/** Mount points currently in our mount namespace, in mount order. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => unescape(l.split(" ")[4] ?? ""));
}

function unescape(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function isMounted(target: string): Promise<boolean> {
  return (await mountPoints()).includes(target);
}

export async function mount(source: string, target: string, opts: { type?: string; options?: string } = {}): Promise<void> {
  const args = ["mount"];
  if (opts.type) args.push("-t", opts.type);
  if (opts.options) args.push("-o", opts.options);
  await run([...args, source, target]);
}

/** Processes that keep something under dir open (cwd, root, an open file or a mapped file). */
export async function holders(dir: string): Promise<string[]> {
  const under = (p: string) => p === dir || p.startsWith(dir + "/");
  const found: string[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const links: string[] = [];
    for (const l of ["cwd", "root", "exe"]) links.push(await readlink(`/proc/${d}/${l}`).catch(() => ""));
    const fds = await readdir(`/proc/${d}/fd`).catch(() => [] as string[]);
    for (const fd of fds) links.push(await readlink(`/proc/${d}/fd/${fd}`).catch(() => ""));
    if (links.some(under)) {
      const comm = (await readFile(`/proc/${d}/comm`, "utf8").catch(() => "?")).trim();
      found.push(`${comm} (pid ${d})`);
    }
  }
  return found;
}

/**
 * Unmounts target and everything mounted below it, deepest first. A busy mount is retried for a few
 * seconds, then reported naming what holds it.
 */
export async function unmount(target: string, opts: { retries?: number } = {}): Promise<void> {
  const retries = opts.retries ?? 15;
  const below = (await mountPoints()).filter((m) => m === target || m.startsWith(target + "/")).reverse();
  for (const mp of below) {
    for (let attempt = 0; ; attempt++) {
      if (!(await isMounted(mp))) break;
      try {
        await run(["umount", mp]);
        break;
      } catch (err) {
        if (attempt < retries) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const who = await holders(mp);
        throw new ImgcreateError(
          "Busy",
          `cannot unmount ${mp}: it is busy${who.length ? `, held by ${who.join(", ")}` : ""}; stop those processes and call unmount again`,
          { mountpoint: mp, holders: who },
        );
      }
    }
  }
}

/**
 * Freezes a mounted filesystem (FIFREEZE): everything is written out and the on-disk image is clean and
 * unchanging until thaw(), so the backing file can be copied while mounted.
 */
export async function freeze(target: string): Promise<void> {
  await run(["fsfreeze", "--freeze", target]);
}

/** Thaws a frozen filesystem; a filesystem that is not frozen (or no longer mounted) is left alone. */
export async function thaw(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  await run(["fsfreeze", "--unfreeze", target]).catch((err: Error) => {
    if (!/Invalid argument/.test(err.message)) throw err;
  });
}
