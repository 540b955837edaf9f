// Which package manager builds a kickstart: apt (Debian, mmdebstrap) or dnf (Fedora, CentOS,
// AlmaLinux, Rocky). Pure: decided from the model alone, no network. The rule (docs/kickstart.md):
//   1. `%addon org_imgcreate --backend=apt|dnf` wins;
//   2. otherwise the repositories say it. Strong signs, which only one backend can use:
//      dnf: `url`, a repo with --mirrorlist/--metalink, $releasever/$basearch/$arch in a URL;
//      apt: %addon org_imgcreate --suite/--components/--variant/--mirror.
//      Weak signs (a guess from names, overridden by --backend):
//      dnf: a repo named fedora, rawhide, epel*, appstream, baseos, crb, powertools, ... or a URL at a
//      Fedora/CentOS/AlmaLinux/Rocky/RHEL host or path; apt: a URL at a Debian/Ubuntu host or path.
//      The first strong sign decides (the addon's before the repositories'), else the first weak one; no sign at all (no repos, or plain
//      `repo --baseurl` URLs) → apt, as before dnf existed.
//   3. A sign of the other kind is an error at its line (with --backend, only a strong one is).
import type { KickstartModel, Located } from "./model.js";

export type BackendName = "apt" | "dnf";

export interface BackendChoice {
  backend: BackendName;
  /** Why, in words ("repo \"fedora\" has --mirrorlist"). */
  reason: string;
  /** Where the deciding sign is (absent for the default). */
  file?: string;
  line?: number;
}

/** A kickstart whose repositories need different package managers: the line to change and what to do. */
export interface BackendConflict extends Located {
  message: string;
}

interface Sign extends Partial<Located> {
  kind: BackendName;
  strong: boolean;
  /** What it is, e.g. `repo "epel"`. */
  what: string;
  /** Why it is of its kind, e.g. "has --mirrorlist". */
  why: string;
  /** A repo (or url) line, not the addon. */
  repo: boolean;
}

const DNF_VARS = /\$\{?(releasever|basearch|arch)\b/;
const DNF_NAMES = /^(fedora|rawhide|epel.*|appstream|baseos|crb|powertools|codeready.*|rpmfusion.*|(centos|almalinux|rocky|rhel|fedora)-.*)$/i;
// Path components only: no mirror's host name is written here, and mirrors differ in hosts, not in these.
const DNF_URL = /\/(fedora|epel|centos|almalinux|rocky|rhel)(\/|$)/i;
const APT_URL = /\/(debian|debian-security|ubuntu|devuan|raspbian)(\/|$)/i;

function hostAndPath(url: string): string {
  return url.replace(/^[a-z+]+:\/\/(?:[^@/]*@)?/i, "").replace(/[?#].*$/, "");
}

function signs(m: KickstartModel): Sign[] {
  const out: Sign[] = [];
  const loc = (l: Located) => ({ file: l.file, line: l.line });
  // The addon's Debian settings come first: they declare apt, so a dnf-only repository is the line to change.
  const a = m.imgcreate;
  const debianOnly = (["suite", "components", "variant", "mirror"] as const).filter((k) => a[k] !== undefined);
  if (debianOnly.length > 0) {
    out.push({
      kind: "apt", strong: true, what: `%addon org_imgcreate --${debianOnly[0]}`, why: "is a Debian (apt) setting", repo: false,
      ...(a.file !== undefined && a.line !== undefined ? { file: a.file, line: a.line } : {}),
    });
  }
  for (const r of m.repos) {
    const what = `repo "${r.name}"`;
    const url = r.baseurl ?? r.mirrorlist ?? r.metalink ?? "";
    const strong = (why: string) => out.push({ kind: "dnf", strong: true, what, why, repo: true, ...loc(r) });
    if (r.mirrorlist !== undefined) strong("has --mirrorlist (apt has no mirror lists)");
    else if (r.metalink !== undefined) strong("has --metalink (apt has no metalinks)");
    else if (DNF_VARS.test(url)) strong(`uses ${DNF_VARS.exec(url)![0]} in its URL (a dnf variable)`);
    else if (r.baseurl !== undefined && APT_URL.test(hostAndPath(r.baseurl))) {
      out.push({ kind: "apt", strong: false, what, why: "has a Debian/Ubuntu archive URL", repo: true, ...loc(r) });
    } else if (r.baseurl !== undefined && DNF_URL.test(hostAndPath(r.baseurl))) {
      out.push({ kind: "dnf", strong: false, what, why: "has a Fedora/RHEL-family URL", repo: true, ...loc(r) });
    } else if (DNF_NAMES.test(r.name)) {
      out.push({ kind: "dnf", strong: false, what, why: "has a Fedora/EPEL-style name", repo: true, ...loc(r) });
    }
  }
  if (m.url) out.push({ kind: "dnf", strong: true, what: "url", why: "names an installation tree (dnf's base repository)", repo: true, ...loc(m.url) });
  return out;
}

const at = (s: Partial<Located>) => (s.file !== undefined ? ` at ${s.file}:${s.line}` : "");

/** The backend for a kickstart, or the conflict to report (at the first sign of the other kind). */
export function chooseBackend(m: KickstartModel): { choice: BackendChoice; conflict?: BackendConflict } {
  const all = signs(m);
  const explicit = m.imgcreate.backend;
  let decider: Sign | undefined;
  let choice: BackendChoice;
  if (explicit !== undefined) {
    choice = {
      backend: explicit, reason: `%addon org_imgcreate --backend=${explicit}`,
      ...(m.imgcreate.file !== undefined && m.imgcreate.line !== undefined ? { file: m.imgcreate.file, line: m.imgcreate.line } : {}),
    };
  } else {
    decider = all.find((s) => s.strong) ?? all[0];
    if (!decider) return { choice: { backend: "apt", reason: "no repository needs dnf (apt: the kickstart's repos, else the host's apt sources)" } };
    choice = { backend: decider.kind, reason: `${decider.what} ${decider.why}`, ...(decider.file !== undefined ? { file: decider.file, line: decider.line! } : {}) };
  }
  const other = all.find((s) => s.kind !== choice.backend && (explicit === undefined || s.strong) && s.file !== undefined);
  if (!other) return { choice };
  const by = explicit !== undefined ? `%addon org_imgcreate --backend=${explicit}${at(choice)}` : `${decider!.what}${at(decider!)} ${decider!.why}`;
  const fix = other.repo
    ? `remove it or make every repository one kind${explicit === undefined && !other.strong ? `, or say which with %addon org_imgcreate --backend=${choice.backend}` : ""}`
    : `remove that setting${explicit === undefined ? ` or the ${choice.backend} repositories` : ""}`;
  return {
    choice,
    conflict: {
      file: other.file!, line: other.line!,
      message: `${other.what} ${other.why}, so it needs ${other.kind}, but this kickstart builds with ${choice.backend} (${by}); ${fix}`,
    },
  };
}
