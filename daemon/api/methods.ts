// THE API, declared once. Each entry: interface, name, one-line doc, parameters (with validation), result,
// polkit action, the session states it is allowed in. The D-Bus and JSON-RPC adapters, the introspection XML
// and docs/dbus-api.md follow from this table; the behaviour behind each entry is in service.ts.
import { compressionChoices, formatCompression, parseCompression } from "../compression.js";
import { ACTIONS, type InterfaceName, type PolkitAction } from "./names.js";
import { T, KICKSTART_MAX, type ParamDef, type OptionType } from "./schema.js";
import type { Operation, SessionState } from "./types.js";

export interface ResultDef {
  name: string;
  sig: string;
  doc: string;
}

export interface MethodDef {
  iface: InterfaceName;
  name: string;
  doc: string;
  /** Parameters in D-Bus order. Session/Job methods also take `session` / `job` by name on JSON-RPC (the object path on D-Bus). */
  params: readonly ParamDef[];
  result: ResultDef | null;
  /** The polkit action checked for every call (plus manage-others when the caller is not the session's owner). */
  action: PolkitAction;
  /** Session states the call is allowed in (Session methods); others give InvalidState. */
  states?: readonly SessionState[];
  /** The stage(s) the call runs as a Job. */
  operation?: Operation;
  /** Only on JSON-RPC (D-Bus has the standard Properties interface / fd passing for these). */
  jsonrpcOnly?: boolean;
}

const interactive: OptionType = { t: "boolean", doc: "let polkit ask the user to authenticate (also the D-Bus ALLOW_INTERACTIVE_AUTHORIZATION flag)" };
const stageOptions = T.options({ interactive });
const destdir: ParamDef = { name: "destdir", type: T.string(4096, { absolute: true }), doc: "directory the caller can write; artifacts are written there as the caller" };

/** States from which a whole new build may start (a finished, failed, cancelled or interrupted session starts over). */
const START_STATES: readonly SessionState[] = ["created", "failed", "cancelled", "interrupted", "packaged"];

/** States in which a session has an image to clone, checkpoint or roll back. */
const IMAGE_STATES: readonly SessionState[] = ["mounted", "installed", "configured", "unmounted", "packaged"];
const checkpointName: ParamDef = { name: "name", type: T.string(64, { nonEmpty: true }), doc: "checkpoint name: letters, digits, \".\", \"_\" or \"-\"" };

const stage = (name: string, operation: Operation, states: readonly SessionState[], doc: string): MethodDef => ({
  iface: "Session",
  name,
  doc,
  params: [{ name: "options", type: stageOptions, doc: "interactive (b)" }],
  result: { name: "job", sig: "o", doc: "the Job running the stage" },
  action: ACTIONS.build,
  states,
  operation,
});

