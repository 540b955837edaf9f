// LoopImageCreator: the install root is a filesystem (ext4 by default, or the kickstart's fstype) in a
// sparse file, attached to a loop device and mounted. package() writes <name>.img: checked clean,
// shrunk to its minimum and re-sparsified (unless opts.minimize is false).
import { chmod, mkdir, rename, rm, stat, statfs } from "node:fs/promises";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { ImgcreateError } from "../errors.js";
import { rootPartition } from "../kickstart/model.js";
import { run } from "./system/exec.js";
import { copyImage } from "./system/copy.js";
import { relabelFilesystem, checkFilesystem, fsType, makeFilesystem, minimize, sparseFile } from "./system/filesystem.js";
import * as dm from "./system/dm.js";
import * as loop from "./system/loop.js";
import type { CheckpointMeta } from "./checkpoints.js";
import { DmRoot } from "./dm-root.js";
import { CloneCopy, settleReaders } from "./dm-clone.js";
import type { Stage } from "./types.js";
import * as mounts from "./system/mount.js";
import { ImageCreator } from "./image-creator.js";

export class LoopImageCreator extends ImageCreator {
  /** The filesystem image file while the session lives (package() moves it out). */
  protected get imagePath(): string {
    return join(this.workDir, "rootfs.img");
  }
  /** The device the root filesystem is mounted from: the loop device, or the origin table over it. */
  protected rootDevice: string | undefined;
  private loopId: number | undefined;
  /** The root's device-mapper tables while attached (where the kernel has device-mapper). */
  private dmRoot: DmRoot | undefined;
  private mountId: number | undefined;
  /** A device-mapper clone still copying its source into its own image, and the copy's end. */
  private cloneCopy: CloneCopy | undefined;
  private cloneCopied: Promise<void> | undefined;
  /** finishCopy() while it runs (settles without an error). */
  private copying: Promise<void> | undefined;

  /** Root filesystem type and size (MiB) by livecd-creator's rule (last sized `part /`, first typed one). */
  protected get rootFs(): { fstype: string; sizeMiB: number } {
    const r = rootPartition(this.ks);
    return { fstype: r.fstype, sizeMiB: r.sizeMiB };
  }

  protected override async validate(): Promise<void> {
    await super.validate();
    for (const p of this.ks.parts.filter((x) => x.mountpoint === "/")) {
      if (p.sizeMiB !== undefined && p.sizeMiB <= 0) {
        throw new ImgcreateError("InvalidArgs", `${p.file}:${p.line}: part / --size must be a positive number of MiB (got ${p.sizeMiB})`, { file: p.file, line: p.line });
      }
    }
    const r = rootPartition(this.ks);
    const at = r.file !== undefined ? `${r.file}:${r.line}: ` : "";
    let t;
    try {
      t = fsType(r.fstype);
    } catch (err) {
      throw new ImgcreateError("InvalidArgs", `${at}${(err as Error).message}`, { file: r.file, line: r.line });
    }
    const label = this.rootfsLabel();
    if (label.length > t.labelMax) {
      throw new ImgcreateError("InvalidArgs", `filesystem label "${label}" is longer than ${r.fstype} allows (${t.labelMax}); pass a shorter fslabel`);
    }
    if (r.sizeMiB < 64) throw new ImgcreateError("InvalidArgs", `${at}part / --size=${r.sizeMiB} is too small for a root filesystem (at least 64 MiB)`);
  }

  /** The root filesystem's own label: the fslabel itself, which a loop image is known by. */
  protected rootfsLabel(): string {
    return this.fslabel;
  }

  protected override requiredTools(): string[] {
    return [...super.requiredTools(), "losetup", "mount", "umount", "fallocate", "fsfreeze", ...fsType(this.rootFs.fstype).tools];
  }

  protected override getFstab(): string {
    return `/dev/root  /  ${this.rootFs.fstype}  defaults,noatime  0 0\n`;
  }

