// What a kickstart needs to make a live image, checked when the creator is made (before anything
// is installed): a kernel package, and a volume label dracut can find the medium by.
import { ImgcreateError } from "../errors.js";
import type { KickstartModel } from "../kickstart/model.js";

/** Package names (or globs) that install a bootable kernel, Debian and Fedora. */
const KERNEL_PACKAGE = /^(linux-image-.+|kernel|kernel-core|kernel-rt(-core)?|linux(-lts|-zen)?)$/;

export function hasKernelPackage(ks: KickstartModel): boolean {
  return ks.packages.packages.some((p) => KERNEL_PACKAGE.test(p.name));
}

/** Packages the live boot needs on a Debian target (dmsquash-live is in dracut-live). */
export const DEBIAN_LIVE_PACKAGES = ["dracut", "dracut-live"];

/** Throws InvalidArgs with FILE:LINE when the kickstart cannot make a live image. */
export function checkLiveKickstart(ks: KickstartModel, kickstartFile = "kickstart"): void {
  if (hasKernelPackage(ks)) return;
  const where = ks.packages.file !== undefined ? `${ks.packages.file}:${ks.packages.line}` : `${kickstartFile}:1`;
  throw new ImgcreateError(
    "InvalidArgs",
    `${where}: %packages has no kernel, so a live image could not boot: add linux-image-amd64 (Debian) or kernel (Fedora)`,
    { file: ks.packages.file ?? kickstartFile, line: ks.packages.line ?? 1 },
  );
}
