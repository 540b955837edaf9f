// The squashfs step of a live image: LiveOS/squashfs.img from the ext4 root image (Fedora's layout,
// LiveOS/rootfs.img inside) or from the root tree itself (flat). mksquashfs does the work on every core.
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { checkCompression, type SquashfsCompression } from "../../compression.js";
import { requireTools, runTool } from "./livetools.js";

export { SQUASHFS_COMPRESSIONS, type SquashfsCompression } from "../../compression.js";

export interface SquashfsOptions {
  compression?: SquashfsCompression;
  /** Compressor level (zstd 1–22, gzip 1–9, lzo 1–9); the tool's default when unset. */
  level?: number;
  signal?: AbortSignal;
  /** Fraction done 0..1, parsed from mksquashfs' progress bar. */
  onProgress?: (fraction: number) => void;
  onLine?: (line: string) => void;
}

/** mksquashfs arguments selecting a compression ("none" turns off every table's compression).
 * Throws InvalidArgs for an unknown type or a level the type does not take (daemon/compression.ts). */
export function compressionArgs(compression: SquashfsCompression, level?: number): string[] {
  checkCompression({ type: compression, level });
  if (compression === "none") return ["-noI", "-noD", "-noF", "-noX"];
  const args = ["-comp", compression];
  if (level !== undefined) args.push("-Xcompression-level", String(level));
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

/** Bytes mksquashfs will read: the apparent size of everything under src (holes included). */
async function inputBytes(src: string): Promise<number> {
  const out = await runTool(["du", "-s", "-b", "--apparent-size", src]).catch(() => "0");
  return Number(out.split(/\s/)[0]) || 0;
}

/** How much mksquashfs (a child of `parent`) has read so far, from /proc/PID/io. */
async function bytesRead(parent: number): Promise<number> {
  const kids = (await readFile(`/proc/${parent}/task/${parent}/children`, "utf8").catch(() => "")).split(" ").filter(Boolean);
  let total = 0;
  for (const k of kids) {
    if ((await readFile(`/proc/${k}/comm`, "utf8").catch(() => "")).trim() !== "mksquashfs") continue;
    total += Number(/^rchar: (\d+)/m.exec(await readFile(`/proc/${k}/io`, "utf8").catch(() => ""))?.[1] ?? 0);
  }
  return total;
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
  // Its bar is redrawn only now and then when not on a terminal: also follow how much it has read.
  let last = -1;
  const report = (f: number): void => {
    const pct = Math.floor(Math.min(1, f) * 100);
    if (pct > last) {
      last = pct;
      opts.onProgress?.(pct / 100);
    }
  };
  const total = await inputBytes(src);
  let poll: NodeJS.Timeout | undefined;
  try {
    await runTool(argv, {
      signal: opts.signal,
      onSpawn: (pid) => {
        if (total > 0) poll = setInterval(() => void bytesRead(pid).then((b) => b > 0 && report(Math.min(0.99, b / total))), 1000);
      },
      onLine: (line) => {
        const f = parseSquashfsProgress(line);
        if (f === undefined) opts.onLine?.(line);
        else report(f);
      },
    });
  } finally {
    clearInterval(poll);
  }
  report(1);
}
