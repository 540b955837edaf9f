// livecd-tools' command line (tools/livecd-creator's optparse table), mapped onto an imgcreate build.
// Every option livecd-creator accepts is accepted here; each one either maps to the same effect, is
// accepted with a warning saying why it changes nothing, or is refused with the reason — never
// silently wrong. Pure: unit-tested without a daemon.
import { parseArgs } from "node:util";
import { machine } from "node:os";
import { basename } from "node:path";
import { formatCompression, parseCompression } from "../../daemon/compression.js";
import { ImgcreateError, asImgcreateError } from "../../daemon/errors.js";
import { EXIT } from "../errors.js";
import type { SessionOptions } from "../connection/types.js";

export type Flavour = "livecd" | "image";

interface CompatOption {
  name: string;
  short?: string;
  arg?: string;
  help: string;
  /** Hidden in livecd-creator's own --help (SUPPRESS_HELP), accepted all the same. */
  hidden?: boolean;
}

export const COMPAT_OPTIONS: CompatOption[] = [
  { name: "config", short: "c", arg: "KSCFG", help: "Path to kickstart config file" },
  { name: "base-on", short: "b", arg: "ISO", help: "Add packages to an existing live CD iso9660 image (not supported: refused)" },
  { name: "fslabel", short: "f", arg: "LABEL", help: "File system label (default based on config name)" },
  { name: "name", short: "n", arg: "LABEL", help: "Same as --fslabel", hidden: true },
  { name: "title", arg: "TITLE", help: "Title used in the boot menu" },
  { name: "product", arg: "PRODUCT", help: "Product name used in boot configuration stanzas" },
  { name: "releasever", arg: "VER", help: "Value to substitute for $releasever in kickstart repo urls" },
  { name: "syslinux", help: "Use SYSLINUX (ISOLINUX) for BIOS booting" },
  { name: "nomacboot", help: "Do not create HFS+ boot image (we never do)" },
  { name: "flat-squashfs", help: "Squash the root filesystem directly, without LiveOS/rootfs.img" },
  { name: "compression-type", arg: '"TYPE[:LEVEL] [ARGS]"', help: "squashfs compression: zstd[:1-22], xz, gzip[:1-9], lzo[:1-9] or lz4 (default: the daemon's, zstd)" },
  { name: "dracut-conf-args", arg: '"[+]ARGS"', help: "dracut arguments (ignored with a warning: the engine writes the live dracut config)" },
  { name: "plugins", short: "p", help: "Use DNF plugins (ignored with a warning)" },
  { name: "image-type", arg: "livecd|image", help: "Pretend to be livecd-creator or image-creator", hidden: true },
  { name: "repo", arg: "PATH", help: "Repositories from .repo files (refused: put them in the kickstart)" },
  { name: "pkgverify-level", arg: "LEVEL", help: "Package verification (apt verifies every package: all/signature accepted, digest/none refused)" },
  { name: "tmpdir", short: "t", arg: "DIR", help: "Temporary directory (ignored with a warning: the daemon works in its state directory)" },
  { name: "output", short: "o", arg: "DIR", help: "Directory the image is written to (default: .)" },
  { name: "cache", arg: "DIR", help: "Cache directory (ignored with a warning: the daemon has a shared package cache)" },
  { name: "cacheonly", help: "Work offline from the cache (ignored with a warning)" },
  { name: "shell", short: "l", help: "Launch a root shell in the install root after configure" },
  { name: "nocleanup", help: "Keep the build session for inspection instead of closing it" },
  { name: "debug", short: "d", help: "Show every log line" },
  { name: "verbose", short: "v", help: "Show every log line" },
  { name: "quiet", short: "q", help: "Print only errors and the result" },
  { name: "logfile", arg: "FILE", help: "Also write the build's log lines to FILE" },
  { name: "skip-compression", short: "s", help: "Do not compress the image (refused: the daemon always compresses)", hidden: true },
  { name: "skip-minimize", help: "Do not minimize the image", hidden: true },
  { name: "help", short: "h", help: "Show this help message and exit" },
];

export interface CompatPlan {
  kickstart: string;
  outdir: string;
  options: SessionOptions;
  shell: boolean;
  keepSession: boolean;
  verbosity: "quiet" | "normal" | "verbose";
  logfile?: string;
  warnings: string[];
  help: boolean;
}

function usage(prog: string, msg: string): ImgcreateError {
  return new ImgcreateError("InvalidArgs", `${msg} (see \`${prog} --help\`)`, { exitCode: EXIT.usage });
}

