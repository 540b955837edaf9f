// Host tools the live steps run, and how to run them: a missing tool names its Debian package, a failed
// tool keeps its command, exit status and last output lines (never a stack trace).
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import { run } from "./exec.js";

/** Tool (or absolute data file) → the Debian package that ships it. */
export const LIVE_TOOLS: Record<string, string> = {
  mksquashfs: "squashfs-tools",
  unsquashfs: "squashfs-tools",
  xorriso: "xorriso",
  "grub-mkimage": "grub-common",
  "/usr/lib/grub/i386-pc/boot_hybrid.img": "grub-pc-bin",
  "/usr/lib/grub/x86_64-efi/linux.mod": "grub-efi-amd64-bin",
  "mkfs.vfat": "dosfstools",
  mmd: "mtools",
  mcopy: "mtools",
  implantisomd5: "isomd5sum",
  checkisomd5: "isomd5sum",
  "/usr/lib/ISOLINUX/isolinux.bin": "isolinux",
  "/usr/lib/syslinux/modules/bios/ldlinux.c32": "syslinux-common",
  "qemu-system-x86_64": "qemu-system-x86",
  "/usr/share/ovmf/OVMF.fd": "ovmf",
};

function exists(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

function onPath(tool: string): boolean {
  if (tool.startsWith("/")) return exists(tool, constants.R_OK);
  const dirs = (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).concat(["/usr/sbin", "/sbin"]);
  return dirs.some((d) => exists(join(d, tool), constants.X_OK));
}

/** Throws one error naming every missing tool and the Debian packages to install. */
export function requireTools(tools: string[]): void {
  const missing = tools.filter((t) => !onPath(t));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => LIVE_TOOLS[t] ?? t))];
  throw new ImgcreateError("Failed", `${missing.join(", ")} not found on this host: install the Debian package(s) ${pkgs.join(" ")} (apt-get install ${pkgs.join(" ")})`, {
    missing,
    packages: pkgs,
  });
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called for each output line (stdout and stderr; `\r`-redrawn progress bars count as lines). */
  onLine?: (line: string) => void;
  cwd?: string;
  /** The pid of the started process. */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs a live tool through the engine's runner (process group, cancel, CommandError with the command,
 * status and last lines), after checking it is installed. Resolves with its stdout.
 */
export async function runTool(argv: string[], opts: RunOptions = {}): Promise<string> {
  requireTools([argv[0]!]);
  const res = await run(argv, {
    signal: opts.signal,
    cwd: opts.cwd,
    env: { LC_ALL: "C.UTF-8" },
    onSpawn: opts.onSpawn,
    onLine: (line) => {
      for (const part of line.split("\r")) if (part.trim() !== "") opts.onLine?.(part);
    },
  });
  return res.stdout;
}
