// Assembling a live ISO from a finished root (an ext4 image, or a tree for a flat squashfs) and its
// kernel + initramfs, in Fedora's layout so dracut's dmsquash-live boots it:
//   LiveOS/squashfs.img            (holding LiveOS/rootfs.img, or the tree itself when flat)
//   images/pxeboot/vmlinuz, initrd.img
//   boot/grub/grub.cfg, boot/grub/i386-pc/eltorito.img, EFI/BOOT/BOOTX64.EFI (+ the ESP appended)
//   isolinux/ (with bootloader "isolinux")
import fse from "fs-extra";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";
import { GRUB_BIOS_MBR, makeGrubBiosImage, makeGrubEfiImage, writeGrubConfig, type BootMenu } from "./system/grub.js";
import { checkVolumeLabel, makeIso, type BiosBoot } from "./system/iso.js";
import { installIsolinux } from "./system/isolinux.js";
import { implantIsoMd5, writeSha256 } from "./system/isomd5.js";
import { requireTools } from "./system/livetools.js";
import { makeSquashfs, type SquashfsCompression } from "./system/squashfs.js";

export type LiveBootloader = "grub" | "isolinux";

export interface LiveIsoInput {
  /** Scratch directory (emptied parts of it are created and removed here). */
  workDir: string;
  /** The .iso to write. */
  output: string;
  /** The minimized ext4 root image (Fedora layout) … */
  rootImage?: string;
  /** … or the root tree itself (flat squashfs). */
  rootTree?: string;
  kernel: string;
  initrd: string;
  label: string;
  title: string;
  /** Boot menu timeout in seconds. */
  timeout: number;
  /** Extra kernel arguments (kickstart `bootloader --append`). */
  append?: string;
  compression?: SquashfsCompression;
  compressionLevel?: number;
  bootloader?: LiveBootloader;
  signal?: AbortSignal;
  /** Step name and overall fraction 0..1. */
  onProgress?: (message: string, fraction: number) => void;
  onLine?: (line: string) => void;
}

export interface LiveIsoResult {
  iso: string;
  sha256: string;
}

export const LIVE_KERNEL = "/images/pxeboot/vmlinuz";
export const LIVE_INITRD = "/images/pxeboot/initrd.img";

/** The kernel command line dracut's dmsquash-live needs, plus the kickstart's additions. */
export function liveKernelArgs(label: string, append?: string): string {
  return [`root=live:CDLABEL=${label}`, "rd.live.image", append?.trim() ?? ""].filter((s) => s !== "").join(" ");
}

export function liveMenu(label: string, title: string, timeout: number, append?: string): BootMenu {
  const args = liveKernelArgs(label, append);
  return {
    label,
    title,
    timeout,
    entries: [
      { title: `Start ${title}`, kernel: LIVE_KERNEL, initrd: LIVE_INITRD, args },
      { title: `Test this media & start ${title}`, kernel: LIVE_KERNEL, initrd: LIVE_INITRD, args: `${args} rd.live.check` },
    ],
  };
}

/** Every host tool a live build will run (baseOn: also what reads the base ISO), checked before any work starts. */
export function liveTools(bootloader: LiveBootloader, baseOn = false): string[] {
  const tools = [...(baseOn ? ["unsquashfs"] : []), "mksquashfs", "xorriso", "grub-mkimage", "/usr/lib/grub/x86_64-efi/linux.mod", "mkfs.vfat", "mmd", "mcopy", "implantisomd5"];
  if (bootloader === "grub") tools.push(GRUB_BIOS_MBR);
  else tools.push("/usr/lib/ISOLINUX/isolinux.bin", "/usr/lib/syslinux/modules/bios/ldlinux.c32");
  return tools;
}

async function checkInputs(i: LiveIsoInput): Promise<void> {
  checkVolumeLabel(i.label);
  if ((i.rootImage === undefined) === (i.rootTree === undefined)) {
    throw new ImgcreateError("InvalidArgs", "a live ISO needs exactly one of a root image or a root tree");
  }
  for (const [what, p] of [["kernel", i.kernel], ["initramfs", i.initrd]] as const) {
    if (!(await fse.pathExists(p))) throw new ImgcreateError("Failed", `the live image's ${what} ${p} is missing: no ISO was written`);
  }
  requireTools(liveTools(i.bootloader ?? "grub"));
}

/** The squashfs: Fedora's LiveOS/rootfs.img inside, or the flat tree. */
async function squash(i: LiveIsoInput, dest: string): Promise<void> {
  const opts = {
    compression: i.compression,
    level: i.compressionLevel,
    signal: i.signal,
    onLine: i.onLine,
    onProgress: (f: number) => i.onProgress?.("compressing the root file system", 0.05 + f * 0.8),
  };
  if (i.rootTree) return makeSquashfs(i.rootTree, dest, opts);
  const staging = join(i.workDir, "squashfs-root");
  await fse.remove(staging);
  await fse.ensureDir(join(staging, "LiveOS"));
  const inner = join(staging, "LiveOS", "rootfs.img");
  // A hard link costs nothing; across file systems fall back to a copy.
  await fse.link(i.rootImage!, inner).catch(() => fse.copy(i.rootImage!, inner));
  try {
    await makeSquashfs(staging, dest, opts);
  } finally {
    await fse.remove(staging);
  }
}

async function bootloaders(i: LiveIsoInput, isoRoot: string, menu: BootMenu): Promise<{ bios: BiosBoot; efiImage: string }> {
  await writeGrubConfig(isoRoot, menu);
  const efiImage = await makeGrubEfiImage(isoRoot, i.workDir, i.label, i.signal);
  if ((i.bootloader ?? "grub") === "isolinux") {
    const iso = await installIsolinux(isoRoot, menu);
    return { bios: { kind: "isolinux", ...iso }, efiImage };
  }
  const image = await makeGrubBiosImage(isoRoot, i.workDir, i.label, i.signal);
  return { bios: { kind: "grub", image, catalog: "boot/grub/boot.cat", mbr: GRUB_BIOS_MBR }, efiImage };
}

export async function buildLiveIso(i: LiveIsoInput): Promise<LiveIsoResult> {
  await checkInputs(i);
  const isoRoot = join(i.workDir, "iso-root");
  await fse.remove(isoRoot);
  await fse.ensureDir(join(isoRoot, "LiveOS"));
  i.onProgress?.("copying the kernel and initramfs", 0);
  await fse.copy(i.kernel, join(isoRoot, LIVE_KERNEL));
  await fse.copy(i.initrd, join(isoRoot, LIVE_INITRD));
  await squash(i, join(isoRoot, "LiveOS", "squashfs.img"));
  i.onProgress?.("installing the boot loaders", 0.86);
  const menu = liveMenu(i.label, i.title, i.timeout, i.append);
  const boot = await bootloaders(i, isoRoot, menu);
  i.onProgress?.("writing the ISO", 0.9);
  await fse.remove(i.output);
  try {
    await makeIso({ isoRoot, output: i.output, label: i.label, ...boot, signal: i.signal, onLine: i.onLine });
    i.onProgress?.("implanting the checksum", 0.97);
    await implantIsoMd5(i.output, i.signal);
  } catch (e) {
    await fse.remove(i.output);
    throw e;
  } finally {
    await fse.remove(isoRoot);
    await fse.remove(boot.efiImage);
  }
  const sha256 = await writeSha256(i.output);
  i.onProgress?.("done", 1);
  return { iso: i.output, sha256 };
}
