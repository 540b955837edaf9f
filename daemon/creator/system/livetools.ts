// Host tools the live steps run, and how to run them: a missing tool names its Debian package, a failed
// tool keeps its command, exit status and last output lines (never a stack trace).
import { execa } from "execa";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { ImgcreateError } from "../../errors.js";

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
  /** Called for each output line (stdout and stderr; `\r`-separated progress counts as lines). */
  onLine?: (line: string) => void;
  cwd?: string;
}

/** Runs a host tool; on failure throws ImgcreateError("Failed") with the command, status and last lines. */
export async function runTool(argv: string[], opts: RunOptions = {}): Promise<string> {
  const [cmd, ...args] = argv;
  requireTools([cmd!]);
  const tail: string[] = [];
  const keep = (chunk: string): void => {
    for (const line of chunk.split(/[\r\n]+/)) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.onLine?.(line);
    }
  };
  const child = execa(cmd!, args, {
    all: true,
    reject: false,
    stdin: "ignore",
    cwd: opts.cwd,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 3000,
    stripFinalNewline: false,
  });
  child.all?.setEncoding("utf8");
  child.all?.on("data", keep);
  const res = await child;
  if (res.isCanceled) throw new ImgcreateError("Cancelled", `${cmd} was cancelled`);
  if (res.exitCode !== 0) {
    throw new ImgcreateError("Failed", `${cmd} failed (exit ${res.exitCode ?? res.signal}): ${tail.slice(-3).join(" / ")}`, {
      command: argv,
      exitCode: res.exitCode,
      output: tail,
    });
  }
  return res.stdout;
}