function refuse(prog: string, msg: string): ImgcreateError {
  return new ImgcreateError("InvalidArgs", msg, { exitCode: EXIT.usage, refused: true, prog });
}

/** imgcreate.build_name: kickstart base name without extension, prefix and suffix, cut to maxlen. */
export function buildName(kscfg: string, prefix = "", suffix: string, maxlen?: number): string {
  let name = basename(kscfg);
  const dot = name.lastIndexOf(".");
  if (dot >= 0) name = name.slice(0, dot);
  if (name.startsWith(prefix)) name = name.slice(prefix.length);
  let ret = `${prefix}${name}-${suffix}`;
  if (maxlen !== undefined && ret.length > maxlen) ret = `${name.slice(0, Math.max(0, maxlen - suffix.length - 1))}-${suffix}`;
  return ret;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}`;
}

/** "Fedora Minimal" from "livecd-fedora-minimal-…": livecd-creator's default title/product. */
function titleOf(name: string): string {
  return name
    .split("-")
    .slice(0, 2)
    .join(" ")
    .toLowerCase()
    // Python's str.title(): a letter after a non-letter starts a word.
    .replace(/(^|[^a-z])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
}

const EXT4_LABEL_MAX = 16;
const COMPRESSORS = "zstd[:1-22], xz, gzip[:1-9], lzo[:1-9], lz4";

/** livecd-tools passes "TYPE ARGS" to mksquashfs as -comp TYPE ARGS: its -Xcompression-level N is the level
 * the daemon takes as TYPE:N; other arguments are the daemon's to choose. */
function splitLevelArg(args: string[], warnings: string[]): string | undefined {
  const i = args.indexOf("-Xcompression-level");
  const level = i >= 0 ? args[i + 1] : undefined;
  const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
  if (rest.length) warnings.push(`--compression-type: extra mksquashfs arguments '${rest.join(" ")}' are ignored; the daemon chooses them`);
  return level;
}

/** --compression-type "TYPE[:LEVEL] [ARGS]" → the daemon's TYPE[:LEVEL], checked with its own rules. */
function compression(prog: string, value: string, warnings: string[]): string {
  const [first = "", ...args] = value.trim().split(/\s+/);
  if (first === "xz1m") {
    warnings.push(`--compression-type xz1m: using xz with the daemon's block size (its extra arguments are not passed)`);
    return "xz";
  }
  const [type = "", colonLevel] = first.split(/:(.*)/s);
  if (type.toLowerCase() === "none") throw refuse(prog, `--compression-type None reads the compression of a --base-on image, which is not supported here; name a compressor (${COMPRESSORS})`);
  const argLevel = splitLevelArg(args, warnings);
  if (colonLevel !== undefined && argLevel !== undefined) throw refuse(prog, `--compression-type '${value}' gives the level twice; use ${type}:LEVEL`);
  const level = colonLevel ?? argLevel;
  try {
    return formatCompression(parseCompression(level === undefined ? type : `${type}:${level}`));
  } catch (err) {
    throw refuse(prog, `--compression-type '${value}' is not supported: ${asImgcreateError(err).message}`);
  }
}

export function compatHelp(prog: string): string {
  const rows = COMPAT_OPTIONS.filter((o) => !o.hidden).map((o) => {
    const l = `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.arg ? `=${o.arg}` : ""}`;
    return `  ${l.padEnd(36)}${o.help}`;
  });
  return [`Usage: ${prog} [options] [KICKSTART]`, "", `${prog} compatible front end: builds through the imgcreated service as you, no root needed.`, "", "Options:", ...rows, ""].join("\n");
}

