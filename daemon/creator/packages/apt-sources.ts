// Where apt gets packages: the kickstart's `repo --baseurl` entries (with suite and components from
// %addon org_imgcreate), or, when it names none, the host's own configured apt sources, copied as
// they are (their Signed-By keyrings included). A kickstart repository is checked with the host's
// Debian keyring, or with its own --repo-key and nothing else. No mirror host name is ever written by us.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import type { RepoConfig } from "./backend.js";
import { localRepoDir, localRepoProblem } from "./repo-access.js";

export interface AptSources {
  /** Directory holding the sources files (apt's Dir::Etc::SourceParts). */
  dir: string;
  /** The sources files, in order (mmdebstrap's MIRROR arguments). */
  files: string[];
  /** Repository identity: the cache is keyed by it. */
  key: string;
  suite: string;
  /** Local repository directories (checked safe) that apt reads: the build's sandbox must see them. */
  localDirs: string[];
}

const HOST_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

export async function hostCodename(): Promise<string> {
  const text = await readFile("/etc/os-release", "utf8").catch(() => "");
  return /^VERSION_CODENAME=(\S+)/m.exec(text)?.[1]?.replace(/"/g, "") ?? "stable";
}

async function hostSourceFiles(): Promise<string[]> {
  const out: string[] = [];
  const main = "/etc/apt/sources.list";
  if (existsSync(main) && /^\s*deb\s/m.test(await readFile(main, "utf8"))) out.push(main);
  const partsDir = "/etc/apt/sources.list.d";
  const parts = existsSync(partsDir) ? (await readdir(partsDir)).sort() : [];
  for (const f of parts) if (/\.(list|sources)$/.test(f)) out.push(join(partsDir, f));
  return out;
}

/** One deb822 stanza: a repository and the keyring apt must check it with. */
interface Entry {
  uri: string;
  /** The repository's own --repo-key, armored; else the host's Debian keyring. */
  key?: string;
  /** What the user wrote, for messages: `repo "name"` at its FILE:LINE. */
  what: string;
  file?: string;
  line?: number;
}

function kickstartEntries(cfg: RepoConfig): Entry[] {
  const keys = new Map((cfg.addon.repoKeys ?? []).map((k) => [k.repo, k.key]));
  const entries: Entry[] = [];
  for (const r of cfg.repos) {
    if (!r.baseurl) {
      throw new ImgcreateError(
        "InvalidArgs",
        `${r.file}:${r.line}: repo "${r.name}" has no --baseurl; apt repositories need --baseurl=URL (mirrorlist and metalink are dnf-only)`,
        { file: r.file, line: r.line },
      );
    }
    entries.push({ uri: r.baseurl, key: keys.get(r.name), what: `repo "${r.name}"`, file: r.file, line: r.line });
  }
  if (cfg.addon.mirror && cfg.addon.mirror !== "host") {
    entries.push({ uri: cfg.addon.mirror, what: "%addon org_imgcreate --mirror", file: cfg.addon.file, line: cfg.addon.line });
  }
  return entries;
}

const usesKickstart = (cfg: RepoConfig) => cfg.repos.length > 0 || (cfg.addon.mirror !== undefined && cfg.addon.mirror !== "host");

/** Refuses a URI apt must not be given (see repo-access.ts); returns a local repository's directory. */
async function checkEntry(e: Entry): Promise<string | undefined> {
  const at = e.file !== undefined ? `${e.file}:${e.line}: ` : "";
  const fail = (msg: string, detail: Record<string, unknown> = {}) =>
    new ImgcreateError("InvalidArgs", `${at}${e.what}: ${msg}`, { file: e.file, line: e.line, uri: e.uri, ...detail });
  const local = localRepoDir(e.uri);
  if (local.refused) throw fail(local.refused);
  if (!local.dir) return undefined;
  const p = await localRepoProblem(local.dir);
  if (p) {
    throw fail(
      `imgcreated reads ${e.uri} as root, so it takes a local repository only when every user can read all of it and only root can change it ` +
        `or any directory above it: ${p.path} ${p.why}. Fix: ${p.fix} (the whole repository root-owned and world-readable), or serve it over http(s)`,
      { path: p.path },
    );
  }
  return local.dir;
}

/**
 * The cheap checks of the kickstart's repositories, with no side effects: --baseurl present, only
 * http(s) or a safe local directory. Returns the local directories apt will read.
 */
export async function checkSources(cfg: RepoConfig): Promise<string[]> {
  if (!usesKickstart(cfg)) return [];
  const dirs: string[] = [];
  for (const e of kickstartEntries(cfg)) {
    const d = await checkEntry(e);
    if (d !== undefined) dirs.push(d);
  }
  return dirs;
}

/**
 * A --repo-key as the value of Signed-By, embedded in the sources (apt >= 2.4): no key file, because
 * apt's gpgv runs as the _apt user and silently skips a keyring it cannot read, and the daemon's work
 * and cache dirs are 0700 (seen: NO_PUBKEY). So the cache key (the sources' hash) includes the key, and
 * the image's own sources, copied from these by mmdebstrap, keep trusting that key for that repository.
 * deb822 continuation lines start with a space; an empty line is written " .".
 */
function embedded(key: string): string {
  return "\n" + key.trim().split(/\r?\n/).map((l) => " " + (l.trim() === "" ? "." : l)).join("\n");
}

function kickstartSources(cfg: RepoConfig, suite: string): string {
  const components = cfg.addon.components?.length ? cfg.addon.components : ["main"];
  const host = existsSync(HOST_KEYRING) ? HOST_KEYRING : undefined;
  const stanzas: string[] = [];
  for (const e of kickstartEntries(cfg)) {
    const keyring = e.key !== undefined ? embedded(e.key) : host !== undefined ? ` ${host}` : undefined;
    const signed = keyring !== undefined ? `Signed-By:${keyring}\n` : "";
    stanzas.push(`Types: deb\nURIs: ${e.uri}\nSuites: ${suite}\nComponents: ${components.join(" ")}\n${signed}`);
  }
  return stanzas.join("\n");
}

/**
 * Writes the sources for this build into dir and says which repository (cache key) they are.
 * Refuses, before apt ever runs, a repository the daemon must not read.
 */
export async function prepareSources(cfg: RepoConfig, dir: string, arch: string): Promise<AptSources> {
  const localDirs = await checkSources(cfg);
  const suite = cfg.addon.suite ?? cfg.releasever ?? (await hostCodename());
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  if (usesKickstart(cfg)) {
    const f = join(dir, "imgcreate.sources");
    await writeFile(f, kickstartSources(cfg, suite));
    files.push(f);
  } else {
    const host = await hostSourceFiles();
    if (host.length === 0) {
      throw new ImgcreateError("InvalidArgs", "the kickstart names no repository and the host has no apt sources: add `repo --name=debian --baseurl=URL`");
    }
    for (const [i, src] of host.entries()) {
      const ext = src.endsWith(".sources") ? "sources" : "list";
      const f = join(dir, `${String(i).padStart(2, "0")}-host.${ext}`);
      await writeFile(f, await readFile(src));
      files.push(f);
    }
  }
  const h = createHash("sha256").update(arch).update(suite);
  for (const f of files) h.update(await readFile(f));
  return { dir, files, key: h.digest("hex").slice(0, 16), suite, localDirs };
}
