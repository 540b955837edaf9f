// LiveImageCreator: a LoopImageCreator whose package() writes a bootable live ISO (<name>.iso and
// <name>.iso.sha256) laid out as Fedora's are, so dracut's dmsquash-live boots it: the ext4 root image
// (shrunk, free blocks zeroed) inside LiveOS/squashfs.img, or the tree itself with flatSquashfs.
import fse from "fs-extra";
import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";
import type { KickstartModel } from "../kickstart/model.js";
import { extractBaseRoot } from "./livebase.js";
import { checkLiveKickstart, DEBIAN_LIVE_PACKAGES } from "./livecheck.js";
import { buildLiveIso, liveTools, type LiveBootloader } from "./liveiso.js";
import { waitForOtherHolders } from "./liveholders.js";
import { findLiveKernel, initrdPath, kernelVersions, type LiveKernel } from "./livekernel.js";
import { LoopImageCreator } from "./loop-image-creator.js";
import type { PackageBackend } from "./packages/backend.js";
import type { SetupFile } from "./packages/backend.js";
import { run } from "./system/exec.js";
import { checkFilesystem, fsType, minimize } from "./system/filesystem.js";
import { checkVolumeLabel } from "./system/iso.js";
import { requireTools } from "./system/livetools.js";
import * as loop from "./system/loop.js";
import * as mounts from "./system/mount.js";
import { compressionArgs, type SquashfsCompression } from "./system/squashfs.js";
import type { CreatorOptions } from "./types.js";

export interface LiveCreatorOptions extends CreatorOptions {
  /** squashfs compression (default zstd). */
  compression?: SquashfsCompression;
  /** Compressor level: zstd 1–22, gzip 1–9, lzo 1–9 (mksquashfs' default when unset; xz, lz4 and none take none). */
  compressionLevel?: number;
  /** Put the root tree itself in the squashfs instead of LiveOS/rootfs.img. */
  flatSquashfs?: boolean;
  /** Boot menu title (default: product, else the label). */
  title?: string;
  product?: string;
  /** BIOS boot loader (default grub; UEFI always uses GRUB). */
  bootloader?: LiveBootloader;
  /** An earlier live ISO whose root is the starting point instead of a fresh install. */
  baseOn?: string;
}

/** dracut's settings for a live initramfs; written before the kernel installs so its first initramfs is right. */
export const DRACUT_LIVE_CONF: SetupFile = {
  path: "/etc/dracut.conf.d/90-imgcreate-live.conf",
  content: 'hostonly="no"\nadd_dracutmodules+=" dmsquash-live "\ncompress="zstd"\n',
};

/** Refuses boot files that are symlinks leading out of the image (they would copy a host file into the ISO). */
async function insideRoot(root: string, ...paths: string[]): Promise<void> {
  const top = (await realpath(root)) + "/";
  for (const p of paths) {
    if (!(await realpath(p)).startsWith(top)) {
      throw new ImgcreateError("Failed", `${p.slice(root.length)} in the image points outside it: make it a regular file (no ISO was written)`);
    }
  }
}

/** With --base-on the packages come from the base ISO's root: nothing is installed. */
class BaseOnBackend implements PackageBackend {
  readonly name = "base-on";
  readonly tools: string[] = ["unsquashfs", "xorriso"];
  async install(): Promise<void> {}
}

export class LiveImageCreator extends LoopImageCreator {
  protected readonly live: LiveCreatorOptions;
  private boot: LiveKernel | undefined;

  constructor(ks: KickstartModel, name: string, opts: LiveCreatorOptions) {
    super(ks, name, opts.baseOn ? { ...opts, backend: new BaseOnBackend() } : opts);
    this.live = opts;
    // Fail at once, before any work, for what the kickstart or options cannot give a live image.
    this.refuseDnf();
    if (!opts.baseOn) checkLiveKickstart(ks);
    checkVolumeLabel(this.fslabel);
    compressionArgs(opts.compression ?? "zstd", opts.compressionLevel);
  }

  /**
   * A Fedora-style live image needs the target's kernel and dracut's dmsquash-live from its own
   * repositories, laid out as they expect; nothing here has been built or booted that way yet.
   */
  private refuseDnf(): void {
    if (this.backend.name !== "dnf") return;
    throw new ImgcreateError(
      "InvalidArgs",
      "live images from RPM repositories (the dnf backend) are not built yet: build a loop image (--type loop) from this kickstart, or a live image from Debian repositories",
    );
  }

  /**
   * A live medium is found by its ISO volume label (root=live:CDLABEL=...), which may be 32 characters;
   * the root filesystem inside only needs a label its type accepts, so a long fslabel is cut to fit.
   */
  protected override rootfsLabel(): string {
    return this.fslabel.slice(0, fsType(this.rootFs.fstype).labelMax);
  }

  private get bootDir(): string {
    return join(this.workDir, "live-boot");
  }

