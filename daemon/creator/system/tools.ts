// Host tools the engine runs, and the Debian package that provides each one, so a missing tool is
// reported as "install PACKAGE" instead of an ENOENT from deep inside a stage.
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import { run } from "./exec.js";

export const TOOL_PACKAGES: Record<string, string> = {
  losetup: "mount",
  mount: "mount",
  umount: "mount",
  flock: "util-linux",
  fallocate: "util-linux",
  fsfreeze: "util-linux",
  mmdebstrap: "mmdebstrap",
  bwrap: "bubblewrap",
  "apt-get": "apt",
  "apt-cache": "apt",
  "mkfs.ext4": "e2fsprogs",
  "mkfs.ext3": "e2fsprogs",
  e2fsck: "e2fsprogs",
  resize2fs: "e2fsprogs",
  dumpe2fs: "e2fsprogs",
  tune2fs: "e2fsprogs",
  xfs_admin: "xfsprogs",
  btrfstune: "btrfs-progs",
  "mkfs.xfs": "xfsprogs",
  xfs_repair: "xfsprogs",
  "mkfs.btrfs": "btrfs-progs",
  btrfs: "btrfs-progs",
  systemctl: "systemd",
  cp: "coreutils",
};

const SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The absolute path of a host tool, or undefined. PATH first, then the sbin dirs a daemon may lack. */
export async function findTool(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...SEARCH_PATH];
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws one error naming every missing tool and the Debian packages to install. */
export async function requireTools(names: string[]): Promise<void> {
  const missing: string[] = [];
  for (const n of names) if ((await findTool(n)) === undefined) missing.push(n);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((n) => TOOL_PACKAGES[n] ?? n))];
  throw new ImgcreateError(
    "Failed",
    `missing host tool${missing.length > 1 ? "s" : ""} ${missing.join(", ")}: install the Debian package${pkgs.length > 1 ? "s" : ""} ${pkgs.join(" ")} (apt-get install ${pkgs.join(" ")})`,
    { missingTools: missing, packages: pkgs },
  );
}

/** A tool's version line (the first line argv prints), "unknown" when it cannot say: part of cache keys. */
export async function toolVersion(argv: string[]): Promise<string> {
  return (await run(argv).catch(() => ({ stdout: "unknown" }))).stdout.split("\n")[0]!.trim();
}
