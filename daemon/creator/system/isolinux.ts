// ISOLINUX, the optional BIOS loader of a live ISO (GRUB stays the UEFI loader). Its files come
// from Debian's isolinux and syslinux-common packages; its MBR (isohdpfx) makes the ISO a USB disk.
import fse from "fs-extra";
import { join } from "node:path";
import type { BootMenu } from "./grub.js";
import { requireTools } from "./livetools.js";

export const ISOLINUX_BIN = "/usr/lib/ISOLINUX/isolinux.bin";
export const ISOLINUX_MBR = "/usr/lib/ISOLINUX/isohdpfx.bin";
const MODULES_DIR = "/usr/lib/syslinux/modules/bios";
const MODULES = ["ldlinux.c32", "libcom32.c32", "libutil.c32", "menu.c32"];

/** isolinux.cfg for the menu. ISOLINUX counts in tenths of a second and treats 0 as "wait forever". */
export function isolinuxConfig(menu: BootMenu): string {
  const serial = menu.entries.some((e) => /\bconsole=ttyS0/.test(e.args));
  const lines = [
    ...(serial ? ["SERIAL 0 115200"] : []),
    "UI menu.c32",
    "PROMPT 0",
    `TIMEOUT ${Math.max(1, Math.floor(menu.timeout * 10))}`,
    `MENU TITLE ${menu.title}`,
    "DEFAULT entry0",
  ];
  menu.entries.forEach((e, i) => {
    lines.push("", `LABEL entry${i}`, `  MENU LABEL ${e.title}`, `  KERNEL ${e.kernel}`, `  APPEND initrd=${e.initrd} ${e.args}`);
  });
  return lines.join("\n") + "\n";
}

/** Puts ISOLINUX and its config into isolinux/ of the ISO tree; returns the boot image path on the medium. */
export async function installIsolinux(isoRoot: string, menu: BootMenu): Promise<{ image: string; catalog: string; mbr: string }> {
  requireTools([ISOLINUX_BIN, join(MODULES_DIR, "ldlinux.c32")]);
  const dir = join(isoRoot, "isolinux");
  await fse.ensureDir(dir);
  await fse.copy(ISOLINUX_BIN, join(dir, "isolinux.bin"));
  for (const m of MODULES) await fse.copy(join(MODULES_DIR, m), join(dir, m));
  await fse.outputFile(join(dir, "isolinux.cfg"), isolinuxConfig(menu));
  return { image: "isolinux/isolinux.bin", catalog: "isolinux/boot.cat", mbr: ISOLINUX_MBR };
}
