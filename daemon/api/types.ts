// The data that crosses the API, as plain types: what the client codes against.
// D-Bus signatures are given next to each field; JSON-RPC carries the same names as JSON.

/** Session states (created → mounted → installed → configured → unmounted → packaged, or one of the ends):
 * the state machine in sessions/ owns the list; the API only carries it. */
import type { SessionState } from "../sessions/session.js";
export type { SessionState };

export type SessionType = "live" | "loop" | "fs";

/** Stages a Job runs; "create" is all of them in a row. */
export type Operation = "mount" | "install" | "configure" | "unmount" | "package" | "create";

/** Job status: queued (waiting for a --max-jobs slot), running, then one end. */
export type JobStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

/** Options of Manager.CreateSession (a{sv}). Every key is optional; unknown keys are InvalidArgs. */
export interface CreateSessionOptions {
  name?: string; // s: image name (default from kickstart or "image")
  type?: SessionType; // s: default "loop"
  fslabel?: string; // s
  title?: string; // s
  product?: string; // s
  releasever?: string; // s
  compression?: string; // s: squashfs compression of a live image, TYPE[:LEVEL] (daemon/compression.ts): "zstd", "zstd:3", "xz", "gzip:9", ...
  "flat-squashfs"?: boolean; // b
  minimize?: boolean; // b
  bootloader?: "grub" | "isolinux"; // s
  interactive?: boolean; // b: allow polkit to ask for a password (also the D-Bus message flag)
  /** s: absolute path the client read the kickstart from (default /kickstart.ks); includes are keyed by the absolute paths the parser asks for (collectIncludes). */
  "kickstart-path"?: string;
  /** s: the client's working directory, against which relative %include names resolve first (default /). */
  cwd?: string;
}

/** Options of the stage calls (a{sv}). */
export interface StageOptions {
  interactive?: boolean; // b
}

/** Options of Session.OpenShell (a{sv}). */
export interface ShellOptions {
  interactive?: boolean; // b
  term?: string; // s: TERM inside (default "xterm-256color")
  rows?: number; // u
  cols?: number; // u
}

/** Manager properties. */
export interface ManagerProperties {
  Version: string; // s
  Features: string[]; // as: e.g. "device-mapper", "kvm", "apt", "dnf", "live", "loop", "fs"
}

/** Session properties. Everyone can read D-Bus properties: nothing secret here. */
export interface SessionProperties {
  Id: string; // s
  Name: string; // s
  Type: SessionType; // s
  Owner: number; // u: uid of the creator
  State: SessionState; // s
  CurrentJob: string; // o: "/" when none
  Artifacts: string[]; // as: absolute paths of artifacts written to the caller's destdir
  CheckpointUsage: Record<string, number>; // a{st}: checkpoint name → bytes it takes (COW in use for dm snapshots)
}

/** Job properties (PropertiesChanged at most 10 per second). */
export interface JobProperties {
  Operation: Operation; // s
  Session: string; // o
  Progress: number; // d: 0..1
  ProgressValid: boolean; // b
  Status: JobStatus; // s
  Bytes: number; // t: bytes written/downloaded so far, when known
  StartTime: number; // t: microseconds since the epoch (0 while queued)
  Message: string; // s: the last progress message
}

/** Job.LogMessage: priority is syslog's (0 emerg .. 7 debug). */
export interface LogMessageEvent {
  job: string; // o
  priority: number; // u
  line: string; // s
}

/** Job.Progress (JSON-RPC notification; on D-Bus it is PropertiesChanged of the Job properties). */
export interface ProgressEvent {
  job: string;
  progress: number;
  progressValid: boolean;
  bytes: number;
  status: JobStatus;
  message: string;
}

/** Job.Completed: errorName is "" on success, else org.imgcreate.ImageCreator1.Error.<Code>. */
export interface CompletedEvent {
  job: string; // o
  success: boolean; // b
  errorName: string; // s
  message: string; // s
}

/** JSON-RPC notifications sent to a connection that subscribed to a job (stage calls subscribe the caller). */
export interface JsonRpcNotifications {
  "Job.Progress": ProgressEvent;
  "Job.LogMessage": LogMessageEvent;
  "Job.Completed": CompletedEvent;
  /** A pty's output over JSON-RPC (OpenShell): data is base64. */
  "Shell.Output": { shell: string; data: string };
  "Shell.Exited": { shell: string; status: number };
}
