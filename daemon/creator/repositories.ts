// A kickstart's repositories in the package backend's terms, the backend that builds it, and the
// engine's cheap check of them for the service to run when a session is created (install checks
// again before any tool runs; this one only answers early, at the kickstart line to fix).
import type { KickstartModel } from "../kickstart/model.js";
import { kickstartRepos } from "../kickstart/plan.js";
import type { PackageBackend, RepoConfig } from "./packages/backend.js";
import { AptBackend } from "./packages/apt.js";
import { DnfBackend } from "./packages/dnf.js";
import { selectBackend } from "./packages/select.js";

export function repoConfig(ks: KickstartModel, releasever?: string): RepoConfig {
  return { repos: kickstartRepos(ks), addon: ks.imgcreate, ...(releasever ? { releasever } : {}) };
}

/** apt or dnf, as the kickstart says (backend-choice.ts); a mixed kickstart is InvalidArgs at its line. */
export function backendFor(ks: KickstartModel): PackageBackend {
  return selectBackend(ks) === "dnf" ? new DnfBackend() : new AptBackend();
}

export async function checkRepositories(ks: KickstartModel, backend: PackageBackend = backendFor(ks)): Promise<void> {
  await backend.check?.(repoConfig(ks));
}
