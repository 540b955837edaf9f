// A kickstart's repositories in the package backend's terms, and the engine's cheap check of them for
// the service to run when a session is created (install checks again before apt runs; this one only
// answers early, at the kickstart line to fix).
import type { KickstartModel } from "../kickstart/model.js";
import type { PackageBackend, RepoConfig } from "./packages/backend.js";
import { AptBackend } from "./packages/apt.js";

export function repoConfig(ks: KickstartModel, releasever?: string): RepoConfig {
  return { repos: ks.repos, addon: ks.imgcreate, ...(releasever ? { releasever } : {}) };
}

export async function checkRepositories(ks: KickstartModel, backend: PackageBackend = new AptBackend()): Promise<void> {
  await backend.check?.(repoConfig(ks));
}
