// The %packages section: header options per version, and body lines (packages, globs, @groups,
// @^environment, -exclusions, @module:stream/profile) with pykickstart's set semantics.

import type { OptionSpec } from "./grammar/types.js";
import type { KickstartVersion } from "./versions.js";
import type { GroupEntry, ModuleEntry, PackageEntry, PackagesSection } from "./model.js";
import { parseOptions } from "./options.js";
import type { DiagnosticSink } from "./diagnostics.js";
import { deprecatedOptionText } from "./messages.js";

const t = (f: string[], d: string): OptionSpec => ({ f, d, k: "true", c: true });
const v = (f: string[], d: string, type?: "int"): OptionSpec => ({ f, d, k: "store", ...(type ? { t: type } : {}) });

/** Header options of %packages in each version (pykickstart's PackageSection facts). */
export function packagesHeaderSpecs(version: KickstartVersion): OptionSpec[] {
  const specs: OptionSpec[] = [
    t(["--excludedocs"], "excludedocs"),
    t(["--ignoremissing"], "ignoremissing"),
    t(["--default"], "default"),
    t(["--multilib"], "multilib"),
    t(["--nocore"], "nocore"),
    v(["--timeout"], "timeout", "int"),
    v(["--retries"], "retries", "int"),
  ];
  if (version === "RHEL7") {
    specs.push(v(["--instLangs"], "instLangs"), t(["--nobase"], "nobase"));
  } else if (version === "RHEL8") {
    specs.push(v(["--instLangs"], "instLangs"), t(["--excludeWeakdeps"], "excludeWeakdeps"));
  } else if (version === "RHEL9") {
    specs.push(v(["--instLangs"], "instLangs"), v(["--inst-langs"], "instLangs"));
    specs.push(t(["--excludeWeakdeps"], "excludeWeakdeps"), t(["--exclude-weakdeps"], "excludeWeakdeps"));
  } else if (version === "RHEL10") {
    specs.push(v(["--inst-langs"], "instLangs"), t(["--exclude-weakdeps"], "excludeWeakdeps"));
  } else {
    specs.push(v(["--inst-langs"], "instLangs"), t(["--exclude-weakdeps"], "excludeWeakdeps"), t(["--ignorebroken"], "ignorebroken"));
    specs.push({ ...v(["--instLangs"], "instLangs"), dep: true }, { ...t(["--excludeWeakdeps"], "excludeWeakdeps"), dep: true });
  }
  return specs;
}

export function handlePackagesHeader(
  pk: PackagesSection, words: string[], version: KickstartVersion, file: string, line: number, sink: DiagnosticSink,
): void {
  const r = parseOptions("%packages", words.slice(1), packagesHeaderSpecs(version), (o) => deprecatedOptionText(line, o));
  for (const e of r.errors) sink.error(file, line, e);
  for (const w of r.warnings) sink.warning(file, line, w);
  const ns = r.ns;
  if (ns.default && ns.nocore) sink.error(file, line, "--default and --nocore cannot be used together; keep one of them");
  if (ns.default && ns.nobase) sink.error(file, line, "--default and --nobase cannot be used together; keep one of them");
  if (version === "RHEL9") {
    for (const [old, alias] of [["--instLangs", "--inst-langs"], ["--excludeWeakdeps", "--exclude-weakdeps"]] as const) {
      if (words.some((w) => w === old || w.startsWith(old + "="))) {
        sink.warning(file, line, `The ${old} option on line ${line} will be deprecated in future releases. Please modify your kickstart file to replace this option with its preferred alias ${alias}.`);
      }
    }
  }
  Object.assign(pk, {
    present: true, file, line,
    excludedocs: ns.excludedocs === true, ignoremissing: ns.ignoremissing === true, default: ns.default === true,
    multilib: ns.multilib === true, nocore: ns.nocore === true, nobase: ns.nobase === true,
    excludeWeakdeps: ns.excludeWeakdeps === true, ignorebroken: ns.ignorebroken === true,
  });
  if (ns.instLangs !== undefined) pk.instLangs = String(ns.instLangs);
  if (ns.timeout !== undefined) pk.timeout = ns.timeout as number;
  if (ns.retries !== undefined) pk.retries = ns.retries as number;
}

