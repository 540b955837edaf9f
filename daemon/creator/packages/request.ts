// Resolving a package request (built by kickstart/request.ts) against the names a repository offers:
// globs expanded, groups mapped to Debian tasks/metapackages, missing names found with the FILE:LINE
// they came from. No I/O here, so it is unit-tested directly.
import { ImgcreateError } from "../../errors.js";
import type { PackageRequest, Spec } from "./backend.js";

/** Moved to the kickstart layer (pure, shared with the client's `ks plan`). */
export { requestFromKickstart } from "../../kickstart/request.js";

export function where(s: Spec): string {
  return s.file !== undefined ? `${s.file}:${s.line}` : "(no file)";
}

export function isGlob(name: string): boolean {
  return /[*?[]/.test(name);
}

/** A shell glob (*, ?, [...]) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += "[" + glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Fedora comps group names with a Debian equivalent. Any other @name maps to the Debian task
 * `task-<name>` if the repository has it, else to a package (metapackage) called `<name>`.
 * @core and @base are the variant itself (minbase) and add nothing.
 */
export const GROUP_MAP: Record<string, string[]> = {
  core: [],
  base: [],
  "minimal-environment": [],
  standard: ["task-standard"],
  "base-x": ["xorg"],
  "gnome-desktop": ["task-gnome-desktop"],
  "workstation-product-environment": ["task-gnome-desktop"],
  "kde-desktop": ["task-kde-desktop"],
  "kde-desktop-environment": ["task-kde-desktop"],
  "xfce-desktop": ["task-xfce-desktop"],
  "xfce-desktop-environment": ["task-xfce-desktop"],
  "lxde-desktop": ["task-lxde-desktop"],
  "lxqt-desktop": ["task-lxqt-desktop"],
  "mate-desktop": ["task-mate-desktop"],
  "cinnamon-desktop": ["task-cinnamon-desktop"],
  "web-server": ["task-web-server"],
  "ssh-server": ["task-ssh-server"],
  "print-server": ["task-print-server"],
  fonts: ["fonts-dejavu", "fonts-liberation"],
  "hardware-support": ["firmware-linux-free"],
  anaconda: [],
};

export interface Resolved {
  /** Names to hand to the package manager. */
  install: string[];
  /** Entries nothing in the repository matched (names, globs or groups). */
  missing: Spec[];
}

/** Resolves a request against the set of names the repositories offer. */
export function resolve(req: PackageRequest, available: Set<string>): Resolved {
  const install = new Set<string>();
  const missing: Spec[] = [];
  const all = [...available];
  for (const s of req.packages) {
    if (isGlob(s.name)) {
      const re = globToRegExp(s.name);
      const hits = all.filter((n) => re.test(n));
      if (hits.length === 0) missing.push(s);
      for (const h of hits) install.add(h);
    } else if (available.has(s.name)) install.add(s.name);
    else missing.push(s);
  }
  for (const g of req.groups) {
    const mapped = GROUP_MAP[g.name];
    if (mapped) {
      const absent = mapped.filter((n) => !available.has(n));
      if (absent.length > 0) missing.push(g);
      else for (const n of mapped) install.add(n);
    } else if (available.has(`task-${g.name}`)) install.add(`task-${g.name}`);
    else if (available.has(g.name)) install.add(g.name);
    else missing.push(g);
  }
  // An explicit exclude wins over a glob or group that matched it.
  const excluded = req.excludes.map((e) => globToRegExp(e.name));
  return { install: [...install].filter((n) => !excluded.some((re) => re.test(n))), missing };
}

/** The error for missing entries (or nothing, if --ignoremissing: then they are warnings). */
export function missingError(missing: Spec[]): ImgcreateError {
  const lines = missing.map((m) => `${where(m)}: no package or group "${m.name}" in the configured repositories`);
  return new ImgcreateError(
    "InvalidArgs",
    `${lines.join("; ")} — fix the name, add the repository that has it, or use %packages --ignoremissing`,
    { missing: missing.map((m) => ({ name: m.name, file: m.file, line: m.line })) },
  );
}

/** dpkg path filters for --excludedocs and --inst-langs. */
export function dpkgFilters(req: PackageRequest): string[] {
  const f: string[] = [];
  if (req.excludeDocs) {
    f.push("path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright");
    f.push("path-exclude=/usr/share/man/*", "path-exclude=/usr/share/info/*", "path-exclude=/usr/share/doc-base/*");
  }
  if (req.instLangs !== undefined && req.instLangs.trim() !== "") {
    f.push("path-exclude=/usr/share/locale/*", "path-include=/usr/share/locale/locale.alias");
    f.push("path-exclude=/usr/share/man/??/*", "path-exclude=/usr/share/man/??_*/*");
    const langs = new Set<string>();
    for (const l of req.instLangs.split(":").map((x) => x.trim()).filter(Boolean)) {
      langs.add(l);
      langs.add(l.split(/[_.@]/)[0]!);
    }
    for (const l of langs) f.push(`path-include=/usr/share/locale/${l}/*`, `path-include=/usr/share/locale/${l}_*/*`);
  }
  return f;
}

/** Parses apt's "X : Depends: Y but it is not going to be installed" lines to name an excluded package someone needs. */
export function excludedButRequired(aptOutput: string, excludes: Spec[]): { pkg: string; needs: string; spec: Spec } | undefined {
  const re = /^\s*(\S+)\s*:\s*(?:Pre)?Depends:\s*(\S+)(?:\s*\([^)]*\))?\s+but it is not (?:going to be installed|installable)/gm;
  for (let m = re.exec(aptOutput); m; m = re.exec(aptOutput)) {
    const needs = m[2]!;
    const spec = excludes.find((e) => globToRegExp(e.name).test(needs));
    if (spec) return { pkg: m[1]!, needs, spec };
  }
  return undefined;
}