  protected override async mountInstroot(signal: AbortSignal): Promise<void> {
    const { fstype, sizeMiB } = this.rootFs;
    this.progress("mount", { fraction: 0.1, message: `creating a ${sizeMiB} MiB ${fstype} filesystem` });
    await this.journal.take("file", { path: this.imagePath }, () => makeFilesystem(this.imagePath, fstype, this.rootfsLabel(), sizeMiB, { signal }));
    await this.journal.take("file", { path: this.instroot }, () => mkdir(this.instroot));
    await this.attachAndMount();
  }

  /** The session's image as it was left: attached and mounted again. */
  protected override async remountInstroot(_signal: AbortSignal): Promise<void> {
    this.progress("mount", { fraction: 0.3, message: "mounting the session's image again" });
    await this.attachAndMount();
  }

  /**
   * Runs fn on a copy of the image (a reflink or sparse copy under the work dir), so packaging can check
   * and shrink it while the session keeps its own image to mount again. The copy is gone afterwards
   * unless fn moved it away.
   */
  protected async withPackageCopy<T>(signal: AbortSignal, fn: (image: string) => Promise<T>): Promise<T> {
    const copy = join(this.workDir, "package.img");
    const { id } = await this.journal.take("file", { path: copy }, () => copyImage(this.imagePath, copy, signal));
    try {
      return await fn(copy);
    } finally {
      await this.journal.release(id);
    }
  }

  /**
   * Attaches the image file to a loop device and mounts it on the install root; where the kernel has
   * device-mapper, through an origin table with the image's snapshot checkpoints set up again.
   */
  private async attachAndMount(): Promise<void> {
    await this.settleFileReaders("mount");
    const { id, value: dev } = await this.journal.take("loop", { path: this.imagePath }, () => loop.attach(this.imagePath));
    this.journal.note(id, { device: dev });
    this.loopId = id;
    let root = dev;
    if (this.useDm()) {
      this.dmRoot = new DmRoot(this.journal, this.dmOwner());
      root = await this.dmRoot.open(dev, await this.dmCheckpoints());
    }
    this.progress("mount", { fraction: 0.6, message: `mounting ${root} on the install root` });
    this.rootDevice = root;
    await this.mountRoot(root);
  }

  private useDm(): boolean {
    return this.opts.deviceMapper ?? dm.available();
  }

  /** Whose tables these are (imgcreate-<owner>-...): the session's id in the daemon. */
  private dmOwner(): string {
    return this.opts.owner ?? createHash("sha256").update(this.workDir).digest("hex").slice(0, 12);
  }

  /**
   * The unmounted image under its origin table for fn, with its checkpoints' snapshots set up again,
   * all taken down afterwards: an unmounted image is checkpointed and rolled back in constant time too.
   */
  private async withDmOrigin<T>(fn: (root: DmRoot) => Promise<T>): Promise<T> {
    await this.settleFileReaders("mount");
    const l = await this.journal.take("loop", { path: this.imagePath }, () => loop.attach(this.imagePath));
    this.journal.note(l.id, { device: l.value });
    const root = new DmRoot(this.journal, this.dmOwner());
    try {
      await root.open(l.value, await this.dmCheckpoints());
      return await fn(root);
    } finally {
      await root.close();
      await this.journal.release(l.id);
    }
  }

  private async mountRoot(dev: string): Promise<void> {
    const { fstype } = this.rootFs;
    const m = await this.journal.take("mount", { path: this.instroot }, () =>
      mounts.mount(dev, this.instroot, { type: mountType(fstype), ...installMountOptions(fstype) }),
    );
    this.mountId = m.id;
  }

  /** Filesystem type and size: an installed root in the cache fits only an image made alike (the label is set after copying). */
  protected override imageIdentity(): string | undefined {
    const { fstype, sizeMiB } = this.rootFs;
    return `${fstype} ${sizeMiB} MiB`;
  }

  /** The install root becomes a copy of a cached installed image (same type and size), with this image's label and a UUID of its own. */
  protected override async restoreImage(image: string, signal: AbortSignal): Promise<void> {
    await this.replaceImage(image, true, signal);
  }

