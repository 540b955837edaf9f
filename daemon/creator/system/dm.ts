// Device-mapper tables: the one module that owns them, through dmsetup (Debian's dmsetup package).
// Every table is named after the session that owns it ("imgcreate-<owner>-<what>"), so `dmsetup ls`
// says whose it is, and the journal records the name before the table exists (kind "dm"), so recovery
// removes it after a crash like a loop device or a mount. Snapshots follow the kernel's
// Documentation/admin-guide/device-mapper/snapshot.rst: a snapshot-origin over the image's device takes
// the writes, and each snapshot keeps the blocks it overwrote in its own copy-on-write device.
import { closeSync, existsSync, openSync } from "node:fs";
import { ImgcreateError } from "../../errors.js";
import { run } from "./exec.js";

export const DM_CONTROL = "/dev/mapper/control";

/**
 * Whether this kernel has device-mapper (the daemon falls back to reflink or sparse copies without it).
 * The control node alone proves nothing: dmsetup makes it where it is missing, driver or not; opening it
 * asks the kernel (and loads dm-mod where it may).
 */
export function available(control = DM_CONTROL): boolean {
  if (!existsSync(control)) return false;
  try {
    closeSync(openSync(control, "r"));
    return true;
  } catch {
    return false;
  }
}

const NAME = /^imgcreate-[A-Za-z0-9_.+-]{1,100}$/;

/** The table name for owner's (a session id) `what`: only characters dmsetup and udev take as they are. */
export function tableName(owner: string, what: string): string {
  const name = `imgcreate-${owner}-${what}`.replace(/[^A-Za-z0-9_.+-]/g, "_");
  if (!NAME.test(name)) throw new ImgcreateError("InvalidArgs", `"${name}" is not a usable device-mapper name`);
  return name;
}

/** Without a running udev (a container, the test VM), dmsetup must make the /dev/mapper node itself. */
function udevArgs(): string[] {
  return existsSync("/run/udev/control") ? [] : ["--noudevsync", "--verifyudev"];
}

export function devicePath(name: string): string {
  return `/dev/mapper/${name}`;
}

/** Size of a block device in 512-byte sectors, as tables count. */
export async function sectors(dev: string): Promise<number> {
  return Number((await run(["blockdev", "--getsz", dev])).stdout.trim());
}

/** Creates table `name` from one table line; returns its device path. */
export async function create(name: string, table: string): Promise<string> {
  await run(["dmsetup", "create", ...udevArgs(), name, "--table", table]);
  return devicePath(name);
}

/**
 * Replaces a table in place (suspend, load, resume): a mounted filesystem on it stays mounted. With
 * frozen set the caller has frozen the filesystem already (suspend would try again and fail with EBUSY).
 */
export async function reload(name: string, table: string, opts: { frozen?: boolean } = {}): Promise<void> {
  await run(["dmsetup", "suspend", ...(opts.frozen ? ["--nolockfs"] : []), name]);
  try {
    await run(["dmsetup", "load", name, "--table", table]);
  } finally {
    await run(["dmsetup", "resume", ...udevArgs(), name]);
  }
}

/**
 * Adds a snapshot to the device under table `origin` (whose table becomes snapshot-origin over base)
 * while a filesystem on it stays mounted. makeSnapshot creates the snapshot table (the caller journals
 * it). Order matters: the origin is resumed only once the snapshot exists, because the origin sizes
 * its writes to the snapshots' chunk size when it resumes; resumed before, a write larger than a chunk
 * would save only its first chunk in the snapshot.
 */
export async function addSnapshot(origin: string, base: string, size: number, makeSnapshot: () => Promise<string>, opts: { frozen?: boolean } = {}): Promise<string> {
  await run(["dmsetup", "suspend", ...(opts.frozen ? ["--nolockfs"] : []), origin]);
  try {
    const dev = await makeSnapshot();
    await run(["dmsetup", "load", origin, "--table", tables.origin(base, size)]);
    return dev;
  } finally {
    await run(["dmsetup", "resume", ...udevArgs(), origin]);
  }
}

