// Filesystems in image files: make, check, shrink to fit and re-sparsify. Each fstype the engine
// accepts is described once here, with the tools it needs and its label limit.
import { open, stat } from "node:fs/promises";
import { ImgcreateError } from "../../errors.js";
import { run, type RunOptions } from "./exec.js";

interface FsType {
  mkfs: (file: string, label: string) => string[];
  fsck: (file: string) => { argv: string[]; okCodes: number[] };
  /** Commands that give an unmounted copy its own label and a new UUID. */
  relabel: (file: string, label: string) => { argv: string[]; okCodes?: number[] }[];
  labelMax: number;
  tools: string[];
  shrinkable: boolean;
}

const ext = (t: "ext3" | "ext4"): FsType => ({
  mkfs: (f, l) => [`mkfs.${t}`, "-F", "-q", "-L", l, "-m", "1", f],
  // 1 = errors were fixed: the filesystem is clean now.
  // -E discard punches holes for free blocks (deleted apt lists etc.), so the image stays sparse.
  fsck: (f) => ({ argv: ["e2fsck", "-f", "-y", "-E", "discard", f], okCodes: [1] }),
  // A new UUID needs a freshly checked filesystem (metadata_csum): a copy of a mounted one is not, until
  // e2fsck has replayed its journal (1 = it did, and the filesystem is clean).
  relabel: (f, l) => [{ argv: ["e2fsck", "-f", "-p", f], okCodes: [1] }, { argv: ["tune2fs", "-L", l, "-U", "random", f] }],
  labelMax: 16,
  tools: [`mkfs.${t}`, "e2fsck", "resize2fs", "dumpe2fs", "tune2fs"],
  shrinkable: true,
});

export const FSTYPES: Record<string, FsType> = {
  ext4: ext("ext4"),
  ext3: ext("ext3"),
  xfs: {
    mkfs: (f, l) => ["mkfs.xfs", "-f", "-q", "-L", l, f],
    fsck: (f) => ({ argv: ["xfs_repair", "-n", f], okCodes: [] }),
    relabel: (f, l) => [{ argv: ["xfs_admin", "-L", l, "-U", "generate", f] }],
    labelMax: 12,
    tools: ["mkfs.xfs", "xfs_repair", "xfs_admin"],
    shrinkable: false,
  },
  btrfs: {
    mkfs: (f, l) => ["mkfs.btrfs", "-f", "-q", "-L", l, f],
    fsck: (f) => ({ argv: ["btrfs", "check", f], okCodes: [] }),
    relabel: (f, l) => [{ argv: ["btrfstune", "-f", "-u", f] }, { argv: ["btrfs", "filesystem", "label", f, l] }],
    labelMax: 255,
    tools: ["mkfs.btrfs", "btrfs", "btrfstune"],
    shrinkable: false,
  },
};

export function fsType(name: string): FsType {
  const t = FSTYPES[name];
  if (!t) throw new ImgcreateError("InvalidArgs", `unknown filesystem type "${name}": use one of ${Object.keys(FSTYPES).join(", ")}`);
  return t;
}

/** Gives an unmounted filesystem image (a copy of another) its own label and UUID, and checks that it has a new UUID. */
export async function relabelFilesystem(file: string, fstype: string, label: string, opts: RunOptions = {}): Promise<void> {
  const uuid = async () => (await run(["blkid", "--probe", "--match-tag", "UUID", "--output", "value", file], opts)).stdout.trim();
  const before = await uuid();
  for (const { argv, okCodes } of fsType(fstype).relabel(file, label)) await run(argv, { ...opts, ...(okCodes ? { okCodes } : {}) });
  // Some tools (xfs_admin) print their refusal and exit 0: the UUID itself says whether it worked.
  if ((await uuid()) === before) {
    throw new ImgcreateError("Failed", `the copy of the ${fstype} image could not be given a new UUID (it would clash with its source's); please report this with the kickstart`, { fstype });
  }
}

/** Creates a new sparse file of `bytes` (0600). */
export async function sparseFile(file: string, bytes: number): Promise<void> {
  const fh = await open(file, "wx", 0o600);
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

/** Creates a sparse file of sizeMiB and a filesystem in it (no loop device needed for that). */
export async function makeFilesystem(file: string, fstype: string, label: string, sizeMiB: number, opts: RunOptions = {}): Promise<void> {
  await sparseFile(file, sizeMiB * 1024 * 1024);
  await run(fsType(fstype).mkfs(file, label), opts);
}

/** Checks (and for ext*, repairs) the filesystem in file; throws if it is not clean. */
export async function checkFilesystem(file: string, fstype: string, opts: RunOptions = {}): Promise<void> {
  const { argv, okCodes } = fsType(fstype).fsck(file);
  await run(argv, { ...opts, okCodes });
}

async function ext4BlockCount(file: string): Promise<number> {
  const res = await run(["dumpe2fs", "-h", file]);
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(res.stdout)?.[1]);
  return get("Block count") * get("Block size");
}

/**
 * Shrinks an ext filesystem to its minimum (resize2fs -M), cuts the file to the new size and punches
 * holes where blocks are zero, so the image is as small on disk as it can be. Other fstypes are left.
 */
export async function minimize(file: string, fstype: string, opts: RunOptions = {}): Promise<{ before: number; after: number }> {
  const before = (await stat(file)).size;
  if (!fsType(fstype).shrinkable) return { before, after: before };
  await run(["resize2fs", "-M", file], opts);
  const bytes = await ext4BlockCount(file);
  const fh = await open(file, "r+");
  try {
    await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
  await run(["fallocate", "--dig-holes", file], opts);
  return { before, after: bytes };
}