  /**
   * Back to a checkpoint: a device-mapper one is merged back by the kernel (the filesystem unmounted
   * meanwhile); a copy replaces the image (same label and UUID: it is this image's own past).
   */
  protected override async rollbackImage(dir: string, meta: CheckpointMeta, signal: AbortSignal): Promise<string> {
    if (meta.kind === "dm" && !this.dmRoot && this.mountId === undefined && this.useDm()) {
      await this.withDmOrigin((root) => root.rollback(meta.name, join(dir, "cow"), signal));
      return "device-mapper merge";
    }
    if (meta.kind === "dm") {
      if (!this.dmRoot?.has(meta.name)) throw new ImgcreateError("InvalidState", `checkpoint "${meta.name}" is a device-mapper snapshot that is not set up: mount the session first`);
      await this.settleClones("roll back");
      await this.cloneCopied;
      await run(["sync", "--file-system", this.instroot]);
      await this.journal.release(this.mountId!);
      await this.dmRoot.rollback(meta.name, join(dir, "cow"), signal);
      await this.mountRoot(dm.devicePath(this.dmRoot.origin));
      return "device-mapper merge";
    }
    return this.replaceImage(join(dir, "image"), false, signal);
  }

  /** The device-mapper checkpoints this image has (their COW files describe the image as it is now). */
  private async dmCheckpoints(): Promise<{ name: string; cow: string }[]> {
    const out: { name: string; cow: string }[] = [];
    for (const name of this.checkpoints.names()) {
      if ((await this.checkpoints.load(name)).kind === "dm") out.push({ name, cow: join(this.checkpoints.dir(name), "cow") });
    }
    return out;
  }

  /**
   * A checkpoint in constant time: a device-mapper snapshot of the mounted root, the filesystem frozen
   * meanwhile (of an unmounted image: its origin set up for that moment). Where the kernel cannot make one (no dm-snapshot target it may load), undefined: the
   * checkpoint is a copy instead, and says so.
   */
  protected override async snapshotImage(dir: string, _signal: AbortSignal): Promise<string | undefined> {
    if (!this.dmRoot) {
      if (this.mountId !== undefined || !this.useDm()) return undefined;
      return this.withDmOrigin(async (root) => {
        await root.checkpoint(basename(dir), join(dir, "cow"));
        return "device-mapper snapshot";
      }).catch(() => undefined);
    }
    const root = this.dmRoot;
    return this.withFrozen(() => root.checkpoint(basename(dir), join(dir, "cow"))).then(
      () => "device-mapper snapshot",
      () => undefined,
    );
  }

  /** Runs fn while the mounted filesystem is synced and frozen: clean and unchanging on its device. */
  private async withFrozen<T>(fn: () => Promise<T>): Promise<T> {
    await run(["sync", "--file-system", this.instroot]);
    const { id } = await this.journal.take("freeze", { path: this.instroot }, () => mounts.freeze(this.instroot));
    try {
      return await fn();
    } finally {
      await this.journal.release(id);
    }
  }

  protected override async snapshotUsage(name: string): Promise<number | undefined> {
    return this.dmRoot?.has(name) ? this.dmRoot.usage(name) : undefined;
  }

  protected override async releaseCheckpoint(name: string): Promise<void> {
    await this.dmRoot?.drop(name);
  }

  /** The session's image file becomes a copy of image, relabelled if asked, mounted again if it was. */
  private async replaceImage(image: string, relabel: boolean, signal: AbortSignal): Promise<string> {
    const snapshots = (await this.dmCheckpoints()).map((c) => c.name);
    if (snapshots.length > 0) {
      throw new ImgcreateError("InvalidState", `replacing the image would invalidate the device-mapper checkpoints ${snapshots.join(", ")}: drop them first`);
    }
    const wasMounted = this.mountId !== undefined;
    await this.detachImage();
    await rm(this.imagePath, { force: true });
    const how = await copyImage(image, this.imagePath, signal);
    await chmod(this.imagePath, 0o600);
    if (relabel) await this.relabel(signal);
    if (wasMounted) await this.attachAndMount();
    return how;
  }

  protected override async exportImage(to: string, signal: AbortSignal): Promise<string> {
    let how = "";
    await this.saveImage(async (image) => void (how = await copyImage(image, to, signal)));
    return how;
  }

