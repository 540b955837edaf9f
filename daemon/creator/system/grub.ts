// GRUB for a live ISO: one grub.cfg on the medium, read by a BIOS El Torito image and by an EFI
// image inside a FAT file (built with mtools: this host's kernel has no vfat, so nothing is mounted).
// Both GRUB images carry a tiny embedded config that finds the medium by its volume label, so the
// same file boots as a CD and as a USB disk.
import fse from "fs-extra";
import { join } from "node:path";
import { runTool } from "./livetools.js";

export interface BootEntry {
  /** Menu text. */
  title: string;
  /** Paths on the medium, absolute ("/images/pxeboot/vmlinuz"). */
  kernel: string;
  initrd: string;
  /** Kernel command line. */
  args: string;
}

export interface BootMenu {
  /** Volume label of the medium (its El Torito / ISO 9660 volume id). */
  label: string;
  /** Menu heading (from --title / --product). */
  title: string;
  /** Seconds before the first entry starts; 0 starts at once. */
  timeout: number;
  entries: BootEntry[];
}

export const GRUB_CFG = "boot/grub/grub.cfg";
export const GRUB_BIOS_IMAGE = "boot/grub/i386-pc/eltorito.img";
export const GRUB_BIOS_MBR = "/usr/lib/grub/i386-pc/boot_hybrid.img";
export const EFI_BOOT_FILE = "EFI/BOOT/BOOTX64.EFI";

const COMMON_MODULES = ["iso9660", "part_msdos", "part_gpt", "search", "search_label", "normal", "configfile", "linux",
  "echo", "test", "ls", "cat", "gzio", "serial", "terminal", "sleep", "all_video"];
const BIOS_MODULES = [...COMMON_MODULES, "biosdisk"];
const EFI_MODULES = [...COMMON_MODULES, "fat", "efi_gop", "efi_uga"];

/** GRUB single-quoted string. */
function q(s: string): string {
  return "'" + s.replace(/'/g, "'\\''") + "'";
}

/** The embedded first-stage config: find our medium by label, then read its grub.cfg. */
export function grubEarlyConfig(label: string): string {
  return [
    `search --no-floppy --set=root --label ${q(label)}`,
    `set prefix=($root)/boot/grub`,
    `configfile ($root)/${GRUB_CFG}`,
    "",
  ].join("\n");
}

/** The menu. A serial console is added when the kernel arguments ask for one, so headless boots show the menu too. */
export function grubConfig(menu: BootMenu): string {
  const lines = [`set default=0`, `set timeout=${Math.max(0, Math.floor(menu.timeout))}`];
  const serial = menu.entries.some((e) => /\bconsole=ttyS0/.test(e.args));
  if (serial) {
    lines.push("serial --unit=0 --speed=115200", "terminal_input console serial", "terminal_output console serial");
  }
  for (const e of menu.entries) {
    lines.push(`menuentry ${q(e.title)} {`, `  linux ${e.kernel} ${e.args}`, `  initrd ${e.initrd}`, `}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes grub.cfg into the ISO tree. */
export async function writeGrubConfig(isoRoot: string, menu: BootMenu): Promise<void> {
  await fse.outputFile(join(isoRoot, GRUB_CFG), grubConfig(menu));
}

/** BIOS: an El Torito core image (cdboot + core) in the ISO tree; returns its path on the medium. */
export async function makeGrubBiosImage(isoRoot: string, workDir: string, label: string, signal?: AbortSignal): Promise<string> {
  const early = join(workDir, "grub-early-bios.cfg");
  await fse.outputFile(early, grubEarlyConfig(label));
  const out = join(isoRoot, GRUB_BIOS_IMAGE);
  await fse.ensureDir(join(out, ".."));
  await runTool(["grub-mkimage", "-O", "i386-pc-eltorito", "-p", "/boot/grub", "-c", early, "-o", out, ...BIOS_MODULES], { signal });
  return GRUB_BIOS_IMAGE;
}

/**
 * UEFI: BOOTX64.EFI in a FAT image (the El Torito EFI entry and the USB ESP) and, for firmware that
 * looks in the ISO tree, in EFI/BOOT of the tree too. Returns the FAT image's host path.
 */
export async function makeGrubEfiImage(isoRoot: string, workDir: string, label: string, signal?: AbortSignal): Promise<string> {
  const early = join(workDir, "grub-early-efi.cfg");
  await fse.outputFile(early, grubEarlyConfig(label));
  const efi = join(isoRoot, EFI_BOOT_FILE);
  await fse.ensureDir(join(efi, ".."));
  await runTool(["grub-mkimage", "-O", "x86_64-efi", "-p", "/boot/grub", "-c", early, "-o", efi, ...EFI_MODULES], { signal });
  return makeEspImage(efi, join(workDir, "efiboot.img"), signal);
}

/** A FAT file holding EFI/BOOT/BOOTX64.EFI, sized to fit with room for the FAT's own tables. */
async function makeEspImage(efiFile: string, out: string, signal?: AbortSignal): Promise<string> {
  const size = (await fse.stat(efiFile)).size;
  const kib = Math.ceil((size * 1.1) / 1024) + 1024;
  await fse.remove(out);
  await runTool(["mkfs.vfat", "-C", "-n", "EFIBOOT", out, String(kib)], { signal });
  await runTool(["mmd", "-i", out, "::/EFI", "::/EFI/BOOT"], { signal });
  await runTool(["mcopy", "-i", out, efiFile, "::/EFI/BOOT/BOOTX64.EFI"], { signal });
  return out;
}
