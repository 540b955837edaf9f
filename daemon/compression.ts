// The squashfs compression of a live image, written TYPE[:LEVEL] ("zstd", "zstd:3", "gzip:9").
// Shared by every layer (like errors.ts): the API validates it, the engine turns it into mksquashfs
// arguments and the client checks it before sending, so all three accept and refuse the same strings.
import { ImgcreateError } from "./errors.js";

export type SquashfsCompression = "zstd" | "xz" | "gzip" | "lz4" | "lzo" | "none";

export interface CompressionSpec {
  type: SquashfsCompression;
  /** mksquashfs -Xcompression-level; unset means the tool's own default. */
  level?: number;
}

/** Level range per type, as `mksquashfs -help` (squashfs-tools 4.5) documents -Xcompression-level;
 * undefined: the compressor takes no level (xz tunes -Xdict-size instead, lz4 only -Xhc). */
export const COMPRESSION_LEVELS: Readonly<Record<SquashfsCompression, { min: number; max: number; default: number } | undefined>> = {
  zstd: { min: 1, max: 22, default: 15 },
  xz: undefined,
  gzip: { min: 1, max: 9, default: 9 },
  lz4: undefined,
  lzo: { min: 1, max: 9, default: 8 },
  none: undefined,
};

export const SQUASHFS_COMPRESSIONS = Object.keys(COMPRESSION_LEVELS) as SquashfsCompression[];

/** "zstd[:1-22], xz, gzip[:1-9], lz4, lzo[:1-9], none": every error message names the whole choice. */
export function compressionChoices(): string {
  return SQUASHFS_COMPRESSIONS.map((t) => {
    const l = COMPRESSION_LEVELS[t];
    return l ? `${t}[:${l.min}-${l.max}]` : t;
  }).join(", ");
}

function refuse(what: string): ImgcreateError {
  return new ImgcreateError("InvalidArgs", `${what}; use TYPE[:LEVEL], one of ${compressionChoices()}`);
}

/** Checks a type and level pair (the engine's entry point; parseCompression ends here too). */
export function checkCompression(spec: CompressionSpec): CompressionSpec {
  const { type, level } = spec;
  if (!SQUASHFS_COMPRESSIONS.includes(type)) throw refuse(`unknown squashfs compression "${String(type)}"`);
  if (level === undefined) return spec;
  const range = COMPRESSION_LEVELS[type];
  if (!range) {
    const why = type === "xz" ? " (mksquashfs tunes xz with -Xdict-size, not a level)" : "";
    throw refuse(`squashfs compression ${type} takes no level${why}`);
  }
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw refuse(`squashfs compression level for ${type} must be ${range.min} to ${range.max}, got ${level}`);
  }
  return spec;
}

/** Parses TYPE[:LEVEL]; throws InvalidArgs naming every type and its level range. */
export function parseCompression(text: string): CompressionSpec {
  const m = /^([a-z0-9]+)(?::(.*))?$/.exec(text);
  if (!m) throw refuse(`"${text}" is not a squashfs compression`);
  const type = m[1] as SquashfsCompression;
  if (m[2] === undefined) return checkCompression({ type });
  // Digits only: Number() would also take "", " 3", "0x3" and "3e0".
  if (!/^\d{1,3}$/.test(m[2])) throw refuse(`"${m[2]}" in "${text}" is not a compression level`);
  return checkCompression({ type, level: Number(m[2]) });
}

/** The canonical text of a spec ("zstd:3"), what the client sends and a session stores. */
export function formatCompression(spec: CompressionSpec): string {
  return spec.level === undefined ? spec.type : `${spec.type}:${spec.level}`;
}