  /** A clone's image: the source's copy, with this image's label and a new UUID (two xfs with one UUID cannot both mount). */
  protected override async adoptImage(exported: (to: string) => Promise<string>, mount: boolean, signal: AbortSignal): Promise<string> {
    const { value: how } = await this.journal.take("file", { path: this.imagePath }, () => exported(this.imagePath));
    await chmod(this.imagePath, 0o600);
    await this.relabel(signal);
    await this.journal.take("file", { path: this.instroot }, () => mkdir(this.instroot));
    if (mount) await this.attachAndMount();
    return how;
  }

  /**
   * A clone on device-mapper, in constant time: a snapshot of the source's root (mounted: of its origin
   * table; unmounted: of its image file), relabelled as this image's, mounted at once if the source is,
   * copied into this image's own file by the kernel in the background (dm-clone.ts). Undefined (then the
   * image is copied) where that cannot be: no device-mapper here or under a mounted source, or a kernel
   * without the snapshot or mirror target.
   */
  protected override async adoptSnapshot(src: ImageCreator, signal: AbortSignal): Promise<string | undefined> {
    if (!(src instanceof LoopImageCreator) || !this.useDm()) return undefined;
    const mounted = src.mountId !== undefined;
    const source = src.dmRoot;
    if (mounted && !source) return undefined;
    // Mounted: a snapshot of its origin (frozen meanwhile). Unmounted: of its file, through a read-only loop device of ours.
    const image = src.imagePath;
    const size = source && mounted ? source.sectors : (await stat(image)).size / 512;
    const taken: number[] = [];
    try {
      await this.requireSpaceForCopy(size * 512);
      taken.push((await this.journal.take("file", { path: this.imagePath }, () => sparseFile(this.imagePath, size * 512))).id);
      const own = await this.journal.take("loop", { path: this.imagePath }, () => loop.attach(this.imagePath));
      this.journal.note(own.id, { device: own.value });
      taken.push(own.id);
      const copy = new CloneCopy(this.journal, this.dmOwner(), own.value, size);
      await copy.start(
        join(this.workDir, "clone-cow"),
        source && mounted ? (make) => src.withFrozen(() => source.share(this.dmOwner(), copy.released, make)) : (make) => copy.snapshotFile(image, make),
        (snapshot) => this.relabel(signal, snapshot),
      );
      this.cloneCopy = copy;
      this.loopId = own.id;
    } catch (err) {
      for (const id of taken.reverse()) await this.journal.release(id).catch(() => undefined);
      this.log("mount", "warning", `no device-mapper clone (${(err as Error).message.split("\n")[0]}): copying the image instead`);
      return undefined;
    }
    await this.journal.take("file", { path: this.instroot }, () => mkdir(this.instroot));
    if (mounted) {
      this.dmRoot = new DmRoot(this.journal, this.dmOwner());
      this.rootDevice = await this.dmRoot.open(this.cloneCopy.device, []);
      await this.mountRoot(this.rootDevice);
    }
    this.cloneCopied = this.finishCopy(this.cloneCopy);
    const copying = this.cloneCopied.catch(() => undefined).finally(() => {
      if (this.copying === copying) this.copying = undefined;
    });
    this.copying = copying;
    return "device-mapper snapshot; its own image is copied in the background";
  }

  /**
   * The mirror writes every block of the clone's image, holes too, until the copy ends and is trimmed:
   * where that does not fit, the clone falls back to a sparse copy (only the used blocks), which may.
   */
  private async requireSpaceForCopy(bytes: number): Promise<void> {
    const free = await statfs(this.workDir).then((st) => st.bavail * st.bsize);
    const mib = (n: number) => `${Math.floor(n / 2 ** 20)} MiB`;
    if (free < bytes) throw new Error(`its background copy fills the whole ${mib(bytes)} image, and ${this.workDir} has ${mib(free)} free`);
  }

  /** An unmounted clone's stages and calls wait for its copy; a mounted one works on the mirror meanwhile. */
  protected override async imageReady(): Promise<void> {
    if (this.mountId === undefined) await this.cloneCopied;
  }