/** Loads table name again as it is: its limits (discard support) are stacked anew from the devices below. */
export async function restack(name: string): Promise<void> {
  const lines = (await run(["dmsetup", "table", name])).stdout.trim();
  await reload(name, lines);
}

/**
 * A table left suspended (its holder killed between suspend and resume) blocks every I/O to it, so an
 * umount above it would hang: its half-loaded table is dropped and it is resumed as it was. No-op otherwise.
 */
export async function unsuspend(name: string): Promise<void> {
  const r = await run(["dmsetup", "info", "-c", "--noheadings", "-o", "suspended", name], { okCodes: [1] });
  if (!/^Suspended/i.test(r.stdout.trim())) return;
  await run(["dmsetup", "clear", name], { okCodes: [1] });
  await run(["dmsetup", "resume", ...udevArgs(), name]);
}

export async function exists(name: string): Promise<boolean> {
  const r = await run(["dmsetup", "info", "-c", "--noheadings", "-o", "name", name], { okCodes: [1] });
  return r.stdout.trim() === name;
}

/** Removes table name if it exists; retries while something still has it open. Idempotent. */
export async function remove(name: string): Promise<void> {
  if (!(await exists(name))) return;
  await run(["dmsetup", "remove", ...udevArgs(), "--retry", name]);
}

/** Names of the tables whose name starts with prefix. */
export async function list(prefix = "imgcreate-"): Promise<string[]> {
  const r = await run(["dmsetup", "ls"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(prefix));
}

/** A snapshot's copy-on-write use: sectors allocated, of the COW device's total, and metadata sectors. */
export interface CowUsage {
  allocated: number;
  total: number;
  metadata: number;
}

/** Reads a snapshot table's status ("<allocated>/<total> <metadata>"; "Invalid" when the COW overflowed). */
export async function cowUsage(name: string): Promise<CowUsage> {
  const line = (await run(["dmsetup", "status", name])).stdout.trim();
  const m = /\bsnapshot(?:-merge)? (\d+)\/(\d+) (\d+)/.exec(line);
  if (!m) throw new ImgcreateError("Failed", `device-mapper snapshot ${name} is not usable: ${line}`);
  return { allocated: Number(m[1]), total: Number(m[2]), metadata: Number(m[3]) };
}

/** A mirror's resynchronization: regions in sync of the total, and whether every leg is alive ("A"). */
export interface MirrorSync {
  inSync: number;
  total: number;
  healthy: boolean;
}

/** Reads a mirror table's status ("mirror 2 <dev> <dev> <in-sync>/<total> 1 <health> ..."). */
export function parseMirrorStatus(line: string): MirrorSync {
  const m = /\bmirror \d+ (?:\S+ )+?(\d+)\/(\d+) \d+ ([A-Za-z]+)/.exec(line);
  if (!m) throw new ImgcreateError("Failed", `device-mapper mirror status not understood: ${line}`);
  return { inSync: Number(m[1]), total: Number(m[2]), healthy: /^A+$/.test(m[3]!) };
}

export async function mirrorSync(name: string): Promise<MirrorSync> {
  return parseMirrorStatus((await run(["dmsetup", "status", name])).stdout.trim());
}

/** Table lines for the snapshot targets (persistent COW, 4 KiB chunks) and the mirror that copies a clone into its own image. */
export const tables = {
  origin: (dev: string, size: number) => `0 ${size} snapshot-origin ${dev}`,
  snapshot: (origin: string, cow: string, size: number) => `0 ${size} snapshot ${origin} ${cow} P 8`,
  merge: (origin: string, cow: string, size: number) => `0 ${size} snapshot-merge ${origin} ${cow} P 8`,
  linear: (dev: string, size: number) => `0 ${size} linear ${dev} 0`,
  /** Reads from `from`, writes to both; the kernel copies `from` into `to` region by region (512 KiB, log in memory). */
  mirror: (from: string, to: string, size: number) => `0 ${size} mirror core 1 1024 2 ${from} 0 ${to} 0`,
};