export const METHODS: readonly MethodDef[] = [
  {
    iface: "Manager",
    name: "CreateSession",
    doc: "Parse the kickstart (its %include files given as text) and create a build session owned by the caller.",
    params: [
      { name: "kickstart", type: T.string(KICKSTART_MAX, { nonEmpty: true }), doc: "kickstart text" },
      { name: "includes", type: T.strmap(256, KICKSTART_MAX), doc: "text of every %include'd file, keyed by the absolute path the parser asks for (collectIncludes on the client)" },
      {
        name: "options",
        type: T.options({
          name: { t: "string", maxLen: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._+-]*$/, doc: "image name" },
          type: { t: "string", enum: ["live", "loop", "fs"], doc: "image type (default loop)" },
          fslabel: { t: "string", maxLen: 32, pattern: /^[A-Za-z0-9._-]+$/, doc: "filesystem label" },
          title: { t: "string", maxLen: 128, doc: "boot menu title" },
          product: { t: "string", maxLen: 128, doc: "product name" },
          releasever: { t: "string", maxLen: 32, pattern: /^[A-Za-z0-9._-]+$/, doc: "release version" },
          compression: {
            t: "string",
            maxLen: 16,
            canonical: (s) => formatCompression(parseCompression(s)),
            doc: `squashfs compression of a live image, TYPE[:LEVEL]: ${compressionChoices()} (default zstd at mksquashfs' level)`,
          },
          "flat-squashfs": { t: "boolean", doc: "squash the tree itself, not an ext4 image (live)" },
          minimize: { t: "boolean", doc: "shrink the image to its contents" },
          bootloader: { t: "string", enum: ["grub", "isolinux"], doc: "BIOS bootloader (live)" },
          "kickstart-path": { t: "string", maxLen: 4096, pattern: /^\//, doc: "absolute path the client read the kickstart from (includes resolve as there)" },
          cwd: { t: "string", maxLen: 4096, pattern: /^\//, doc: "the client's working directory (relative %include names resolve against it first)" },
          interactive,
        }),
        doc: "name, type, fslabel, title, product, releasever, compression, flat-squashfs, minimize, bootloader, kickstart-path, cwd, interactive",
      },
    ],
    result: { name: "session", sig: "o", doc: "the new Session" },
    action: ACTIONS.build,
  },
  {
    iface: "Manager",
    name: "ListSessions",
    doc: "The caller's sessions (every session for a caller holding manage-others).",
    params: [],
    result: { name: "sessions", sig: "ao", doc: "Session objects" },
    action: ACTIONS.build,
  },
  {
    iface: "Manager",
    name: "ListCachedRoots",
    doc: "The cache of installed roots, most recently used first: key, bytes on disk, created and last used (µs since the epoch), what it holds.",
    params: [],
    result: { name: "roots", sig: "a(sttts)", doc: "(key, bytes, created, last-used, summary) per entry" },
    action: ACTIONS.manageCache,
  },
  {
    iface: "Manager",
    name: "PruneCachedRoots",
    doc: "Evict cached installed roots, least recently used first, until the cache holds at most max-size MiB (default 0: empty it).",
    params: [{ name: "options", type: T.options({ "max-size": { t: "uint", max: 2 ** 31, doc: "MiB the cache may keep" }, interactive }), doc: "max-size (u), interactive (b)" }],
    result: { name: "freed", sig: "t", doc: "bytes freed" },
    action: ACTIONS.manageCache,
  },
  stage(
    "Mount",
    "mount",
    ["created", "failed", "cancelled", "interrupted", "unmounted", "packaged"],
    "Create the image file, attach it and mount the install root (a failed, cancelled or interrupted session starts over); an unmounted or packaged session's own image is mounted again as it was left.",
  ),
  {
    iface: "Session",
    name: "SetKickstart",
    doc: "Replace the session's kickstart (checked as for CreateSession). A re-opened session's next Install adds and removes packages by the difference; Configure applies the new settings and %post.",
    params: [
      { name: "kickstart", type: T.string(KICKSTART_MAX, { nonEmpty: true }), doc: "kickstart text" },
      { name: "includes", type: T.strmap(256, KICKSTART_MAX), doc: "text of every %include'd file, keyed by the absolute path the parser asks for" },
      {
        name: "options",
        type: T.options({
          "kickstart-path": { t: "string", maxLen: 4096, pattern: /^\//, doc: "absolute path the client read the kickstart from" },
          cwd: { t: "string", maxLen: 4096, pattern: /^\//, doc: "the client's working directory" },
          interactive,
        }),
        doc: "kickstart-path, cwd, interactive",
      },
    ],
    result: null,
    action: ACTIONS.build,
    states: ["created", "unmounted", "packaged", "failed", "cancelled", "interrupted"],
  },
  stage("Install", "install", ["mounted"], "Install the kickstart's packages into the install root."),
  stage("Configure", "configure", ["installed"], "Apply the kickstart's configuration and run its %post scripts."),
  stage("Unmount", "unmount", ["configured"], "Unmount the install root and detach the image."),
  {
    iface: "Session",
    name: "Package",
    doc: "Package the image (ISO, disk image, tree) and write the artifacts into destdir as the caller.",
    params: [destdir, { name: "options", type: stageOptions, doc: "interactive (b)" }],
    result: { name: "job", sig: "o", doc: "the Job packaging" },
    action: ACTIONS.build,
    states: ["unmounted"],
    operation: "package",
  },
  {
    iface: "Session",
    name: "Create",
    doc: "Run every stage (mount, install, configure, unmount, package) and write the artifacts into destdir as the caller.",
    params: [destdir, { name: "options", type: stageOptions, doc: "interactive (b)" }],
    result: { name: "job", sig: "o", doc: "the Job running the stages" },
    action: ACTIONS.build,
    states: START_STATES,
    operation: "create",
  },
  {
    iface: "Session",
    name: "Clone",
    doc: "A new session owned by the caller, at this session's state and with its kickstart, whose image is a copy of this one's. Where the kernel has device-mapper, the clone is a snapshot of this session's image at once (constant time), copied into the clone's own image by the kernel in the background; until then this session waits before it writes its image (Mount, Unmount, Rollback; Close too while mounted), and an unmounted clone's own calls wait for its copy. Otherwise a reflink where the state directory's filesystem has them, else a sparse copy. The session log names which. This session stays as it is.",
    params: [
      {
        name: "options",
        type: T.options({ name: { t: "string", maxLen: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._+-]*$/, doc: "image name (default: this session's)" }, interactive }),
        doc: "name (s), interactive (b)",
      },
    ],
    result: { name: "session", sig: "o", doc: "the new Session" },
    action: ACTIONS.build,
    states: IMAGE_STATES,
  },
  {
    iface: "Session",
    name: "Checkpoint",
    doc: "Keep a copy of the image as it is now under a name (frozen for the copy while mounted), to Rollback to later.",
    params: [checkpointName, { name: "options", type: stageOptions, doc: "interactive (b)" }],
    result: null,
    action: ACTIONS.build,
    states: IMAGE_STATES,
  },
  {
    iface: "Session",
    name: "Rollback",
    doc: "Put the image back as it was at the checkpoint, with the state it had then (open shells are closed; the checkpoint stays). The image must be mounted, or not, as it was then.",
    params: [checkpointName, { name: "options", type: stageOptions, doc: "interactive (b)" }],
    result: null,
    action: ACTIONS.build,
    states: IMAGE_STATES,
  },
  {
    iface: "Session",
    name: "ListCheckpoints",
    doc: "The session's checkpoints, oldest first.",
    params: [],
    result: { name: "names", sig: "as", doc: "checkpoint names" },
    action: ACTIONS.build,
  },
  {
    iface: "Session",
    name: "DropCheckpoint",
    doc: "Delete a checkpoint and the space it takes.",
    params: [checkpointName],
    result: null,
    action: ACTIONS.build,
  },
  {
    iface: "Session",
    name: "OpenShell",
    doc: "Start a command (default /bin/sh) inside the install root on a new pty; return the pty master.",
    params: [
      { name: "argv", type: T.strlist(256), doc: "command and arguments; empty for a login shell" },
      {
        name: "options",
        type: T.options({
          interactive,
          term: { t: "string", maxLen: 64, pattern: /^[A-Za-z0-9._+-]+$/, doc: "TERM inside (default xterm-256color)" },
          rows: { t: "uint", max: 1000, doc: "pty rows" },
          cols: { t: "uint", max: 1000, doc: "pty columns" },
        }),
        doc: "interactive (b), term (s), rows (u), cols (u)",
      },
    ],
    result: { name: "pty", sig: "h", doc: "the pty master (D-Bus); on JSON-RPC a shell id whose I/O is streamed" },
    action: ACTIONS.shell,
    states: ["installed", "configured"],
  },
  {
    iface: "Session",
    name: "Close",
    doc: "Cancel any job, release every resource and delete the session (artifacts already written stay).",
    params: [],
    result: null,
    action: ACTIONS.build,
  },
  {
    iface: "Job",
    name: "Cancel",
    doc: "Stop the job; the stage releases what it took and the session becomes cancelled.",
    params: [],
    result: null,
    action: ACTIONS.build,
  },
  // JSON-RPC only: what D-Bus gets from org.freedesktop.DBus.Properties and signal matching.
  {
    iface: "Manager",
    name: "GetProperties",
    doc: "Version and Features.",
    params: [],
    result: { name: "properties", sig: "a{sv}", doc: "ManagerProperties" },
    action: ACTIONS.build,
    jsonrpcOnly: true,
  },
  {
    iface: "Session",
    name: "GetProperties",
    doc: "The session's properties.",
    params: [],
    result: { name: "properties", sig: "a{sv}", doc: "SessionProperties" },
    action: ACTIONS.build,
    jsonrpcOnly: true,
  },
  {
    iface: "Session",
    name: "GetLog",
    doc: "The session's log so far (what its stages wrote, from the daemon's log file of the session), oldest first.",
    params: [
      {
        name: "options",
        type: T.options({ lines: { t: "uint", max: 100_000, doc: "only the last N lines (default and 0: up to the last 1000)" } }),
        doc: "lines (u)",
      },
    ],
    result: { name: "lines", sig: "as", doc: "log lines" },
    action: ACTIONS.build,
  },
  {
    iface: "Job",
    name: "GetProperties",
    doc: "The job's properties.",
    params: [],
    result: { name: "properties", sig: "a{sv}", doc: "JobProperties" },
    action: ACTIONS.build,
    jsonrpcOnly: true,
  },
  {
    iface: "Job",
    name: "Subscribe",
    doc: "Send Job.Progress, Job.LogMessage and Job.Completed notifications of this job to this connection (stage calls subscribe their caller).",
    params: [],
    result: { name: "properties", sig: "a{sv}", doc: "JobProperties at the time of subscribing" },
    action: ACTIONS.build,
    jsonrpcOnly: true,
  },
  {
    iface: "Session",
    name: "ShellInput",
    doc: "Write base64 data to a shell opened with OpenShell on this connection.",
    params: [
      { name: "shell", type: T.string(64, { nonEmpty: true }), doc: "shell id from OpenShell" },
      { name: "data", type: T.string(1024 * 1024), doc: "base64 bytes" },
    ],
    result: null,
    action: ACTIONS.shell,
    jsonrpcOnly: true,
  },
  {
    iface: "Session",
    name: "ShellResize",
    doc: "Set the terminal size of a shell opened with OpenShell on this connection (the shell gets SIGWINCH).",
    params: [
      { name: "shell", type: T.string(64, { nonEmpty: true }), doc: "shell id from OpenShell" },
      { name: "rows", type: T.uint(1000), doc: "pty rows" },
      { name: "cols", type: T.uint(1000), doc: "pty columns" },
    ],
    result: null,
    action: ACTIONS.shell,
    jsonrpcOnly: true,
  },
];

/** Properties per interface, in the order of the introspection XML. */
export const PROPERTIES: Record<InterfaceName, readonly { name: string; sig: string; doc: string }[]> = {
  Manager: [
    { name: "Version", sig: "s", doc: "daemon version" },
    { name: "Features", sig: "as", doc: "what this host can do: device-mapper, kvm, apt, dnf, and the session types" },
  ],
  Session: [
    { name: "Id", sig: "s", doc: "session id" },
    { name: "Name", sig: "s", doc: "image name" },
    { name: "Type", sig: "s", doc: "live, loop or fs" },
    { name: "Owner", sig: "u", doc: "uid that created the session" },
    { name: "State", sig: "s", doc: "created, mounted, installed, configured, unmounted, packaged, failed, cancelled, interrupted, closed" },
    { name: "CurrentJob", sig: "o", doc: "running or queued Job, or /" },
    { name: "Artifacts", sig: "as", doc: "paths of the artifacts written to the caller's destdir" },
    { name: "CheckpointUsage", sig: "a{st}", doc: "bytes each checkpoint takes: the copy-on-write space in use of a device-mapper snapshot, else the blocks of its copy" },
  ],
  Job: [
    { name: "Operation", sig: "s", doc: "mount, install, configure, unmount, package or create" },
    { name: "Session", sig: "o", doc: "the Session" },
    { name: "Progress", sig: "d", doc: "0..1" },
    { name: "ProgressValid", sig: "b", doc: "whether Progress means anything yet" },
    { name: "Status", sig: "s", doc: "queued, running, completed, failed, cancelled" },
    { name: "Bytes", sig: "t", doc: "bytes processed, when known" },
    { name: "StartTime", sig: "t", doc: "microseconds since the epoch; 0 while queued" },
    { name: "Message", sig: "s", doc: "last progress message" },
  ],
};

/** Signals per interface. */
export const SIGNALS: Record<InterfaceName, readonly { name: string; args: readonly { name: string; sig: string }[]; doc: string }[]> = {
  Manager: [],
  Session: [],
  Job: [
    { name: "LogMessage", args: [{ name: "priority", sig: "u" }, { name: "line", sig: "s" }], doc: "one line of the stage's log (syslog priority)" },
    { name: "Completed", args: [{ name: "success", sig: "b" }, { name: "error_name", sig: "s" }, { name: "message", sig: "s" }], doc: "the job ended" },
  ],
};

export function findMethod(iface: InterfaceName, name: string, transport: "dbus" | "jsonrpc"): MethodDef | undefined {
  return METHODS.find((m) => m.iface === iface && m.name === name && (transport === "jsonrpc" || !m.jsonrpcOnly));
}

/**
 * Typed view for clients: JSON-RPC method → named params and result. Session methods take `session`
 * (id or object path), Job methods `job` (object path or number); any call may add `interactive: true`.
 */
export interface ApiMethods {
  "Manager.CreateSession": { params: { kickstart: string; includes?: Record<string, string>; options?: import("./types.js").CreateSessionOptions }; result: string };
  "Manager.ListSessions": { params: Record<string, never>; result: string[] };
  "Manager.GetProperties": { params: Record<string, never>; result: import("./types.js").ManagerProperties };
  "Session.Mount": { params: { session: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.Install": { params: { session: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.Configure": { params: { session: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.Unmount": { params: { session: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.Package": { params: { session: string; destdir: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.Create": { params: { session: string; destdir: string; options?: import("./types.js").StageOptions }; result: string };
  "Session.OpenShell": { params: { session: string; argv: string[]; options?: import("./types.js").ShellOptions }; result: string };
  "Session.ShellInput": { params: { session: string; shell: string; data: string }; result: null };
  "Session.ShellResize": { params: { session: string; shell: string; rows: number; cols: number }; result: null };
  "Session.Close": { params: { session: string }; result: null };
  "Session.Clone": { params: { session: string; options?: { name?: string } }; result: string };
  "Session.Checkpoint": { params: { session: string; name: string }; result: null };
  "Session.Rollback": { params: { session: string; name: string }; result: null };
  "Session.ListCheckpoints": { params: { session: string }; result: string[] };
  "Session.DropCheckpoint": { params: { session: string; name: string }; result: null };
  "Session.GetProperties": { params: { session: string }; result: import("./types.js").SessionProperties };
  "Session.GetLog": { params: { session: string; options?: { lines?: number } }; result: string[] };
  "Job.Cancel": { params: { job: string }; result: null };
  "Job.GetProperties": { params: { job: string }; result: import("./types.js").JobProperties };
  "Job.Subscribe": { params: { job: string }; result: import("./types.js").JobProperties };
}
