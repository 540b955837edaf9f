// Every .deb a build installs is fetched on the host, by apt itself, BEFORE any package script runs:
// the sandbox that runs mmdebstrap and the package scripts has no network. Cached debs are linked in
// first (apt fetches only what is missing), new ones enter the shared cache under a temporary name
// and are renamed into place, so a reader never sees half a file. The package set is what
// mmdebstrap installs: the variant's base set (the Essential packages, plus Priority: required and
// apt for minbase, apt for the apt variant) and the requested packages, with the same Recommends
// setting and the excludes pinned away.
import { link, copyFile, mkdir, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { run, type RunOptions } from "../system/exec.js";
import type { RepoCache } from "./apt-cache.js";

export interface DownloadRequest {
  /** privateAptOptions() for this build. */
  aptOptions: string[];
  cache: RepoCache;
  /** The build's own archive directory (bound over the root's /var/cache/apt/archives later). */
  debs: string;
  suite: string;
  arch: string;
  variant: string;
  include: string[];
  recommends: boolean;
  /** A directory of apt preferences (the exclude pins), if any. */
  preferencesDir?: string;
}

/** apt patterns for a variant's base set, as mmdebstrap selects it. */
export function basePatterns(variant: string, suite: string, arch: string): string[] {
  const narrow = (p: string) => `?narrow(?or(?archive(^${suite}$),?codename(^${suite}$)),?architecture(${arch}),${p})`;
  const priorities: Record<string, string[]> = {
    minbase: ["required"],
    required: ["required"],
    buildd: ["required"],
    important: ["required", "important"],
    standard: ["required", "important", "standard"],
  };
  const out = [narrow("?essential")];
  for (const p of priorities[variant] ?? []) out.push(narrow(`?priority(${p})`));
  if (variant !== "essential") out.push("apt");
  if (variant === "buildd") out.push("build-essential");
  return out;
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch {
    await copyFile(from, to);
  }
}

const debsIn = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".deb"));

/** Links the cached debs in, lets apt download the rest, and adds what it fetched to the cache. */
export async function downloadDebs(r: DownloadRequest, runOpts: RunOptions): Promise<void> {
  await mkdir(join(r.debs, "partial"), { recursive: true });
  const cached = await debsIn(r.cache.archives);
  for (const f of cached) await linkOrCopy(join(r.cache.archives, f), join(r.debs, f)).catch(() => undefined);
  const o = (k: string, v: string) => ["-o", `${k}=${v}`];
  await run(
    [
      "flock", "--shared", r.cache.lock,
      "apt-get", ...r.aptOptions,
      ...o("Dir::Cache::Archives", r.debs + "/"),
      ...o("APT::Install-Recommends", r.recommends ? "true" : "false"),
      ...(r.preferencesDir ? o("Dir::Etc::PreferencesParts", r.preferencesDir) : []),
      "-q", "-y", "--download-only", "install",
      ...basePatterns(r.variant, r.suite, r.arch), ...r.include,
    ],
    runOpts,
  );
  const known = new Set(cached);
  for (const f of await debsIn(r.debs)) {
    if (known.has(f)) continue;
    const tmp = join(r.cache.archives, `.${f}.tmp.${process.pid}`);
    await linkOrCopy(join(r.debs, f), tmp);
    await rename(tmp, join(r.cache.archives, f));
  }
}
