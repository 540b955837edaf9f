// Where apt gets packages: the kickstart's `repo --baseurl` entries (with suite and components from
// %addon org_imgcreate), or, when it names none, the host's own configured apt sources, copied as
// they are (their Signed-By keyrings included). No mirror host name is ever written by us.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import type { RepoConfig } from "./backend.js";

export interface AptSources {
  /** Directory holding the sources files (apt's Dir::Etc::SourceParts). */
  dir: string;
  /** The sources files, in order (mmdebstrap's MIRROR arguments). */
  files: string[];
  /** Repository identity: the cache is keyed by it. */
  key: string;
  suite: string;
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

function kickstartSources(cfg: RepoConfig, suite: string): string {
  const components = cfg.addon.components?.length ? cfg.addon.components : ["main"];
  const urls: string[] = [];
  for (const r of cfg.repos) {
    if (!r.baseurl) {
      throw new ImgcreateError(
        "InvalidArgs",
        `${r.file}:${r.line}: repo "${r.name}" has no --baseurl; apt repositories need --baseurl=URL (mirrorlist and metalink are dnf-only)`,
        { file: r.file, line: r.line },
      );
    }
    urls.push(r.baseurl);
  }
  if (cfg.addon.mirror && cfg.addon.mirror !== "host") urls.push(cfg.addon.mirror);
  const signed = existsSync(HOST_KEYRING) ? `Signed-By: ${HOST_KEYRING}\n` : "";
  return urls.map((u) => `Types: deb\nURIs: ${u}\nSuites: ${suite}\nComponents: ${components.join(" ")}\n${signed}`).join("\n");
}

/** Writes the sources for this build into dir and says which repository (cache key) they are. */
export async function prepareSources(cfg: RepoConfig, dir: string, arch: string): Promise<AptSources> {
  const suite = cfg.addon.suite ?? cfg.releasever ?? (await hostCodename());
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const useKickstart = cfg.repos.length > 0 || (cfg.addon.mirror !== undefined && cfg.addon.mirror !== "host");
  if (useKickstart) {
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
  return { dir, files, key: h.digest("hex").slice(0, 16), suite };
}