  override background(): Promise<void> | undefined {
    return this.copying;
  }

  /** The background end of a device-mapper clone: the copy, then the free blocks given back to the image file's holes. */
  private async finishCopy(copy: CloneCopy): Promise<void> {
    const t0 = Date.now();
    try {
      await copy.copy(this.lifetimeSignal);
    } catch (err) {
      if (!this.lifetimeSignal.aborted) this.notice(`the clone's image could not be copied from its source: ${(err as Error).message}`);
      throw err;
    }
    // The mirror wrote every block, holes too: a trim punches the free ones out of the file again.
    if (this.mountId !== undefined) {
      // The root table took its limits from the mirror (no discards): loaded again, it has the image's.
      if (this.dmRoot) await dm.restack(this.dmRoot.origin);
      await this.trim(this.instroot);
    } else await this.trimAndDetach(copy);
    this.notice(`the clone's image is its own now (copied from its source in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  /**
   * An unmounted clone, copied: its free blocks trimmed through a short mount of its own, then its table
   * and loop device let go, so that it holds nothing but files (and may rest) as any unmounted image.
   */
  private async trimAndDetach(copy: CloneCopy): Promise<void> {
    const dir = join(this.workDir, "trim");
    const d = await this.journal.take("file", { path: dir }, () => mkdir(dir));
    try {
      const m = await this.journal.take("mount", { path: dir }, () => mounts.mount(copy.device, dir, { type: mountType(this.rootFs.fstype) }));
      try {
        await this.trim(dir);
      } finally {
        await this.journal.release(m.id);
      }
    } catch (err) {
      // The copy is whole: a mount that fails here only leaves the free blocks allocated.
      this.notice(`the clone's image keeps its free blocks allocated (mounting it to trim failed: ${(err as Error).message.split("\n")[0]})`);
    } finally {
      await this.journal.release(d.id);
    }
    await copy.close();
    this.cloneCopy = undefined;
    if (this.loopId !== undefined) await this.journal.release(this.loopId);
    this.loopId = undefined;
  }

  /** Gives the free blocks of the filesystem mounted on dir back to the image file's holes; a failure only costs space, and is said. */
  private async trim(dir: string): Promise<void> {
    await run(["fstrim", dir]).catch((err: Error) => this.notice(`the clone's image keeps its free blocks allocated (fstrim failed: ${err.message.split("\n")[0]})`));
  }

  /** Waits for clones of this image still copying from it, saying so in the log of stage `what`. */
  private async settleClones(what: string): Promise<void> {
    await this.dmRoot?.settle((owners) => this.log(what === "unmount" ? "unmount" : "mount", "info", `waiting for the clone (session ${owners.join(", ")}) to finish copying its image before the ${what}`));
  }

  /** Before this unmounted image is written: clones still reading its file finish their copy. */
  private async settleFileReaders(stage: Stage): Promise<void> {
    await settleReaders(this.imagePath, () => this.log(stage, "info", "waiting for a clone of this image to finish copying it"));
  }

  override async cleanup(): Promise<void> {
    // Clones reading this image finish their copy first; a clone of ours copying lets its source go once its tables are gone.
    await this.settleClones("cleanup").catch(() => undefined);
    try {
      await super.cleanup();
    } finally {
      await this.cloneCopy?.close().catch(() => undefined);
    }
  }

  /**
   * Gives the image file (a copy of another image) this image's label and a new UUID. A copy of a
   * mounted xfs, though frozen for the copy, still has its log to replay, and xfs_admin will not change
   * the UUID of such a filesystem (it says so and exits 0): mounting the copy once (nouuid, since its
   * source may be mounted) replays the log first.
   */
  private async relabel(signal: AbortSignal, target = this.imagePath): Promise<void> {
    if (this.rootFs.fstype === "xfs") await this.replayLog(target);
    await relabelFilesystem(target, this.rootFs.fstype, this.rootfsLabel(), { signal });
  }

