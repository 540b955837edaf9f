// Finding the kernel and initramfs a live image boots, inside its root tree: Debian names them
// /boot/vmlinuz-V and /boot/initrd.img-V, Fedora /boot/vmlinuz-V and /boot/initramfs-V.img.
import { readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";

export interface LiveKernel {
  version: string;
  kernel: string;
  initrd: string;
}

/** Newest first, comparing version strings piece by piece ("6.1.0-10" after "6.1.0-9"). */
function byVersionDesc(a: string, b: string): number {
  return b.localeCompare(a, "en", { numeric: true });
}

/** Kernel versions installed in the root (those with a /boot/vmlinuz-V), newest first. */
export async function kernelVersions(root: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await readdir(join(root, "boot"));
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith("vmlinuz-")).map((n) => n.slice("vmlinuz-".length)).sort(byVersionDesc);
}

export function initrdPath(root: string, version: string): string | undefined {
  return [join(root, "boot", `initrd.img-${version}`), join(root, "boot", `initramfs-${version}.img`)].find((p) => existsSync(p));
}

/**
 * The newest kernel with an initramfs. Throws before anything is written when the image has no kernel
 * or no initramfs, naming what to add to the kickstart.
 */
export async function findLiveKernel(root: string): Promise<LiveKernel> {
  const versions = await kernelVersions(root);
  if (versions.length === 0) {
    throw new ImgcreateError("Failed", "the image has no kernel (/boot/vmlinuz-*): add a kernel package to %packages (linux-image-amd64 on Debian, kernel on Fedora)");
  }
  for (const v of versions) {
    const initrd = initrdPath(root, v);
    if (initrd) return { version: v, kernel: join(root, "boot", `vmlinuz-${v}`), initrd };
  }
  throw new ImgcreateError("Failed", `the image has kernel ${versions[0]} but no initramfs for it: add dracut and dracut-live (Debian) or dracut-live (Fedora) to %packages`, {
    kernels: versions,
  });
}
