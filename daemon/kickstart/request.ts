// %packages as a package request: what any package backend (apt, dnf) is asked to install, with the
// FILE:LINE of every entry. Pure (it reads only the model), so the client's `ks plan` and the engine
// share it; the engine re-exports it from creator/packages/.
import type { PackagesSection } from "./model.js";

export interface Spec {
  name: string;
  file?: string;
  line?: number;
  /** Groups only: `@group --nodefaults` (mandatory packages only). */
  nodefaults?: boolean;
  /** Groups only: `@group --optional` (optional packages too). */
  optional?: boolean;
}

/** `@name:stream/profile` in %packages, or the `module` command. */
export interface ModuleSpec {
  name: string;
  stream?: string;
  profile?: string;
  /** false: `module --disable`. */
  enabled: boolean;
  /** `@name:stream[/profile]` in %packages installs the profile (the stream's default without one); the `module` command only enables. */
  install?: boolean;
  file?: string;
  line?: number;
}

/** %packages, in the backend's terms. */
export interface PackageRequest {
  packages: Spec[];
  excludes: Spec[];
  groups: Spec[];
  /** `@^environment` (dnf: from the repositories' comps). */
  environment?: Spec;
  /** `-@group`. */
  excludedGroups?: Spec[];
  /** Modules to enable or disable (dnf only). */
  modules?: ModuleSpec[];
  /** Install the minimal variant only (%packages --nocore). */
  nocore: boolean;
  excludeDocs: boolean;
  /** "en_US:de" — only these languages' translations (--inst-langs). */
  instLangs?: string;
  ignoreMissing: boolean;
  /** Install weak dependencies (Recommends); false with --exclude-weakdeps. */
  weakDeps: boolean;
}

export function requestFromKickstart(p: PackagesSection): PackageRequest {
  const spec = (e: { name: string; file: string; line: number }): Spec => ({ name: e.name, file: e.file, line: e.line });
  const group = (g: { name: string; file: string; line: number; nodefaults: boolean; optional: boolean }): Spec => ({
    ...spec(g), ...(g.nodefaults ? { nodefaults: true } : {}), ...(g.optional ? { optional: true } : {}),
  });
  return {
    packages: p.packages.map(spec),
    excludes: p.excludedPackages.map(spec),
    groups: p.groups.map(group),
    ...(p.environment ? { environment: spec(p.environment) } : {}),
    excludedGroups: p.excludedGroups.map(spec),
    modules: p.modules.map((m) => ({
      name: m.name, ...(m.stream !== undefined ? { stream: m.stream } : {}), ...(m.profile !== undefined ? { profile: m.profile } : {}),
      enabled: m.enabled, ...(m.source === "packages" ? { install: true } : {}), file: m.file, line: m.line,
    })),
    nocore: p.nocore,
    excludeDocs: p.excludedocs,
    ...(p.instLangs !== undefined ? { instLangs: p.instLangs } : {}),
    ignoreMissing: p.ignoremissing,
    weakDeps: !p.excludeWeakdeps,
  };
}
