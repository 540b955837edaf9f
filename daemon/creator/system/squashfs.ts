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

/**
 * mksquashfs' memory for its queues. Its default, a quarter of the RAM, lets the reader run gigabytes
 * ahead of the compressors: /proc/PID/io then said "all read" 6 s into a 90 s zstd run and the stage
 * sat at 85 % for the rest of it. With 128 MiB the reader stays about 40 MB ahead (measured here,
 * squashfs-tools 4.5.1), so what it has read is what it has nearly compressed.
 */
export const SQUASHFS_MEM = "128M";

/** How far ahead of the compressors the reader runs with SQUASHFS_MEM (a little above what was measured). */
const READ_AHEAD_BYTES = 48 * 1024 * 1024;

/** What is known about a running mksquashfs at one moment. */
export interface SquashfsSample {
  /** Bytes of input (regular files under the source); 0 when unknown. */
  total: number;
  /** Bytes it has read so far (rchar). */
  read: number;
  /** Fraction from its own bar, the last one seen (it counts written blocks and lags; a floor only). */
  bar: number;
  /** ms from its start until it had read everything (or until now while it still reads). */
  readMs: number;
  /** ms since it had read everything; undefined while it still reads. */
  drainMs?: number;
}

/**
 * The fraction 0..0.99 of a mksquashfs run (1 only once it has exited). While it reads, its input
 * read so far, less the share its queue holds; after it has read everything, that last share is
 * compressed: it is spread over the time reading that much took, approaching it but never reaching it,
 * so the fraction keeps moving until the process ends. Never below its own bar.
 */
export function squashfsFraction(s: SquashfsSample): number {
  let f = 0;
  if (s.total > 0) {
    const tail = Math.min(0.5, READ_AHEAD_BYTES / s.total);
    f = Math.min(1, s.read / s.total) * (1 - tail);
    if (s.drainMs !== undefined) {
      const tau = Math.max(1000, s.readMs * (READ_AHEAD_BYTES / s.total));
      f = 1 - tail + tail * (1 - Math.exp(-s.drainMs / tau));
    }
  }
  return Math.min(0.99, Math.max(f, s.bar));
}

/** Bytes mksquashfs will read: every regular file under src at its apparent size (holes included;
 * directories and symlinks are not read(), so counting them would keep the fraction from reaching its end). */
async function inputBytes(src: string): Promise<number> {
  const out = await runTool(["find", src, "-type", "f", "-printf", "%s\n"]).catch(() => "");
  return out.split("\n").reduce((sum, l) => sum + (Number(l) || 0), 0);
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
  // Off a terminal its stdout is block-buffered, so even its first lines came a minute late: stdbuf -o0.
  const argv = [
    "bash", "-o", "pipefail", "-c", 'stdbuf -o0 mksquashfs "$@" 2>&1 | stdbuf -oL tr "\\r" "\\n"', "mksquashfs",
    src, dest, "-noappend",
    "-processors", String(Math.max(1, cpus().length)),
    "-mem", SQUASHFS_MEM,
    ...compressionArgs(opts.compression ?? "zstd", opts.level),
    "-progress",
  ];
  let last = -1;
  const report = (f: number): void => {
    const pct = Math.floor(Math.min(1, f) * 100);
    if (pct > last) {
      last = pct;
      opts.onProgress?.(pct / 100);
    }
  };
  const total = await inputBytes(src);
  // Off a terminal its bar comes only every 10 %: follow how much it has read too (/proc/PID/io).
  let started = Date.now();
  let read = 0;
  let bar = 0;
  let readDoneAt: number | undefined;
  const update = (): void => {
    const now = Date.now();
    if (readDoneAt === undefined && total > 0 && read >= total) readDoneAt = now;
    const drainMs = readDoneAt === undefined ? undefined : now - readDoneAt;
    report(squashfsFraction({ total, read, bar, readMs: (readDoneAt ?? now) - started, drainMs }));
  };
  report(0);
  let poll: NodeJS.Timeout | undefined;
  try {
    await runTool(argv, {
      signal: opts.signal,
      onSpawn: (pid) => {
        started = Date.now();
        poll = setInterval(() => void bytesRead(pid).then((b) => {
          read = Math.max(read, b);
          update();
        }), 500);
      },
      onLine: (line) => {
        const f = parseSquashfsProgress(line);
        if (f === undefined) return opts.onLine?.(line);
        bar = Math.max(bar, f);
        update();
      },
    });
  } finally {
    clearInterval(poll);
  }
  report(1);
}
