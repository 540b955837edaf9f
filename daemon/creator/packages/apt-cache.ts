// The shared package cache, one directory per repository under <cacheDir>/apt/<key>/: `lists/`
// (apt's package indexes) and `archives/` (.deb files). Writers take an exclusive flock on
// <key>/lock, readers a shared one. A .deb enters archives/ only complete and hash-checked by apt
// (apt moves it out of partial/ after verification), copied under a temporary name and renamed, so
// a reader never sees half a file; apt checks the hash of every cached .deb again before using it.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { run, type RunOptions } from "../system/exec.js";

export interface RepoCache {
  dir: string;
  lists: string;
  archives: string;
  lock: string;
}

export async function repoCache(cacheDir: string, key: string): Promise<RepoCache> {
  const dir = join(cacheDir, "apt", key);
  const c = { dir, lists: join(dir, "lists"), archives: join(dir, "archives"), lock: join(dir, "lock") };
  await mkdir(join(c.lists, "partial"), { recursive: true, mode: 0o755 });
  await mkdir(c.archives, { recursive: true, mode: 0o755 });
  return c;
}

/** apt options that make host apt-get/apt-cache use only our sources and our lists, touching nothing of the host's. */
export function privateAptOptions(sourcesDir: string, cache: RepoCache, scratch: string): string[] {
  const o = (k: string, v: string) => ["-o", `${k}=${v}`];
  return [
    ...o("Dir::Etc::SourceList", "/dev/null"),
    ...o("Dir::Etc::SourceParts", sourcesDir),
    ...o("Dir::Etc::Preferences", "/dev/null"),
    ...o("Dir::Etc::PreferencesParts", join(scratch, "none")),
    ...o("Dir::State::Lists", cache.lists),
    ...o("Dir::State::status", "/dev/null"),
    ...o("Dir::Cache", scratch),
    ...o("Dir::Cache::pkgcache", ""),
    ...o("Dir::Cache::srcpkgcache", ""),
    ...o("Debug::NoLocking", "1"),
  ];
}

/** Refreshes the repository's package lists under the exclusive lock. */
export async function updateLists(opts: string[], cache: RepoCache, run_: RunOptions): Promise<void> {
  await run(["flock", cache.lock, "apt-get", ...opts, "-q", "update"], run_);
}

/** Every package name (real and virtual) the repository offers. */
export async function availableNames(opts: string[], cache: RepoCache, run_: RunOptions): Promise<Set<string>> {
  const res = await run(["flock", "--shared", cache.lock, "apt-cache", ...opts, "--all-names", "pkgnames"], run_);
  return new Set(res.stdout.split("\n").filter(Boolean));
}
