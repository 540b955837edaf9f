// The one small interface every command talks to; D-Bus and the JSON-RPC socket both implement it,
// so commands never know which transport carries them.
import type { EventEmitter } from "node:events";

export type Stage = "mount" | "install" | "configure" | "unmount" | "package";
export const STAGES: Stage[] = ["mount", "install", "configure", "unmount", "package"];

/** Options sent with CreateSession (the D-Bus a{sv} / JSON-RPC object). */
export interface SessionOptions {
  name?: string;
  type?: "live" | "loop" | "fs";
  fslabel?: string;
  title?: string;
  product?: string;
  releasever?: string;
  compression?: string;
  flatSquashfs?: boolean;
  version?: string;
  [key: string]: string | boolean | number | undefined;
}

export interface SessionInfo {
  id: string;
  name: string;
  /** live, loop or fs. */
  type: string;
  owner: number;
  state: string;
  /** Operation of the running job, when one runs. */
  job?: { id: string; operation: string; status: string; progress?: number; bytes?: number };
  artifacts: string[];
  /** Bytes each checkpoint takes (CheckpointUsage). */
  checkpointUsage: Record<string, number>;
}

/** A dict of 64-bit counts as numbers (D-Bus gives bigints). */
export function numbers(d: Record<string, unknown> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(d ?? {}).map(([k, v]) => [k, Number(v)]));
}

export interface ProgressUpdate {
  /** 0..1 when known. */
  fraction?: number;
  bytes?: number;
  status: string;
}

export interface JobResult {
  success: boolean;
  /** Our error code (Cancelled, Failed, ...) when it failed. */
  error?: string;
  message: string;
}

/**
 * A running stage. Emits "progress" (ProgressUpdate), "log" (priority: number, line: string),
 * and resolves `done` once with the Completed result.
 */
export interface JobHandle extends EventEmitter {
  readonly id: string;
  readonly operation: string;
  readonly done: Promise<JobResult>;
  cancel(): Promise<void>;
}

/** The bytes of a remote shell: a pty master (D-Bus fd passing) or a stream over the socket. */
export interface ShellChannel {
  readonly input: NodeJS.WritableStream;
  readonly output: NodeJS.ReadableStream;
  resize(rows: number, cols: number): void;
  /** Exit status of the command (128+signal when killed). */
  readonly exit: Promise<number>;
  close(): void;
}

/** One entry of the cache of installed roots (Manager.ListCachedRoots). */
export interface CachedRoot {
  key: string;
  bytes: number;
  /** Milliseconds since the epoch. */
  createdAt: number;
  lastUsedAt: number;
  summary: string;
}

/** Manager.ListCachedRoots' (key, bytes, created µs, last used µs, summary) tuples, as either transport gives them. */
export function cachedRoots(rows: unknown[][]): CachedRoot[] {
  return rows.map(([key, bytes, created, used, summary]) => ({
    key: String(key),
    bytes: Number(bytes),
    createdAt: Number(created) / 1000,
    lastUsedAt: Number(used) / 1000,
    summary: String(summary),
  }));
}

export interface Connection {
  readonly transport: "dbus" | "socket";
  createSession(kickstart: string, includes: Record<string, string>, options: SessionOptions): Promise<string>;
  listSessions(): Promise<SessionInfo[]>;
  getSession(id: string): Promise<SessionInfo>;
  /** Starts a stage; `package` needs destdir. Events are subscribed before the call, so none are lost. */
  runStage(id: string, stage: Stage, destdir?: string): Promise<JobHandle>;
  /** Cancels whatever job the session runs (no-op when none). */
  cancel(id: string): Promise<void>;
  closeSession(id: string): Promise<void>;
  /** Replaces the session's kickstart (SetKickstart); where: the kickstart-path and cwd it was read with. */
  setKickstart(id: string, kickstart: string, includes: Record<string, string>, where: Record<string, string>): Promise<void>;
  openShell(id: string, argv: string[], size: { rows: number; cols: number }): Promise<ShellChannel>;
  /** Session.Clone: a new session of yours copying this one's image and state; returns its id. */
  cloneSession(id: string, name?: string): Promise<string>;
  checkpoint(id: string, name: string): Promise<void>;
  rollback(id: string, name: string): Promise<void>;
  listCheckpoints(id: string): Promise<string[]>;
  dropCheckpoint(id: string, name: string): Promise<void>;
  /** Prints the session's log so far through onLine; with follow, keeps going until the job ends or signal aborts. */
  logs(id: string, onLine: (line: string) => void, follow: boolean, signal?: AbortSignal): Promise<void>;
  version(): Promise<string>;
  /** The cache of installed roots (an administrator's call: org.imgcreate.manage-cache). */
  listCachedRoots(): Promise<CachedRoot[]>;
  /** Evicts cached roots until at most maxMiB remain; returns the bytes freed. */
  pruneCachedRoots(maxMiB: number): Promise<number>;
  disconnect(): void;
}
