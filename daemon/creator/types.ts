// The engine's public types: options, stages, states and the events it emits.
import type { PackageBackend } from "./packages/backend.js";
import type { SandboxLimits } from "./system/sandbox.js";

export interface CreatorOptions {
  /** The session's private directory: install root, image file and journal live here. */
  workDir: string;
  /** Shared package cache (default /var/cache/imgcreated). */
  cacheDir?: string;
  /** Filesystem label (default: the image name). */
  fslabel?: string;
  /** Distribution release (apt suite) when the kickstart's %addon org_imgcreate names none. */
  releasever?: string;
  /** Shrink the image to its minimum in package() (default true). */
  minimize?: boolean;
  /** Package manager (default: apt via mmdebstrap). */
  backend?: PackageBackend;
  /** The cache of installed roots (root-cache.ts): its directory and size bound; absent: every install installs. */
  rootCache?: { dir: string; maxBytes: number };
  /** Where machine-wide runtime state lives (the sandboxes' id range locks); default /run/imgcreated. */
  runDir?: string;
  /** Who the device-mapper tables are named after (the session id); default: derived from workDir. */
  owner?: string;
  /** Use device-mapper for the root and its checkpoints (default: when the kernel has it). */
  deviceMapper?: boolean;
  /** The sandbox's limits (tasks, memory, %post timeout); defaults in system/sandbox.ts DEFAULT_LIMITS. */
  limits?: Partial<SandboxLimits>;
}

export const DEFAULT_RUN_DIR = "/run/imgcreated";

export const DEFAULT_CACHE_DIR = "/var/cache/imgcreated";

export type Stage = "mount" | "install" | "configure" | "unmount" | "package" | "cleanup";

/** new → mounted → installed → configured → unmounted → packaged; any failure → failed; cleanup() → cleaned. */
export type CreatorState = "new" | "mounted" | "installed" | "configured" | "unmounted" | "packaged" | "failed" | "cleaned";

export interface ProgressEvent {
  stage: Stage;
  /** 0..1 within the stage, when known. */
  fraction?: number;
  /** Bytes done (downloaded, written), when meaningful. */
  bytes?: number;
  message: string;
}

export type LogPriority = "debug" | "info" | "warning" | "error";

export interface LogEvent {
  stage: Stage;
  priority: LogPriority;
  line: string;
}

export interface CreatorEvents {
  progress: [ProgressEvent];
  log: [LogEvent];
  /** Something that ended between calls (a clone's background copy), for the session's log. */
  notice: [string];
}