  protected override async validate(): Promise<void> {
    await super.validate();
    this.refuseDnf(); // again: SetKickstart may have changed the backend
    requireTools(liveTools(this.live.bootloader ?? "grub", !!this.live.baseOn));
  }

  protected override getRequiredPackages(): string[] {
    const extra = this.backend.name === "apt" ? [...DEBIAN_LIVE_PACKAGES, "zstd"] : [];
    const have = new Set(this.ks.packages.packages.map((p) => p.name));
    return [...super.getRequiredPackages(), ...extra.filter((p) => !have.has(p))];
  }

  protected override getSetupFiles(): SetupFile[] {
    return [...super.getSetupFiles(), DRACUT_LIVE_CONF];
  }

  /** The live root is dracut's /dev/mapper/live-rw; nothing to mount from fstab. */
  protected override getFstab(): string {
    return "# The live root (/dev/mapper/live-rw) is set up by dracut's dmsquash-live.\n";
  }

  protected override async mountInstroot(signal: AbortSignal): Promise<void> {
    await super.mountInstroot(signal);
    if (this.live.baseOn) await this.copyBaseRoot(this.live.baseOn, signal);
  }

  /** --base-on: the earlier ISO's root, copied into the fresh filesystem with every attribute kept. */
  private async copyBaseRoot(iso: string, signal: AbortSignal): Promise<void> {
    this.progress("mount", { fraction: 0.7, message: `copying the root of ${iso}` });
    const scratch = join(this.workDir, "base");
    const { id } = await this.journal.take("file", { path: scratch }, () => fse.ensureDir(scratch));
    try {
      const base = await extractBaseRoot(iso, scratch, signal);
      if (base.kind === "tree") {
        await run(["cp", "-a", "--sparse=always", `${base.path}/.`, this.instroot], { signal });
        return;
      }
      const dir = join(scratch, "mnt");
      await fse.ensureDir(dir);
      const l = await this.journal.take("loop", { path: base.path }, () => loop.attach(base.path, { readOnly: true }));
      try {
        const m = await this.journal.take("mount", { path: dir }, () => mounts.mount(l.value, dir, { options: "ro" }));
        try {
          await run(["cp", "-a", "--sparse=always", `${dir}/.`, this.instroot], { signal });
        } finally {
          await this.journal.release(m.id);
        }
      } finally {
        await this.journal.release(l.id);
      }
    } finally {
      await this.journal.release(id);
    }
  }

  /** The initramfs must carry dmsquash-live: rebuild it inside the sandboxed root when it does not. */
  protected override async createBootconfig(signal: AbortSignal): Promise<void> {
    await super.createBootconfig(signal);
    const ops = this.rootOps("configure", signal);
    await ops.write(DRACUT_LIVE_CONF.path, DRACUT_LIVE_CONF.content);
    for (const v of (await kernelVersions(this.instroot)).slice(0, 1)) {
      const initrd = initrdPath(this.instroot, v);
      const inRoot = initrd ? initrd.slice(this.instroot.length) : `/boot/initrd.img-${v}`;
      if (initrd) {
        const mods = await ops.sh('command -v lsinitrd >/dev/null && lsinitrd -m "$1" || true', [inRoot]);
        if (/\bdmsquash-live\b/.test(mods.stdout)) continue;
      }
      if (!(await ops.has("dracut"))) {
        throw new ImgcreateError("Failed", `the image has kernel ${v} but no dracut to build a live initramfs: add dracut and dracut-live to %packages`);
      }
      this.progress("configure", { fraction: 0.5, message: `building the live initramfs for ${v}` });
      await this.runInRoot("configure", ["dracut", "--force", "--kver", v, inRoot], { signal });
    }
  }

  /** The kernel and initramfs leave the image before it is unmounted; missing ones stop the build here, before any ISO. */
  protected override async unmountInstroot(): Promise<void> {
    try {
      if (this.state === "configured") {
        const k = await findLiveKernel(this.instroot);
        await insideRoot(this.instroot, k.kernel, k.initrd);
        await this.journal.take("file", { path: this.bootDir }, () => fse.ensureDir(this.bootDir));
        const kernel = join(this.bootDir, "vmlinuz");
        const initrd = join(this.bootDir, "initrd.img");
        await fse.copy(k.kernel, kernel);
        await fse.copy(k.initrd, initrd);
        await fse.writeFile(join(this.bootDir, "version"), k.version);
        this.boot = { version: k.version, kernel, initrd };
        // Flush the image now: a mount namespace another process made meanwhile may hold a copy of this
        // mount, and then umount alone does not write the last changes to the image file.
        await run(["sync", "-f", this.instroot]);
        await this.waitForCopies();
      }
    } finally {
      await super.unmountInstroot();
    }
  }

