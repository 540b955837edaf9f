// The install root on device-mapper, where the kernel has it: the image's loop device under an origin
// table (imgcreate-<owner>-root), so checkpoints are snapshots (imgcreate-<owner>-ckpt-<name>) whose
// copy-on-write store is a sparse file in the checkpoint's directory: taken in constant time, put back by
// the kernel's snapshot-merge. Every table and loop device is journaled before it exists. The COW files
// are persistent: after an unmount (or a restart) the snapshots are set up again from them, before
// anything writes the image.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ImgcreateError } from "../errors.js";
import type { Journal } from "./journal.js";
import * as dm from "./system/dm.js";
import * as loop from "./system/loop.js";
import { run } from "./system/exec.js";

const pexec = promisify(execFile);

interface Snap {
  table: string;
  tableId: number;
  cowLoop: string;
  cowLoopId: number;
}

export class DmRoot {
  private originId: number | undefined;
  private readonly snaps = new Map<string, Snap>();
  /** Clones still reading this root through a snapshot of it, by owner: closing or merging waits for them. */
  private readonly dependents = new Map<string, Promise<void>>();
  private base = "";
  private size = 0;
  readonly origin: string;

  /** The image's size in 512-byte sectors (once open). */
  get sectors(): number {
    return this.size;
  }

  constructor(
    private readonly journal: Journal,
    private readonly owner: string,
  ) {
    this.origin = dm.tableName(owner, "root");
  }

  /** The device to mount: the origin table over base (a loop device), with the given checkpoints' snapshots set up again. */
  async open(base: string, checkpoints: { name: string; cow: string }[]): Promise<string> {
    this.base = base;
    this.size = await dm.sectors(base);
    const { id } = await this.journal.take("dm", { name: this.origin }, () => dm.create(this.origin, dm.tables.linear(base, this.size)));
    this.originId = id;
    for (const c of checkpoints) await this.addSnapshot(c.name, c.cow);
    return dm.devicePath(this.origin);
  }

  /** A new checkpoint: a sparse COW file as large as the image, zeroed header, its snapshot added. The filesystem is frozen by the caller. */
  async checkpoint(name: string, cow: string): Promise<void> {
    await run(["truncate", "-s", String(this.size * 512), cow]);
    await this.addSnapshot(name, cow, true);
  }

  private async addSnapshot(name: string, cow: string, frozen = false): Promise<void> {
    const l = await this.journal.take("loop", { path: cow }, () => loop.attach(cow));
    const table = dm.tableName(this.owner, `ckpt-${name}`);
    let tableId = -1;
    const make = async () => {
      const t = await this.journal.take("dm", { name: table }, () => dm.create(table, dm.tables.snapshot(this.base, l.value, this.size)));
      tableId = t.id;
      return t.value;
    };
    try {
      await dm.addSnapshot(this.origin, this.base, this.size, make, { frozen });
    } catch (err) {
      // Nothing half made stays: the table (if it came to be), then the COW's loop device.
      if (tableId >= 0) await this.journal.release(tableId).catch(() => undefined);
      await this.journal.release(l.id).catch(() => undefined);
      throw err;
    }
    this.snaps.set(name, { table, tableId, cowLoop: l.value, cowLoopId: l.id });
  }

  /**
   * Lets another session's clone make its snapshot of this root (journaled by the clone; the filesystem
   * is frozen by the caller). Until `released` settles, close() and rollback() wait for the clone.
   */
  async share(who: string, released: Promise<void>, makeSnapshot: (origin: string, size: number) => Promise<string>): Promise<string> {
    this.dependents.set(who, released);
    void released.then(() => this.dependents.delete(who));
    return dm.addSnapshot(this.origin, this.base, this.size, () => makeSnapshot(this.base, this.size), { frozen: true });
  }

  /** Waits until no clone reads this root any more; onWait hears whose copies are still running. */
  async settle(onWait?: (owners: string[]) => void): Promise<void> {
    while (this.dependents.size > 0) {
      onWait?.([...this.dependents.keys()]);
      await Promise.allSettled([...this.dependents.values()]);
    }
  }

  /** Bytes of the checkpoint's COW in use (its exceptions and their metadata). */
  async usage(name: string): Promise<number> {
    const s = this.snaps.get(name);
    if (!s) return 0;
    const u = await dm.cowUsage(s.table);
    return u.allocated * 512;
  }

  has(name: string): boolean {
    return this.snaps.has(name);
  }

  get names(): string[] {
    return [...this.snaps.keys()];
  }

  /**
   * Puts the origin back as the checkpoint saw it (the filesystem must be unmounted): the origin's table
   * becomes snapshot-merge over the checkpoint's COW (the kernel hands the snapshot's exceptions over to
   * it), the snapshot table goes, and once the kernel has merged every chunk the checkpoint is taken
   * again from a fresh COW, so it stays to roll back to.
   */
  async rollback(name: string, cow: string, signal?: AbortSignal): Promise<void> {
    const s = this.snaps.get(name);
    if (!s) throw new ImgcreateError("Failed", `checkpoint ${name} has no device-mapper snapshot set up`);
    // A merge with a clone's snapshot beside it would hand the clone the rolled-back blocks.
    await this.settle();
    // The snapshot must be suspended when the merge table resumes: that is when the kernel hands over.
    await run(["dmsetup", "suspend", s.table]);
    await dm.reload(this.origin, dm.tables.merge(this.base, s.cowLoop, this.size));
    await this.journal.release(s.tableId);
    await this.waitForMerge(signal);
    // The merge table holds the COW's loop device: back to a plain origin before letting it go.
    await dm.reload(this.origin, dm.tables.origin(this.base, this.size));
    await this.journal.release(s.cowLoopId);
    this.snaps.delete(name);
    await zeroHeader(cow);
    await this.addSnapshot(name, cow);
  }

  /** Waits until snapshot-merge reports only metadata left (status "<allocated>/<total> <metadata>" with allocated == metadata). */
  private async waitForMerge(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const u = await dm.cowUsage(this.origin);
      if (u.allocated <= u.metadata) return;
      if (signal?.aborted) throw new ImgcreateError("Cancelled", "rollback cancelled while the kernel merges; the checkpoint is being put back");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Removes a checkpoint's snapshot table and COW loop device (the caller removes its directory). */
  async drop(name: string): Promise<void> {
    const s = this.snaps.get(name);
    if (!s) return;
    await this.journal.release(s.tableId);
    await this.journal.release(s.cowLoopId);
    this.snaps.delete(name);
  }

  /** Removes every table of this root (snapshots first) and their COW loop devices; the COW files stay. */
  async close(): Promise<void> {
    await this.settle();
    for (const name of [...this.snaps.keys()].reverse()) await this.drop(name);
    if (this.originId !== undefined) await this.journal.release(this.originId);
    this.originId = undefined;
  }
}

/** A persistent COW store starts new when its first chunk is zero (the kernel writes a fresh header). */
async function zeroHeader(cow: string): Promise<void> {
  await pexec("dd", ["if=/dev/zero", `of=${cow}`, "bs=4096", "count=1", "conv=notrunc", "status=none"]);
}
