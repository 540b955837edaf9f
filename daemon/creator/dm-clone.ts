// A clone on device-mapper: usable in constant time, its own image in the background. Debian's kernel has
// no dm-clone target, so a clone starts as a writable snapshot of its source's mounted root
// (imgcreate-<clone>-source, its COW a sparse file in the clone's work dir) under a mirror
// (imgcreate-<clone>-base) whose second leg is the clone's own image file on a loop device: the kernel
// copies the snapshot into the image region by region while the clone is used (writes go to both legs),
// as pvmove moves a volume. Once in sync the mirror becomes a linear table over the image, the snapshot
// and its COW go, and the source, which waits for that before it unmounts, merges or closes, is free.
// An unmounted source is read through a read-only loop device of the clone's own instead (nothing
// writes it while the clone reads: the source's next attach waits, readers() below); the clone is then
// unmounted too, and lets go of its tables once copied.
import { ImgcreateError } from "../errors.js";
import type { Journal } from "./journal.js";
import * as dm from "./system/dm.js";
import { sparseFile } from "./system/filesystem.js";
import * as loop from "./system/loop.js";

/** Makes the clone's snapshot of the source (journaled by the clone) while the source's root stays consistent. */
export type ShareSource = (makeSnapshot: (origin: string, size: number) => Promise<string>) => Promise<string>;

/** Clones reading an unmounted image file (by its path) through their own read-only loop devices. */
const fileReaders = new Map<string, Set<Promise<void>>>();

/** Records that a clone reads image until released settles. */
export function addReader(image: string, released: Promise<void>): void {
  const set = fileReaders.get(image) ?? new Set();
  fileReaders.set(image, set);
  set.add(released);
  void released.then(() => {
    set.delete(released);
    if (set.size === 0 && fileReaders.get(image) === set) fileReaders.delete(image);
  });
}

/** Waits until no clone reads image any more (before anything writes it); onWait hears it once if it must wait. */
export async function settleReaders(image: string, onWait?: () => void): Promise<void> {
  let told = false;
  for (let set = fileReaders.get(image); set && set.size > 0; set = fileReaders.get(image)) {
    if (!told) onWait?.();
    told = true;
    await Promise.allSettled([...set]);
  }
}

export class CloneCopy {
  /** Settles once the clone reads nothing of its source any more (copied, or its tables removed). */
  readonly released: Promise<void>;
  private letGo!: () => void;
  private readonly ids: number[] = [];
  private baseId: number | undefined;
  private readonly baseName: string;
  private readonly snapName: string;

  constructor(
    private readonly journal: Journal,
    owner: string,
    /** The clone's own image, attached (the mirror's second leg). */
    private readonly ownDevice: string,
    private readonly size: number,
  ) {
    this.baseName = dm.tableName(owner, "base");
    this.snapName = dm.tableName(owner, "source");
    this.released = new Promise((r) => (this.letGo = r));
  }

  /** The device the clone's root table sits on: the mirror, later linear over the clone's own image. */
  get device(): string {
    return dm.devicePath(this.baseName);
  }

  /**
   * Snapshot of the source (its COW in file cow), prepare() on it (the clone's new label and UUID), then
   * the mirror over it. What is taken is released again if a step fails.
   */
  async start(cow: string, share: ShareSource, prepare: (snapshot: string) => Promise<void>): Promise<void> {
    try {
      const f = await this.journal.take("file", { path: cow }, () => sparseFile(cow, this.size * 512));
      this.ids.push(f.id);
      const l = await this.journal.take("loop", { path: cow }, () => loop.attach(cow));
      this.ids.push(l.id);
      const snapshot = await share(async (origin, size) => {
        if (size !== this.size) throw new ImgcreateError("Failed", `the source image has ${size} sectors, the clone's ${this.size}`);
        const t = await this.journal.take("dm", { name: this.snapName }, () => dm.create(this.snapName, dm.tables.snapshot(origin, l.value, size)));
        this.ids.push(t.id);
        return t.value;
      });
      await prepare(snapshot);
      const b = await this.journal.take("dm", { name: this.baseName }, () => dm.create(this.baseName, dm.tables.mirror(snapshot, this.ownDevice, this.size)));
      this.baseId = b.id;
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  /** Takes a read-only loop device of the clone's own on the source's unmounted image file (for start's share). */
  async snapshotFile(image: string, makeSnapshot: (origin: string, size: number) => Promise<string>): Promise<string> {
    const l = await this.journal.take("loop", { path: image, readOnly: true }, () => loop.attach(image, { readOnly: true }));
    this.ids.push(l.id);
    addReader(image, this.released);
    return makeSnapshot(l.value, await dm.sectors(l.value));
  }

  /**
   * Waits for the kernel's copy, then puts the clone on its own image alone and lets the source go.
   * A dead leg or a cancel (the clone closing) throws: the tables then stay for the clone's cleanup.
   */
  async copy(signal: AbortSignal): Promise<void> {
    for (;;) {
      const s = await dm.mirrorSync(this.baseName);
      if (!s.healthy) throw new ImgcreateError("Failed", "copying the clone into its own image failed (a device-mapper mirror leg died); close the clone");
      if (s.inSync >= s.total) break;
      if (signal.aborted) throw new ImgcreateError("Cancelled", "the clone was closed while its image was being copied");
      await new Promise((r) => setTimeout(r, 200));
    }
    await dm.reload(this.baseName, dm.tables.linear(this.ownDevice, this.size));
    await this.releaseSource();
  }

  private async releaseSource(): Promise<void> {
    try {
      while (this.ids.length > 0) await this.journal.release(this.ids.at(-1)!).then(() => this.ids.pop());
    } finally {
      // Released or not, nothing more will be done about it here: the source must not wait forever.
      this.letGo();
    }
  }

  /** Removes the base table and whatever of the source is still held (the clone's root table is gone already). */
  async close(): Promise<void> {
    if (this.baseId !== undefined) await this.journal.release(this.baseId);
    this.baseId = undefined;
    await this.releaseSource();
  }
}