  /** Mounts target (the image file through a loop device, or a block device as it is) once with nouuid. */
  private async replayLog(target: string): Promise<void> {
    const dir = join(this.workDir, "log-replay");
    const d = await this.journal.take("file", { path: dir }, () => mkdir(dir));
    let l: { id: number; value: string } | undefined;
    try {
      if (!target.startsWith("/dev/")) {
        l = await this.journal.take("loop", { path: target }, () => loop.attach(target));
        this.journal.note(l.id, { device: l.value });
      }
      const m = await this.journal.take("mount", { path: dir }, () => mounts.mount(l?.value ?? target, dir, { type: "xfs", options: "nouuid" }));
      await this.journal.release(m.id);
    } finally {
      if (l) await this.journal.release(l.id);
      await this.journal.release(d.id);
    }
  }

  /** Hands store() the image file while the filesystem is frozen: clean and unchanging, though still mounted. */
  protected override async saveImage(store: (image: string) => Promise<void>): Promise<void> {
    if (this.mountId === undefined) return store(this.imagePath);
    // A clone still copying has its image file half written: the copy must be done first.
    await this.cloneCopied;
    return this.withFrozen(() => store(this.imagePath));
  }

  protected override async unmountInstroot(): Promise<void> {
    await this.detachImage();
  }

  private async detachImage(): Promise<void> {
    // Flush the filesystem to the image file first: if some other process's mount namespace still
    // holds a copy of this mount, our umount only removes our view and would not write anything back.
    // (detachFile then waits until the kernel really lets go of the loop device, or reports Busy,
    // so package() never checks a filesystem that is still mounted elsewhere.)
    await this.settleClones("unmount");
    await this.cloneCopied;
    if (this.mountId !== undefined) await run(["sync", "--file-system", this.instroot]);
    if (this.mountId !== undefined) await this.journal.release(this.mountId);
    this.mountId = undefined;
    await this.dmRoot?.close();
    this.dmRoot = undefined;
    await this.cloneCopy?.close();
    this.cloneCopy = undefined;
    this.cloneCopied = undefined;
    if (this.loopId !== undefined) await this.journal.release(this.loopId);
    this.loopId = undefined;
    this.rootDevice = undefined;
  }

  protected override async stageFinalImage(outDir: string, signal: AbortSignal): Promise<string[]> {
    const { fstype } = this.rootFs;
    const onLine = (l: string) => this.log("package", "debug", l);
    this.progress("package", { fraction: 0.05, message: "copying the image (the session keeps its own)" });
    return this.withPackageCopy(signal, async (image) => {
      this.progress("package", { fraction: 0.1, message: `checking the ${fstype} filesystem` });
      await checkFilesystem(image, fstype, { signal, onLine });
      if (this.opts.minimize !== false) {
        this.progress("package", { fraction: 0.4, message: "shrinking the filesystem to its minimum" });
        const { before, after } = await minimize(image, fstype, { signal, onLine });
        this.log("package", "info", `image shrunk from ${before} to ${after} bytes`);
      }
      const dest = join(outDir, `${this.name}.img`);
      this.progress("package", { fraction: 0.8, message: `writing ${dest}` });
      await moveSparse(image, dest, signal);
      return [dest];
    });
  }
}

/** Moves a sparse file: a rename on the same filesystem, else a copy that keeps the holes. */
async function moveSparse(from: string, to: string, signal: AbortSignal): Promise<void> {
  await mkdir(join(to, ".."), { recursive: true });
  try {
    await rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
  }
  await run(["cp", "--sparse=always", from, to], { signal });
  await rm(from, { force: true });
}

/**
 * The kernel driver to mount with: ext3 through the ext4 driver, whose "ext3" registration does not
 * allow the idmapped mount the sandbox needs (the on-disk format stays ext3: no feature is added).
 */
function mountType(fstype: string): string {
  return fstype === "ext3" ? "ext4" : fstype;
}

/**
 * Mount options for the build: ext3/ext4 without write barriers (a flush of the loop device is an
 * fsync of the whole backing file; a build interrupted by a crash is discarded anyway, and unmount
 * writes everything back before the image is checked).
 */
function installMountOptions(fstype: string): { options?: string } {
  return fstype === "ext4" || fstype === "ext3" ? { options: "barrier=0" } : {};
}
