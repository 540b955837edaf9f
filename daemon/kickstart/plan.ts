// The transaction request a kickstart makes, without network: the backend (backend-choice.ts), the
// repositories as the kickstart writes them ($releasever/$basearch kept; the backend expands them), and
// %packages as the package request (request.ts). `imgcreate ks plan` prints it; a backend that
// resolves groups or names against repository metadata starts from the same request.
import type { KickstartModel, RepoEntry } from "./model.js";
import { chooseBackend, type BackendChoice, type BackendConflict } from "./backend-choice.js";
import { requestFromKickstart, type Spec } from "./request.js";

/** One repository as the backend will configure it; the `url` command becomes the first, named "anaconda" as Anaconda names it. */
export interface PlannedRepo extends RepoEntry {
  /** "url" for the `url` command, else "repo". */
  from: "repo" | "url";
}

export interface TransactionPlan {
  backend: BackendChoice["backend"];
  /** Why that backend. */
  reason: string;
  /** The --releasever given, else null: the backend's default (dnf: the host's; apt: the suite). */
  releasever: string | null;
  repos: PlannedRepo[];
  /** Names and globs, as %packages lists them (sorted). */
  packages: string[];
  /** `@group`, `@group --nodefaults`, `@group --optional`, then `@^environment`. */
  groups: string[];
  /** `-name` packages and `-@group` groups. */
  excludes: string[];
  /** `name:stream/profile` to enable; `-name` for `module --disable`. */
  modules: string[];
  options: {
    excludedocs: boolean;
    instLangs: string | null;
    nocore: boolean;
    ignoremissing: boolean;
    excludeWeakdeps: boolean;
  };
}

function planned(r: RepoEntry): PlannedRepo {
  return { ...r, from: "repo" };
}

/** The repositories a kickstart names: the `url` command's first (as "anaconda"), then every `repo`. */
export function kickstartRepos(m: KickstartModel): PlannedRepo[] {
  const repos = m.repos.map(planned);
  const u = m.url;
  if (u && (u.url ?? u.mirrorlist ?? u.metalink) !== undefined) {
    repos.unshift({
      name: "anaconda",
      ...(u.url !== undefined ? { baseurl: u.url } : {}),
      ...(u.mirrorlist !== undefined ? { mirrorlist: u.mirrorlist } : {}),
      ...(u.metalink !== undefined ? { metalink: u.metalink } : {}),
      includepkgs: [], excludepkgs: [], noverifyssl: false, install: false, from: "url", file: u.file, line: u.line,
    });
  }
  return repos;
}

function groupText(g: Spec): string {
  return `@${g.name}${g.nodefaults ? " --nodefaults" : ""}${g.optional ? " --optional" : ""}`;
}

/** The plan, or the conflict that makes the kickstart unbuildable (mixed repositories). */
export function transactionPlan(m: KickstartModel, opts: { releasever?: string } = {}): { plan: TransactionPlan } | { conflict: BackendConflict } {
  const { choice, conflict } = chooseBackend(m);
  if (conflict) return { conflict };
  const req = requestFromKickstart(m.packages);
  const repos = kickstartRepos(m);
  return {
    plan: {
      backend: choice.backend,
      reason: choice.reason + (choice.file !== undefined ? ` (${choice.file}:${choice.line})` : ""),
      releasever: opts.releasever ?? null,
      repos,
      packages: req.packages.map((p) => p.name),
      groups: [...req.groups.map(groupText), ...(req.environment ? [`@^${req.environment.name}`] : [])],
      excludes: [...req.excludes.map((e) => e.name), ...(req.excludedGroups ?? []).map((g) => `@${g.name}`)],
      modules: (req.modules ?? []).map((x) =>
        x.enabled ? `${x.name}:${x.stream ?? ""}${x.profile !== undefined ? "/" + x.profile : ""}` : `-${x.name}`),
      options: {
        excludedocs: req.excludeDocs,
        instLangs: req.instLangs ?? null,
        nocore: req.nocore,
        ignoremissing: req.ignoreMissing,
        excludeWeakdeps: !req.weakDeps,
      },
    },
  };
}

/** A short human form: backend, repositories, counts and the lists. */
export function formatPlan(p: TransactionPlan): string {
  const lines = [`backend: ${p.backend} — ${p.reason}`, `releasever: ${p.releasever ?? "(backend default)"}`, "repositories:"];
  for (const r of p.repos) {
    const src = r.baseurl !== undefined ? `baseurl ${r.baseurl}` : r.mirrorlist !== undefined ? `mirrorlist ${r.mirrorlist}` : `metalink ${r.metalink ?? "?"}`;
    const extra = [
      r.cost !== undefined ? `cost ${r.cost}` : "", r.includepkgs.length ? `includepkgs ${r.includepkgs.join(",")}` : "",
      r.excludepkgs.length ? `excludepkgs ${r.excludepkgs.join(",")}` : "", r.proxy !== undefined ? `proxy ${r.proxy}` : "",
      r.noverifyssl ? "noverifyssl" : "", r.install ? "install" : "",
    ].filter(Boolean);
    lines.push(`  ${r.name}: ${src}${extra.length ? ` (${extra.join("; ")})` : ""}  [${r.file}:${r.line}]`);
  }
  if (p.repos.length === 0) lines.push(p.backend === "apt" ? "  (none: the host's apt sources)" : "  (none: the host's dnf repositories)");
  const o = p.options;
  const flags = [o.excludedocs && "--excludedocs", o.instLangs !== null && `--inst-langs=${o.instLangs}`, o.nocore && "--nocore",
    o.ignoremissing && "--ignoremissing", o.excludeWeakdeps && "--exclude-weakdeps"].filter(Boolean);
  lines.push(`options: ${flags.length ? flags.join(" ") : "(none)"}`);
  const SHOWN = 24;
  const list = (title: string, xs: string[]) => {
    const more = xs.length > SHOWN ? ` … and ${xs.length - SHOWN} more (--json lists all)` : "";
    lines.push(`${title} (${xs.length}): ${xs.slice(0, SHOWN).join(" ")}${more}`.trimEnd());
  };
  list("groups", p.groups);
  list("packages", p.packages);
  list("excludes", p.excludes);
  if (p.modules.length) list("modules", p.modules);
  return lines.join("\n") + "\n";
}
