// Where dnf gets packages: every `repo` (and the `url` command) of the kickstart, with each option
// livecd-creator honours, a repository's own --repo-key as its signature check (the key travels as
// text with the kickstart; the daemon never opens a key path), and local file:// repositories only
// when repo-access.ts lets the daemon read them (the same rule as for apt).
import { ImgcreateError } from "../../errors.js";
import type { RepoEntry } from "../../kickstart/model.js";
import type { RepoConfig } from "./backend.js";
import type { DriverRepo } from "./dnf-driver.js";
import { localRepoDir, localRepoProblem } from "./repo-access.js";

const DNF_VARS = /\$\{?releasever\b/;

const at = (r: RepoEntry) => `${r.file}:${r.line}`;

function bad(r: RepoEntry, why: string): ImgcreateError {
  return new ImgcreateError("InvalidArgs", `${at(r)}: repo "${r.name}" ${why}`, { file: r.file, line: r.line, repo: r.name });
}

/** A repository id dnf takes (it names cache directories), from the kickstart's name. */
export function repoId(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]/g, "_");
}

export interface DnfRepos {
  repos: DriverRepo[];
  /** Local repository directories (checked) the sandbox must see. */
  localDirs: string[];
  /** Armored keys by repository id (written to files by the caller). */
  keys: Map<string, string>;
}

/** Checks every repository and turns it into the driver's terms; InvalidArgs at the line to change. */
export async function dnfRepos(cfg: RepoConfig): Promise<DnfRepos> {
  if (cfg.repos.length === 0) {
    throw new ImgcreateError("InvalidArgs", "a dnf build needs repositories: add `repo --name=NAME --baseurl=URL` (or `url --url=URL`) to the kickstart");
  }
  const keys = new Map((cfg.addon.repoKeys ?? []).map((k) => [k.repo, k.key]));
  const out: DnfRepos = { repos: [], localDirs: [], keys: new Map() };
  for (const r of cfg.repos) {
    const url = r.baseurl ?? r.mirrorlist ?? r.metalink;
    if (url === undefined) throw bad(r, "has no --baseurl, --mirrorlist or --metalink: give one of them");
    if (!cfg.releasever && DNF_VARS.test(url)) {
      throw bad(r, `uses $releasever in ${url}: give the release with --releasever (imgcreate build --releasever=N, or the session option "releasever")`);
    }
    if (!/^(https?|ftp|file):\/\//i.test(url)) throw bad(r, `has ${url}: dnf takes http://, https://, ftp:// or file:///DIR here`);
    if (/^file:/i.test(url)) {
      if (r.baseurl === undefined) throw bad(r, "names a local mirror list or metalink: give the local repository with --baseurl=file:///DIR");
      const { dir, refused } = localRepoDir(url);
      if (refused !== undefined || dir === undefined) throw bad(r, refused ?? `has ${url}, which is not a local directory`);
      const problem = await localRepoProblem(dir);
      if (problem) throw bad(r, `at ${dir} cannot be used: ${problem.path} ${problem.why}; ${problem.fix}`);
      out.localDirs.push(dir);
    }
    const id = repoId(r.name);
    const key = keys.get(r.name);
    if (key !== undefined) out.keys.set(id, key);
    out.repos.push({
      id,
      ...(r.baseurl !== undefined ? { baseurl: r.baseurl } : {}),
      ...(r.baseurl === undefined && r.mirrorlist !== undefined ? { mirrorlist: r.mirrorlist } : {}),
      ...(r.baseurl === undefined && r.mirrorlist === undefined && r.metalink !== undefined ? { metalink: r.metalink } : {}),
      ...(r.cost !== undefined ? { cost: r.cost } : {}),
      includepkgs: r.includepkgs,
      excludepkgs: r.excludepkgs,
      ...(r.proxy !== undefined ? { proxy: r.proxy } : {}),
      sslverify: !r.noverifyssl,
      ...(r.file !== undefined ? { where: at(r) } : {}),
    });
  }
  const unknown = [...keys.keys()].find((name) => !cfg.repos.some((r) => r.name === name));
  if (unknown !== undefined) {
    const k = cfg.addon.repoKeys!.find((x) => x.repo === unknown)!;
    throw new ImgcreateError("InvalidArgs", `${k.file}:${k.line}: --repo-key names repo "${unknown}", which the kickstart does not have; use a repo --name`, { file: k.file, line: k.line });
  }
  return out;
}

/** `repo --install`: the .repo file (and its key) the image keeps, so dnf in it uses the repository too. */
export function installedRepoFiles(cfg: RepoConfig): Record<string, string> {
  const files: Record<string, string> = {};
  const keys = new Map((cfg.addon.repoKeys ?? []).map((k) => [k.repo, k.key]));
  for (const r of cfg.repos.filter((x) => x.install)) {
    const id = repoId(r.name);
    const key = keys.get(r.name);
    const lines = [`[${id}]`, `name=${r.name}`];
    if (r.baseurl !== undefined) lines.push(`baseurl=${r.baseurl}`);
    if (r.mirrorlist !== undefined) lines.push(`mirrorlist=${r.mirrorlist}`);
    if (r.metalink !== undefined) lines.push(`metalink=${r.metalink}`);
    if (r.cost !== undefined) lines.push(`cost=${r.cost}`);
    if (r.includepkgs.length) lines.push(`includepkgs=${r.includepkgs.join(",")}`);
    if (r.excludepkgs.length) lines.push(`excludepkgs=${r.excludepkgs.join(",")}`);
    if (r.proxy !== undefined) lines.push(`proxy=${r.proxy}`);
    if (r.noverifyssl) lines.push("sslverify=0");
    if (key !== undefined) {
      const keyPath = `/etc/pki/rpm-gpg/imgcreate-${id}.asc`;
      files[keyPath] = key;
      lines.push("gpgcheck=1", `gpgkey=file://${keyPath}`);
    } else {
      lines.push("gpgcheck=0");
    }
    files[`/etc/yum.repos.d/${id}.repo`] = lines.join("\n") + "\n"; // $releasever kept: dnf in the image knows its own
  }
  return files;
}
