// The seam to the engine (daemon/creator) and the kickstart parser (daemon/kickstart), as docs/CONTRACTS.md
// describes them. Loaded at run time so the service states plainly which engine pieces exist on this build
// instead of failing to start while they are being written.
import type { ChildProcess, StdioOptions } from "node:child_process";
import type { EventEmitter } from "node:events";
import { ImgcreateError } from "../errors.js";

export type CreatorType = "live" | "loop" | "fs";

export interface EngineProgress {
  stage: string;
  fraction?: number;
  bytes?: number;
  message: string;
}
export interface EngineLog {
  stage: string;
  /** The engine names it ("debug", "info", "warning", "error"); a syslog number is accepted too. */
  priority: string | number;
  line: string;
}

/** What the session drives: one image creator (CONTRACTS.md "creator/"); it emits "progress" and "log" during calls, "notice" (a line) for what ends between them. */
export interface Creator extends EventEmitter {
  mount(signal?: AbortSignal): Promise<unknown>;
  install(signal?: AbortSignal): Promise<unknown>;
  configure(signal?: AbortSignal): Promise<unknown>;
  unmount(signal?: AbortSignal): Promise<unknown>;
  package(outDir: string, signal?: AbortSignal): Promise<string[]>;
  cleanup(): Promise<unknown>;
  spawnInRoot?(argv: string[], opts: { stdio: StdioOptions; env?: Record<string, string> }): ChildProcess;
  /** Replaces the kickstart while the image is not mounted (a re-opened session). */
  setKickstart?(model: unknown): void;
  /** The creator's own state (mounted, installed, ..., failed). */
  readonly state?: string;
  /** Named copies of the image (each returns how it copied: "reflink" or "sparse copy"). */
  checkpoint?(name: string, signal?: AbortSignal): Promise<string>;
  rollback?(name: string, signal?: AbortSignal): Promise<string>;
  listCheckpoints?(): string[];
  /** Bytes each checkpoint takes (COW in use for a device-mapper snapshot). */
  checkpointUsage?(): Promise<Record<string, number>>;
  dropCheckpoint?(name: string): Promise<void>;
  /** Resolves once nothing works on the image in the background (a clone's copy); undefined when nothing does. */
  background?(): Promise<void> | undefined;
  /** Puts an unmounted or packaged image to rest (only files held, kept across restarts); the creator is done with after. */
  rest?(): Promise<void>;
  /** Takes up, in a new creator, the image one over the same work dir put to rest. */
  resume?(): Promise<void>;
  /** Makes this new creator a copy of src (same type) at src's state. */
  cloneFrom?(src: Creator, signal?: AbortSignal): Promise<string>;
}

export interface CreatorOptions {
  workDir: string;
  cacheDir: string;
  fslabel?: string;
  releasever?: string;
  minimize?: boolean;
  /** squashfs type (live); the level, when the session's TYPE[:LEVEL] named one, in compressionLevel. */
  compression?: string;
  compressionLevel?: number;
  flatSquashfs?: boolean;
  title?: string;
  product?: string;
  bootloader?: "grub" | "isolinux";
  limits?: { tasks: number; memoryBytes: number; scriptTimeoutMs: number };
  /** Who device-mapper tables are named after: the session id. */
  owner?: string;
  /** The cache of installed roots: where and how big. */
  rootCache?: { dir: string; maxBytes: number };
}

type CreatorCtor = new (ks: unknown, name: string, opts: CreatorOptions) => Creator;

export interface Diagnostic {
  file: string;
  line: number;
  severity: "error" | "warning";
  message: string;
}

