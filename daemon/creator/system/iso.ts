// The ISO step: xorriso writes a hybrid medium (El Torito BIOS + EFI entries for CDs, an MBR with boot
// code and a GPT with the EFI system partition for USB disks). Reading ISOs also goes through xorriso:
// this host's kernel has no iso9660, so nothing is ever mounted.
import { ImgcreateError } from "../../errors.js";
import { runTool, type RunOptions } from "./livetools.js";

/** What boots on BIOS: GRUB's El Torito image with its hybrid MBR, or ISOLINUX with isohdpfx. */
export interface BiosBoot {
  kind: "grub" | "isolinux";
  /** Boot image path on the medium. */
  image: string;
  /** Boot catalog path on the medium. */
  catalog: string;
  /** Host path of the MBR boot code. */
  mbr: string;
}

export interface IsoOptions {
  /** The tree that becomes the medium. */
  isoRoot: string;
  output: string;
  label: string;
  bios: BiosBoot;
  /** Host path of the FAT image with EFI/BOOT/BOOTX64.EFI. */
  efiImage: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/** ISO 9660 volume ids hold up to 32 characters; dracut's CDLABEL needs them without blanks. */
export function checkVolumeLabel(label: string): void {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(label)) {
    throw new ImgcreateError("InvalidArgs", `volume label "${label}" cannot label a live ISO: use 1 to 32 letters, digits, "_", "." or "-" (set it with --fslabel)`);
  }
}

/** The EFI system partition's GPT type. */
const ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";

export function xorrisoArgs(o: IsoOptions): string[] {
  const bios = o.bios.kind === "grub"
    ? ["--grub2-mbr", o.bios.mbr, "-b", o.bios.image, "-c", o.bios.catalog, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "--grub2-boot-info"]
    : ["-isohybrid-mbr", o.bios.mbr, "-b", o.bios.image, "-c", o.bios.catalog, "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"];
  return [
    "xorriso", "-as", "mkisofs",
    "-o", o.output,
    "-iso-level", "3", "-full-iso9660-filenames", "-joliet", "-joliet-long", "-rational-rock",
    "-volid", o.label, "-appid", o.label,
    // The ISO file system starts partition 1 (so it can be mounted from the USB disk), the ESP is partition 2.
    "-partition_offset", "16", "--mbr-force-bootable",
    ...bios,
    "-append_partition", "2", ESP_GUID, o.efiImage, "-appended_part_as_gpt",
    "-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
    o.isoRoot,
  ];
}

export async function makeIso(o: IsoOptions): Promise<void> {
  checkVolumeLabel(o.label);
  await runTool(xorrisoArgs(o), { signal: o.signal, onLine: o.onLine });
}

const QUIET = ["-abort_on", "FAILURE", "-return_with", "FAILURE", "0"];

/** Names in one directory of an ISO (like `ls`). */
export async function isoList(iso: string, dir = "/", opts: RunOptions = {}): Promise<string[]> {
  const out = await runTool(["xorriso", ...QUIET, "-indev", iso, "-lsl", dir], opts);
  return out.split("\n").filter((l) => /^[-dl]/.test(l)).map((l) => l.replace(/^.*'(.*)'$/, "$1").split("/").pop() ?? "");
}

/** Copies a file or directory out of an ISO. */
export async function isoExtract(iso: string, pathInIso: string, dest: string, opts: RunOptions = {}): Promise<void> {
  await runTool(["xorriso", ...QUIET, "-osirrox", "on", "-indev", iso, "-extract", pathInIso, dest], opts);
}

export interface ElToritoEntry {
  platform: "BIOS" | "UEFI";
  line: string;
}

/** The El Torito boot entries, from `xorriso -report_el_torito plain`. */
export async function elToritoEntries(iso: string): Promise<ElToritoEntry[]> {
  const out = await runTool(["xorriso", ...QUIET, "-indev", iso, "-report_el_torito", "plain"]);
  const entries: ElToritoEntry[] = [];
  for (const line of out.split("\n")) {
    const m = /^El Torito boot img\s*:\s*\d+\s+(BIOS|UEFI)\b/.exec(line);
    if (m) entries.push({ platform: m[1] as "BIOS" | "UEFI", line });
  }
  return entries;
}