  /** A checkpoint or clone of an unmounted live image carries the kernel and initramfs taken out of it at unmount. */
  protected override async saveExtras(dir: string): Promise<void> {
    if (this.boot) await fse.copy(this.bootDir, join(dir, "live-boot"));
  }

  protected override async restoreExtras(dir: string): Promise<void> {
    const from = join(dir, "live-boot");
    this.boot = undefined;
    await fse.remove(this.bootDir);
    if (!(await fse.pathExists(from))) return;
    await this.journal.take("file", { path: this.bootDir }, () => fse.copy(from, this.bootDir));
    await this.resumeExtras();
  }

  /** The kernel and initramfs unmount took out of the image, with the version file written beside them. */
  protected override async resumeExtras(): Promise<void> {
    const version = await fse.readFile(join(this.bootDir, "version"), "utf8").catch(() => undefined);
    this.boot = version === undefined ? undefined : { version: version.trim(), kernel: join(this.bootDir, "vmlinuz"), initrd: join(this.bootDir, "initrd.img") };
  }

  /** Lets processes holding a copy of the install root mount in their own namespace finish (see liveholders.ts). */
  private async waitForCopies(): Promise<void> {
    if (!this.rootDevice) return;
    const left = await waitForOtherHolders(this.rootDevice, {
      timeoutMs: 10 * 60_000,
      onWait: (who) => this.log("unmount", "warning", `waiting for ${who.join(", ")}: their own mount namespace holds a copy of the install root`),
    });
    if (left.length > 0) this.log("unmount", "warning", `still held by ${left.join(", ")}; unmounting anyway`);
  }

  protected override async stageFinalImage(outDir: string, signal: AbortSignal): Promise<string[]> {
    if (!this.boot) throw new ImgcreateError("Failed", "the image's kernel and initramfs were not found before unmount: no ISO was written");
    const onLine = (l: string) => this.log("package", "debug", l);
    return this.withPackageCopy(signal, (image) => this.packageIso(image, outDir, onLine, signal));
  }

  /** The ISO from a copy of the image (checked, shrunk and squashed here; the session's own image stays). */
  private async packageIso(image: string, outDir: string, onLine: (l: string) => void, signal: AbortSignal): Promise<string[]> {
    const boot = this.boot!;
    const { fstype } = this.rootFs;
    this.progress("package", { fraction: 0.02, message: `checking the ${fstype} filesystem` });
    await checkFilesystem(image, fstype, { signal, onLine });
    if (this.opts.minimize !== false) {
      this.progress("package", { fraction: 0.05, message: "shrinking the filesystem to its minimum" });
      await minimize(image, fstype, { signal, onLine });
    }
    if (fstype.startsWith("ext")) {
      // Discarding free blocks punches holes in the file: they read as zeros and compress away.
      await run(["e2fsck", "-f", "-y", "-E", "discard", image], { signal, onLine, okCodes: [1] });
    }
    const output = join(outDir, `${this.name}.iso`);
    const common = {
      workDir: join(this.workDir, "iso"),
      output,
      kernel: boot.kernel,
      initrd: boot.initrd,
      label: this.fslabel,
      title: this.live.title ?? this.live.product ?? this.fslabel,
      timeout: this.ks.bootloader?.timeout ?? 10,
      append: this.getKernelOptions(),
      compression: this.live.compression,
      compressionLevel: this.live.compressionLevel,
      bootloader: this.live.bootloader,
      signal,
      onLine,
      onProgress: (message: string, f: number) => this.progress("package", { fraction: 0.1 + f * 0.9, message }),
    };
    const { id } = await this.journal.take("file", { path: common.workDir }, () => fse.ensureDir(common.workDir));
    try {
      const r = this.live.flatSquashfs
        ? await this.withImageMounted(image, signal, (tree) => buildLiveIso({ ...common, rootTree: tree }))
        : await buildLiveIso({ ...common, rootImage: image });
      return [r.iso, r.sha256];
    } finally {
      await this.journal.release(id);
    }
  }

  /** The finished image mounted read-only (for a flat squashfs of its tree), always released after. */
  private async withImageMounted<T>(image: string, signal: AbortSignal, fn: (tree: string) => Promise<T>): Promise<T> {
    const dir = join(this.workDir, "flat-root");
    const d = await this.journal.take("file", { path: dir }, () => fse.ensureDir(dir));
    try {
      const l = await this.journal.take("loop", { path: image }, () => loop.attach(image, { readOnly: true }));
      try {
        const m = await this.journal.take("mount", { path: dir }, () => mounts.mount(l.value, dir, { type: this.rootFs.fstype, options: "ro" }));
        try {
          if (signal.aborted) throw new ImgcreateError("Cancelled", "package cancelled");
          return await fn(dir);
        } finally {
          await this.journal.release(m.id);
        }
      } finally {
        await this.journal.release(l.id);
      }
    } finally {
      await this.journal.release(d.id);
    }
  }
}