export interface Engine {
  /** Session types this build of the engine can make. */
  types: CreatorType[];
  /** Parses the kickstart text as if read at `where.path` (includes keyed by the absolute paths the parser asks for). */
  parse(kickstart: string, includes: Record<string, string>, where?: KickstartWhere): { model: unknown; diagnostics: Diagnostic[] };
  newCreator(type: CreatorType, model: unknown, name: string, opts: CreatorOptions): Creator;
  /** The engine's cheap check of the model's repositories (InvalidArgs at FILE:LINE); a no-op when the engine has none. */
  checkRepositories(model: unknown): Promise<void>;
  /** Releases what a dead daemon left in a session's work dir (its journal). */
  recover(workDir: string): Promise<void>;
  /** Before recover() of each: the devices of every session's journal (a clone's tables hold its source's loop device). */
  releaseDevices(workDirs: string[]): Promise<void>;
  /** Whether the work dir holds a resting image a new creator can resume. */
  canResume(workDir: string): Promise<boolean>;
}

/** Where the client read the kickstart: relative %include names resolve against these, as on the client. */
export interface KickstartWhere {
  path: string;
  cwd: string;
}
export const DEFAULT_WHERE: KickstartWhere = { path: "/kickstart.ks", cwd: "/" };

async function tryImport(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw err;
  }
}

async function firstExport(specs: string[], name: string): Promise<unknown> {
  for (const s of specs) {
    const m = await tryImport(s);
    if (m && m[name] !== undefined) return m[name];
  }
  return undefined;
}

/** Finds the engine's pieces. Missing ones make the calls that need them fail with a clear message. */
export async function loadEngine(): Promise<Engine> {
  const creatorMods = ["../creator/index.js", "../creator/loop.js", "../creator/live.js", "../creator/fs.js", "../creator/recover.js", "../creator/journal.js"];
  const ksMods = ["../kickstart/index.js", "../kickstart/parse.js", "../kickstart/parser.js"];
  const ctors: Partial<Record<CreatorType, CreatorCtor>> = {};
  const names: Record<CreatorType, string[]> = { loop: ["LoopImageCreator"], live: ["LiveImageCreator"], fs: ["FsImageCreator", "DirectoryImageCreator"] };
  for (const [type, candidates] of Object.entries(names) as [CreatorType, string[]][]) {
    for (const n of candidates) {
      const c = await firstExport(creatorMods, n);
      if (typeof c === "function") {
        ctors[type] = c as CreatorCtor;
        break;
      }
    }
  }
  const parseKickstart = (await firstExport(ksMods, "parseKickstart")) as
    | ((path: string, o: { readFile(p: string): string | undefined; cwd?: string }) => { model: unknown; diagnostics: Diagnostic[] })
    | undefined;
  const recover = (await firstExport(creatorMods, "recover")) as ((workDir: string) => Promise<void>) | undefined;
  const releaseDevices = (await firstExport(creatorMods, "releaseDevices")) as ((workDirs: string[]) => Promise<void>) | undefined;
  const canResume = (await firstExport(creatorMods, "canResume")) as ((workDir: string) => Promise<boolean>) | undefined;
  const checkRepositories = (await firstExport(creatorMods, "checkRepositories")) as ((model: unknown) => Promise<void>) | undefined;

  return {
    types: Object.keys(ctors) as CreatorType[],
    parse(kickstart, includes, where = DEFAULT_WHERE) {
      if (!parseKickstart) throw new ImgcreateError("Failed", "this imgcreated has no kickstart parser (daemon/kickstart is not built)");
      const files: Record<string, string> = { ...includes, [where.path]: kickstart };
      return parseKickstart(where.path, { readFile: (p) => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined), cwd: where.cwd });
    },
    newCreator(type, model, name, opts) {
      const C = ctors[type];
      if (!C) {
        const have = Object.keys(ctors);
        throw new ImgcreateError(
          "InvalidArgs",
          `session type "${type}" is not available in this imgcreated` + (have.length ? `; use one of: ${have.join(", ")}` : " (no image creator is built)"),
        );
      }
      return new C(model, name, opts);
    },
    async recover(workDir) {
      if (recover) await recover(workDir);
    },
    async releaseDevices(workDirs) {
      if (releaseDevices) await releaseDevices(workDirs);
    },
    async canResume(workDir) {
      return canResume ? canResume(workDir) : false;
    },
    async checkRepositories(model) {
      if (checkRepositories) await checkRepositories(model);
    },
  };
}