/** Parses livecd-creator's argv into what to build; throws usage errors (exit 2) for bad or refused options. */
export function planCompat(argv: string[], flavour: Flavour, now = new Date()): CompatPlan {
  const prog = flavour === "livecd" ? "livecd-creator" : "image-creator";
  const spec: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const o of COMPAT_OPTIONS) spec[o.name] = { type: o.arg ? "string" : "boolean", ...(o.short ? { short: o.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(prog, (err instanceof Error ? err.message : String(err)).split(/\.\s/)[0]!.replace(/^Unknown option/, "no such option:"));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : undefined);
  const warnings: string[] = [];
  const empty: CompatPlan = { kickstart: "", outdir: ".", options: {}, shell: false, keepSession: false, verbosity: "normal", warnings, help: true };
  if (v["help"]) return empty;

  const imageType = str("image-type") ?? flavour;
  if (imageType !== "livecd" && imageType !== "image") throw usage(prog, `'${imageType}' is not a recognized image type`);
  // image-creator compatibility: the last argument is the kickstart file.
  let kickstart = str("config");
  const pos = [...parsed.positionals];
  if (pos.length === 1) kickstart = pos.pop();
  if (pos.length) throw usage(prog, "Extra arguments given");
  if (!kickstart) throw usage(prog, "Kickstart file must be provided");

  let fslabel = str("fslabel") ?? str("name");
  if (imageType === "livecd" && fslabel !== undefined) {
    if (fslabel.length > 32) throw usage(prog, "CD labels are limited to 32 characters");
    if (fslabel.includes(" ")) throw usage(prog, "CD labels cannot contain spaces.");
  }
  // An image-creator image is an ext4 file system, whose label holds 16 characters (mke2fs used to cut
  // longer ones silently; here a given label is refused, and the default is cut on purpose).
  if (imageType === "image" && fslabel !== undefined && fslabel.length > EXT4_LABEL_MAX) {
    throw refuse(prog, `file system labels of images are limited to ${EXT4_LABEL_MAX} characters (ext4); '${fslabel}' has ${fslabel.length}`);
  }
  let name: string;
  if (fslabel !== undefined) name = fslabel;
  else {
    name = buildName(kickstart, `${imageType}-`, stamp(now));
    fslabel =
      imageType === "livecd"
        ? buildName(kickstart, `${imageType}-`, `${machine()}-${stamp(now)}`, 32)
        : basename(kickstart).replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]/g, "-").slice(0, EXT4_LABEL_MAX);
  }

  if (str("base-on")) throw refuse(prog, "--base-on is not supported through imgcreated yet: it would make the daemon open an ISO path you name; build from the kickstart instead");
  if (str("repo")) throw refuse(prog, "--repo is not supported: the daemon never reads repository files from your machine; put the repositories in the kickstart (repo --baseurl=...)");
  if (v["skip-compression"]) throw refuse(prog, "--skip-compression is not supported: live images are always compressed; use --compression-type lz4 for a fast build");
  const level = str("pkgverify-level");
  if (level !== undefined) {
    if (!["all", "signature", "digest", "none"].includes(level)) throw usage(prog, `option --pkgverify-level: invalid choice: '${level}' (choose from 'all', 'signature', 'digest', 'none')`);
    if (level === "digest" || level === "none") throw refuse(prog, `--pkgverify-level=${level} would weaken verification, which apt does not allow here: every package's signature is always checked`);
    warnings.push(`--pkgverify-level=${level}: always the case here, apt checks every package's signature`);
  }
  if (str("dracut-conf-args") !== undefined) warnings.push("--dracut-conf-args is ignored: the engine writes the dracut configuration a live image needs");
  if (v["plugins"]) warnings.push("--plugins is ignored: packages are installed with apt, which has no DNF plugins");
  if (str("tmpdir") !== undefined) warnings.push("--tmpdir is ignored: the daemon builds in its own state directory");
  if (str("cache") !== undefined) warnings.push("--cache is ignored: the daemon keeps one shared package cache");
  if (v["cacheonly"]) warnings.push("--cacheonly is ignored: packages missing from the daemon's cache are downloaded");

  const options: SessionOptions = {
    name,
    type: imageType === "livecd" ? "live" : "loop",
    fslabel,
    releasever: str("releasever"),
  };
  if (imageType === "livecd") {
    options.title = str("title") ?? titleOf(name);
    options.product = str("product") ?? titleOf(name);
    if (v["syslinux"]) options["bootloader"] = "isolinux";
    if (v["flat-squashfs"]) options["flat-squashfs"] = true;
    const comp = str("compression-type");
    if (comp !== undefined) options.compression = compression(prog, comp, warnings);
  } else {
    for (const k of ["title", "product", "compression-type"]) if (str(k) !== undefined) warnings.push(`--${k} is ignored: it applies to live images only`);
    if (v["syslinux"] || v["flat-squashfs"]) warnings.push("--syslinux and --flat-squashfs are ignored: they apply to live images only");
  }
  if (v["skip-minimize"]) options["minimize"] = false;

  return {
    kickstart,
    outdir: str("output") ?? ".",
    options,
    shell: v["shell"] === true,
    keepSession: v["nocleanup"] === true,
    verbosity: v["quiet"] ? "quiet" : v["debug"] || v["verbose"] ? "verbose" : "normal",
    logfile: str("logfile"),
    warnings,
    help: false,
  };
}
