// --base-on ISO: the root of an earlier live ISO, taken out of its LiveOS/squashfs.img (Fedora layout:
// LiveOS/rootfs.img inside; or a flat squashfs holding the tree). Read with xorriso and unsquashfs:
// the ISO is never mounted (this host's kernel has no iso9660).
import fse from "fs-extra";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";
import { isoExtract } from "./system/iso.js";
import { runTool } from "./system/livetools.js";

export type BaseRoot = { kind: "image"; path: string } | { kind: "tree"; path: string };

/** Whether a squashfs holds Fedora's LiveOS/rootfs.img (else it is a flat tree). */
async function holdsRootImage(squashfs: string, signal?: AbortSignal): Promise<boolean> {
  const out = await runTool(["unsquashfs", "-l", "-d", "", squashfs], { signal });
  return out.split("\n").some((l) => l.trim() === "/LiveOS/rootfs.img" || l.trim() === "LiveOS/rootfs.img");
}

/**
 * Extracts the base ISO's root into workDir: the ext4 image (`<workDir>/base-rootfs.img`) or the tree
 * (`<workDir>/base-tree`). Throws when the ISO is not a live ISO.
 */
export async function extractBaseRoot(iso: string, workDir: string, signal?: AbortSignal): Promise<BaseRoot> {
  if (!(await fse.pathExists(iso))) throw new ImgcreateError("InvalidArgs", `--base-on ${iso}: no such file`);
  const sq = join(workDir, "base-squashfs.img");
  await fse.remove(sq);
  try {
    await isoExtract(iso, "/LiveOS/squashfs.img", sq, { signal });
  } catch {
    throw new ImgcreateError("InvalidArgs", `--base-on ${iso}: not a live ISO (no LiveOS/squashfs.img in it)`);
  }
  try {
    if (await holdsRootImage(sq, signal)) {
      const dir = join(workDir, "base-unsquash");
      await fse.remove(dir);
      await runTool(["unsquashfs", "-no-progress", "-d", dir, sq, "LiveOS/rootfs.img"], { signal });
      const path = join(workDir, "base-rootfs.img");
      await fse.move(join(dir, "LiveOS", "rootfs.img"), path, { overwrite: true });
      await fse.remove(dir);
      return { kind: "image", path };
    }
    const path = join(workDir, "base-tree");
    await fse.remove(path);
    await runTool(["unsquashfs", "-no-progress", "-d", path, sq], { signal });
    return { kind: "tree", path };
  } finally {
    await fse.remove(sq);
  }
}