/**
 * The %packages body lists while parsing, in maps so that a huge section stays linear (the daemon
 * parses text from any caller). finish() writes them into the model's section.
 */
export class PackageLists {
  private readonly packages = new Map<string, PackageEntry>();
  private readonly excluded = new Map<string, PackageEntry>();
  private readonly groups = new Map<string, GroupEntry>();
  private readonly excludedGroups: GroupEntry[] = [];
  private readonly modules = new Map<string, ModuleEntry>();

  constructor(private readonly pk: PackagesSection) {}

  /** One body line, applied as pykickstart does (later lines override earlier ones). */
  line(text: string, file: string, line: number, sink: DiagnosticSink): void {
    const s = text.split("#")[0]!.trim();
    if (s === "") return;
    const loc = { file, line };
    if (s.startsWith("@^")) {
      const name = s.slice(2).trim();
      if (name === "") return sink.error(file, line, "'@^' needs an environment name, e.g. @^workstation-product-environment");
      this.pk.environment = { name, ...loc };
    } else if (s.startsWith("@")) {
      this.group(s.slice(1), file, line, sink);
    } else if (s.startsWith("-")) {
      const rest = s.slice(1).trim();
      if (rest === "") return sink.error(file, line, "'-' needs a package or @group name to exclude");
      if (rest.startsWith("@^") && this.pk.environment?.name === rest.slice(2)) {
        delete this.pk.environment;
      } else if (rest.startsWith("@")) {
        const name = rest.slice(1).trim();
        this.groups.delete(name);
        this.modules.delete(name);
        this.excludedGroups.push({ name, nodefaults: false, optional: false, ...loc });
      } else {
        this.packages.delete(rest);
        if (!this.excluded.has(rest)) this.excluded.set(rest, { name: rest, ...loc });
      }
    } else {
      this.excluded.delete(s);
      if (!this.packages.has(s)) this.packages.set(s, { name: s, ...loc });
    }
  }

  private group(rest: string, file: string, line: number, sink: DiagnosticSink): void {
    let nodefaults = false;
    let optional = false;
    const words: string[] = [];
    for (const w of rest.split(/\s+/).filter((x) => x !== "")) {
      if (w.length > 2 && "--nodefaults".startsWith(w)) nodefaults = true;
      else if (w.length > 2 && "--optional".startsWith(w)) optional = true;
      else words.push(w);
    }
    if (nodefaults && optional) return sink.error(file, line, "Group cannot specify both --nodefaults and --optional");
    const name = words.join(" ");
    if (name === "") return sink.error(file, line, "'@' needs a group name, e.g. @core");
    const m = /^([^:\s]+):([^/\s]*)(?:\/(\S*))?$/.exec(name);
    if (m) {
      if (this.modules.has(name)) return;
      this.modules.set(name, {
        name: m[1]!, ...(m[2] ? { stream: m[2] } : {}), ...(m[3] ? { profile: m[3] } : {}),
        enabled: true, source: "packages", file, line,
      });
      return;
    }
    if (!this.groups.has(name)) this.groups.set(name, { name, nodefaults, optional, file, line });
  }

  finish(): void {
    this.pk.packages = [...this.packages.values()];
    this.pk.excludedPackages = [...this.excluded.values()];
    this.pk.groups = [...this.groups.values()];
    this.pk.excludedGroups = [...this.excludedGroups];
    this.pk.modules = [...this.modules.values(), ...this.pk.modules.filter((x) => x.source !== "packages")];
  }
}

/** "name:stream/profile" as written in %packages. */
export function moduleText(m: { name: string; stream?: string; profile?: string }): string {
  return `${m.name}:${m.stream ?? ""}${m.profile !== undefined ? "/" + m.profile : ""}`;
}
