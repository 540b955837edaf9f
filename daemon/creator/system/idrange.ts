// Host id ranges for sandboxes. Each mounted install root gets 65536 host uids/gids of its own, which
// its sandbox's user namespace maps to 0..65535: what runs there as "root" is, on the host, an
// unprivileged uid that owns nothing outside the image. A range is held by an exclusive mkdir of
// <runDir>/idranges/<slot> (atomic, machine-wide, like systemd-nspawn's uid lock files), journaled
// before it is taken and removed when the root is unmounted or recovered after a crash.
// imgcreated's ranges: host ids 0x70000000 (1879048192) up to 0x7fffffff; give them to no user.
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";

export const ID_BASE = 0x7000_0000;
export const ID_COUNT = 0x1_0000;
const SLOTS = 0x1000;

export interface IdRange {
  base: number;
  count: number;
  /** The lock directory that holds this range. */
  lock: string;
}

export function lockDir(runDir: string): string {
  return join(runDir, "idranges");
}

/** The lowest free range; owner (the work dir) is written into the lock for whoever looks. */
export async function allocate(runDir: string, owner: string): Promise<IdRange> {
  const dir = lockDir(runDir);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (let slot = 0; slot < SLOTS; slot++) {
    const lock = join(dir, String(slot));
    try {
      await mkdir(lock, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    try {
      await writeFile(join(lock, "owner"), owner + "\n");
    } catch (err) {
      await rm(lock, { recursive: true, force: true });
      throw err;
    }
    return { base: ID_BASE + slot * ID_COUNT, count: ID_COUNT, lock };
  }
  throw new ImgcreateError("Busy", `all ${SLOTS} sandbox id ranges are in use; close some sessions`);
}

/** Frees every range in dir (a lockDir) held for owner. Idempotent. */
export async function freeOwned(dir: string, owner: string): Promise<void> {
  for (const slot of await readdir(dir).catch(() => [] as string[])) {
    const lock = join(dir, slot);
    const who = await readFile(join(lock, "owner"), "utf8").catch(() => undefined);
    // A lock without its owner file yet was taken by a process that died at once: ours only if we know it.
    if (who?.trim() === owner) await rm(lock, { recursive: true, force: true });
  }
}
