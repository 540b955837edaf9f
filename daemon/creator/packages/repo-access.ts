// Which repository URIs the daemon hands to apt. apt reads a local repository (file:, copy:) as root
// (its _apt sandbox user falls back to root when it cannot read one), so a caller could make the
// daemon read a path the caller cannot. A local repository is therefore taken only when every user
// can read all of it and nobody but root can change it or any directory above it: reading it as root
// then shows the caller nothing they could not read themselves, and since every component is
// root-owned and not writable by others, nobody but root can swap one for a symlink between this
// check and apt's reads (so there is no race to win). Every path is looked at with lstat.
import { lstat, readdir, readlink } from "node:fs/promises";
import type { Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** What is wrong with one path and the command that fixes it. */
export interface AccessProblem {
  path: string;
  why: string;
  fix: string;
}

const NETWORK = new Set(["http:", "https:"]);
const LOCAL = new Set(["file:", "copy:"]);

const mode = (st: Stats) => "0" + (st.mode & 0o7777).toString(8);

/**
 * The directory of a local repository URI, undefined for http(s), or a sentence saying why apt
 * may not be given this URI at all (other methods, e.g. mirror+file:, also read local paths).
 */
export function localRepoDir(uri: string): { dir?: string; refused?: string } {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return { refused: `"${uri}" is not a URL; write http://, https:// or file:///DIR` };
  }
  if (NETWORK.has(u.protocol)) return {};
  if (!LOCAL.has(u.protocol)) return { refused: `apt method "${u.protocol}" is not allowed here; use http://, https:// or file:///DIR` };
  if (u.host !== "") return { refused: `${uri} names a host; a local repository is file:///DIR` };
  const dir = decodeURIComponent(u.pathname).replace(/\/+$/, "") || "/";
  if (!dir.startsWith("/") || dir.split("/").includes("..")) return { refused: `${uri} is not an absolute directory` };
  return { dir };
}

/** Why `dir`, the directories above it and everything below it do not pass (undefined when they do). */
export async function localRepoProblem(dir: string): Promise<AccessProblem | undefined> {
  const parts = dir.split("/").filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const p = "/" + parts.slice(0, i).join("/");
    const problem = await pathProblem(p, "above");
    if (problem) return problem;
  }
  return treeProblem(dir);
}

/** Enough for a local mirror of a whole Debian suite; bounds the work a caller can ask for (file:///usr). */
const MAX_ENTRIES = 500_000;

async function treeProblem(dir: string): Promise<AccessProblem | undefined> {
  const queue = [dir];
  for (let i = 0; i < queue.length; i++) {
    const p = queue[i]!;
    if (i >= MAX_ENTRIES) return { path: dir, why: `holds more than ${MAX_ENTRIES} files, too many to check`, fix: "name the repository's own directory" };
    const problem = await pathProblem(p, "inside", dir);
    if (problem) return problem;
    if (!(await lstat(p)).isDirectory()) continue;
    for (const name of (await readdir(p)).sort()) queue.push(join(p, name));
  }
  return undefined;
}

/**
 * One path. "above": a directory others can search and cannot change (a sticky one such as /tmp is
 * fine: others cannot move the root-owned entry below it). "inside": readable by all, changeable
 * by root only; a symlink must stay inside the repository (mirrors have dists/stable -> bookworm).
 */
async function pathProblem(p: string, where: "above" | "inside", top = p): Promise<AccessProblem | undefined> {
  const st = await lstat(p).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) return { path: p, why: st.code === "ENOENT" ? "does not exist" : `cannot be examined (${st.code})`, fix: "name an existing directory" };
  if (st.isSymbolicLink()) return linkProblem(p, where, top);
  const dir = st.isDirectory();
  if (!dir && (where === "above" || !st.isFile())) return { path: p, why: "is not a directory or regular file", fix: `remove it from the repository` };
  if (st.uid !== 0) return { path: p, why: `is owned by uid ${st.uid}, not root`, fix: `chown root: ${p}` };
  const need = where === "above" ? 0o001 : dir ? 0o005 : 0o004;
  if ((st.mode & need) !== need) {
    return { path: p, why: `is mode ${mode(st)}: not ${where === "above" ? "searchable" : "readable"} by every user`, fix: `chmod ${where === "above" ? "a+x" : "a+rX"} ${p}` };
  }
  const sticky = where === "above" && (st.mode & 0o1000) !== 0;
  if ((st.mode & 0o022) !== 0 && !sticky) return { path: p, why: `is mode ${mode(st)}: writable by users other than root`, fix: `chmod go-w ${p}` };
  return undefined;
}

async function linkProblem(p: string, where: "above" | "inside", top: string): Promise<AccessProblem | undefined> {
  if (where === "above" || p === top) return { path: p, why: "is a symbolic link", fix: "name the directory it points to instead" };
  const target = resolve(dirname(p), await readlink(p));
  if (target === top || target.startsWith(top + "/")) return undefined;
  return { path: p, why: `is a symbolic link to ${target}, outside the repository`, fix: "copy what it points to into the repository" };
}
