// The squashfs step of a live image: LiveOS/squashfs.img from the ext4 root image (Fedora's layout,
// LiveOS/rootfs.img inside) or from the root tree itself (flat). mksquashfs does the work on every core.
import { cpus } from "node:os";
import { ImgcreateError } from "../../errors.js";
import { requireTools, runTool } from "./livetools.js";

export type SquashfsCompression = "zstd" | "xz" | "gzip" | "lz4" | "none";
export const SQUASHFS_COMPRESSIONS: readonly SquashfsCompression[] = ["zstd", "xz", "gzip", "lz4", "none"];

export interface SquashfsOptions {
  compression?: SquashfsCompression;
  /** Compressor level (zstd 1–22, gzip 1–9); the tool's default when unset. */
  level?: number;
  signal?: AbortSignal;
  /** Fraction done 0..1, parsed from mksquashfs' progress bar. */
  onProgress?: (fraction: number) => void;
  onLine?: (line: string) => void;
}

/** mksquashfs arguments selecting a compression ("none" turns off every table's compression). */
export function compressionArgs(compression: SquashfsCompression, level?: number): string[] {
  if (!SQUASHFS_COMPRESSIONS.includes(compression)) {
    throw new ImgcreateError("InvalidArgs", `unknown squashfs compression "${compression}": use one of ${SQUASHFS_COMPRESSIONS.join(", ")}`);
  }
  if (compression === "none") return ["-noI", "-noD", "-noF", "-noX"];
  const args = ["-comp", compression];
  if (level !== undefined && (compression === "zstd" || compression === "gzip")) args.push("-Xcompression-level", String(level));
  // xz with the x86 BCJ filter, as Fedora's live images use: smaller kernel modules and binaries.
  if (compression === "xz") args.push("-Xbcj", "x86");
  return args;
}

/** Parses one line of mksquashfs' progress bar ("[===/  ] 1234/5678  21%") into a fraction. */
export function parseSquashfsProgress(line: string): number | undefined {
  const m = /\]\s+(\d+)\/(\d+)\s+\d+%/.exec(line);
  if (!m) return undefined;
  const total = Number(m[2]);
  return total > 0 ? Math.min(1, Number(m[1]) / total) : undefined;
}

/** Writes `dest` (a squashfs image) from the directory `src`. */
export async function makeSquashfs(src: string, dest: string, opts: SquashfsOptions = {}): Promise<void> {
  requireTools(["mksquashfs"]);
  // mksquashfs redraws its bar with \r; tr turns each redraw into a line the runner passes on at once.
  const argv = [
    "bash", "-o", "pipefail", "-c", 'mksquashfs "$@" 2>&1 | stdbuf -oL tr "\\r" "\\n"', "mksquashfs",
    src, dest, "-noappend",
    "-processors", String(Math.max(1, cpus().length)),
    ...compressionArgs(opts.compression ?? "zstd", opts.level),
    "-progress",
  ];
  let last = -1;
  await runTool(argv, {
    signal: opts.signal,
    onLine: (line) => {
      const f = parseSquashfsProgress(line);
      if (f === undefined) {
        opts.onLine?.(line);
        return;
      }
      // The bar redraws constantly: pass on whole percents only.
      const pct = Math.floor(f * 100);
      if (pct !== last) {
        last = pct;
        opts.onProgress?.(f);
      }
    },
  });
}
