// The package backend interface: what the engine asks of any package manager (mkosi's installer/
// shape). The engine never asks "is this apt?"; apt.ts is the one implementation today.
import type { ImgcreateAddon, RepoEntry } from "../../kickstart/model.js";
import type { Sandbox } from "../system/sandbox.js";
import type { Journal } from "../journal.js";

import { mkdir } from "node:fs/promises";
import { join } from "node:path";

// The request (%packages in the backend's terms) is built by the kickstart layer; see kickstart/request.ts.
export type { Spec, ModuleSpec, PackageRequest } from "../../kickstart/request.js";
import type { PackageRequest } from "../../kickstart/request.js";

/** Where packages come from: the kickstart's repos and %addon org_imgcreate, else the host's sources. */
export interface RepoConfig {
  repos: RepoEntry[];
  addon: ImgcreateAddon;
  releasever?: string;
}

/** A file the image needs before the bulk of the packages install (e.g. dracut's config before the kernel). */
export interface SetupFile {
  path: string;
  content: string;
  mode?: number;
}

export interface InstallProgress {
  fraction?: number;
  bytes?: number;
  message: string;
}

export interface InstallContext {
  /** The mounted, empty install root. */
  root: string;
  /** A private directory of the session for the backend's temporary files. */
  workDir: string;
  /** The shared package cache (safe for concurrent sessions). */
  cacheDir: string;
  journal: Journal;
  /** The root's sandbox: package scripts run only there (as its root, never the host's). */
  sandbox: Sandbox;
  signal?: AbortSignal;
  setupFiles: SetupFile[];
  progress(p: InstallProgress): void;
  log(priority: "debug" | "info" | "warning" | "error", line: string): void;
}

export interface PackageBackend {
  readonly name: string;
  /** Host tools it needs (checked before any resource is taken). */
  readonly tools: string[];
  /**
   * Cheap checks of the repositories, with no side effects (e.g. a local repository the daemon must
   * not read): InvalidArgs at the kickstart line. install() checks again before any tool runs.
   */
  check?(repos: RepoConfig): Promise<void>;
  /** Installs a complete root for req into ctx.root, package scripts sandboxed. */
  install(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void>;
  /**
   * install() in two steps, for the cache of installed roots: resolve the request against the
   * repositories and name the content the install would produce (same key, same root), then install
   * it or, when the engine found that content cached, dispose of what the first step holds.
   */
  prepare?(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<PreparedInstall>;
  /**
   * A root install() made from `before` is brought to `req`: what req adds is installed, what it drops
   * (and newly excludes) removed, package scripts sandboxed as for install.
   */
  update?(req: PackageRequest, before: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void>;
}

export interface PreparedInstall {
  /** A hash (hex) of everything that decides the installed root's content. */
  key: string;
  install(): Promise<void>;
  dispose(): Promise<void>;
}

/** The backend's own directory under the session's work dir, journaled (a crash leaves none); release() removes it. */
export async function backendDir(ctx: InstallContext, name: string): Promise<{ dir: string; release: () => Promise<void> }> {
  const dir = join(ctx.workDir, name);
  const { id } = await ctx.journal.take("file", { path: dir }, () => mkdir(dir, { recursive: true }));
  return { dir, release: () => ctx.journal.release(id) };
}
