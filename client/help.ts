// The one description of the command line: --help, the argument parser, the man pages and the bash
// completion are all derived from this table, so they cannot drift apart.

export interface OptionSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Name of the value in help text; absent for a flag. */
  arg?: string;
  /** Fixed set of values (also offered by completion). */
  choices?: string[];
  /** Completion hint for the value. */
  complete?: "file" | "dir";
  help: string;
}

export interface CommandSpec {
  /** Words after `imgcreate`, e.g. ["session", "create"]. */
  path: string[];
  /** Positional arguments as shown in the synopsis. */
  args: string;
  summary: string;
  /** Longer text for --help and the man page (optional). */
  details?: string;
  options: OptionSpec[];
  /** An option that makes the positional arguments optional (build --session ID rebuilds without a new kickstart). */
  optionalWith?: string;
  /** How the positional arguments complete. */
  complete?: "file" | "session" | "none";
}

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: "transport", arg: "dbus|socket", choices: ["dbus", "socket"], help: "How to reach imgcreated (default: D-Bus when the system bus has the name, else the socket)." },
  { name: "socket", arg: "PATH", complete: "file", help: "JSON-RPC socket of the daemon (default /run/imgcreated/api.sock)." },
  { name: "json", help: "Machine-readable output: one JSON object per line." },
  { name: "help", short: "h", help: "Show help for the command and exit." },
];

/** Options that shape the image, shared by `build` and `session create`. */
const IMAGE_OPTIONS: OptionSpec[] = [
  { name: "type", arg: "TYPE", choices: ["live", "loop", "fs"], help: "What to make: a live ISO, a loop filesystem image (the daemon's default) or a directory tree." },
  { name: "name", arg: "NAME", help: "Image name, used for the artifact file name (default: from the kickstart file name)." },
  { name: "fslabel", arg: "LABEL", help: "File system / volume label (at most 32 characters, no spaces for live ISOs)." },
  { name: "title", arg: "TITLE", help: "Title shown in the boot menu." },
  { name: "product", arg: "PRODUCT", help: "Product name used in boot menu entries." },
  { name: "releasever", arg: "VER", help: "Value substituted for $releasever in repository URLs." },
  { name: "compression", arg: "TYPE[:LEVEL]", help: "squashfs compression of a live image: zstd (default, level 15), zstd:1 to zstd:22, xz, gzip[:1-9], lz4, lzo[:1-9] or none. zstd:3 is many times faster than the default and about 10 % larger." },
  { name: "compression-type", arg: "TYPE[:LEVEL]", help: "Same as --compression (livecd-creator's name)." },
  { name: "flat-squashfs", help: "Squash the root tree itself instead of an ext4 image inside the squashfs." },
  { name: "ks-version", arg: "VER", help: "Kickstart syntax version (DEVEL, RHEL8, RHEL9, RHEL10; default: the file's #version= or DEVEL)." },
];

const OUTDIR: OptionSpec = { name: "output", short: "o", arg: "DIR", complete: "dir", help: "Directory the artifact is written to, with your rights (default: the current directory)." };

export const COMMANDS: CommandSpec[] = [
  {
    path: ["build"], args: "KICKSTART", complete: "file", optionalWith: "session",
    summary: "Build an image in one go: check the kickstart, create a session, run every stage, fetch the artifact.",
    details: "The kickstart and every %include are read with your rights and checked locally first. Progress is shown as one bar per stage on a terminal, as timestamped lines otherwise, or as JSON lines with --json. Ctrl-C cancels the running stage and closes the session (unless --keep-session); the exit status is then 130.",
    options: [OUTDIR, ...IMAGE_OPTIONS,
      { name: "shell", help: "Open a root shell in the install root after configure; the build continues when it exits." },
      { name: "keep-session", help: "Do not close the session at the end (or on Ctrl-C); inspect it with `imgcreate session`." },
      { name: "session", arg: "ID", help: "Rebuild this kept session instead of creating one: give it KICKSTART (if any) as its new kickstart, mount its own image again, install the package difference, configure, unmount and package; the session stays open." }],
  },
  {
    path: ["session", "create"], args: "KICKSTART", complete: "file",
    summary: "Create a build session from a kickstart and print its id; the session lives on after the client exits.",
    options: [...IMAGE_OPTIONS],
  },
  {
    path: ["session", "edit"], args: "ID KICKSTART", complete: "file",
    summary: "Replace a session's kickstart (read and checked here, as for create); the next install adds and removes packages by the difference.",
    details: "Allowed while the session is not mounted. A session that was unmounted or packaged keeps its image: `imgcreate build --session ID` (or the mount, install, configure, unmount and package stages) then rebuilds it from there.",
    options: [],
  },
  { path: ["session", "list"], args: "", complete: "none", summary: "List sessions with state, owner, current job and progress.", options: [] },
  { path: ["session", "show"], args: "ID", complete: "session", summary: "Show one session in detail.", options: [] },
  { path: ["session", "mount"], args: "ID", complete: "session", summary: "Run the mount stage: create and mount the install root.", options: [] },
  { path: ["session", "install"], args: "ID", complete: "session", summary: "Run the install stage: install the %packages.", options: [] },
  { path: ["session", "configure"], args: "ID", complete: "session", summary: "Run the configure stage: apply the kickstart, boot configuration, %post.", options: [] },
  { path: ["session", "unmount"], args: "ID", complete: "session", summary: "Run the unmount stage.", options: [] },
  { path: ["session", "package"], args: "ID", complete: "session", summary: "Run the package stage and write the artifact to DIR.", options: [OUTDIR] },
  {
    path: ["session", "shell"], args: "ID [-- COMMAND...]", complete: "session",
    summary: "Open a root shell (or run COMMAND) inside the sandboxed install root; its exit status becomes ours.",
    details: "Needs the polkit action org.imgcreate.shell. The terminal is put in raw mode, follows window size changes, and Ctrl-C goes to the shell.",
    options: [],
  },
  {
    path: ["session", "clone"], args: "ID", complete: "session",
    summary: "Make a new session of yours that copies this one: same kickstart, same state, a copy of its image; print its id.",
    details: "Where the kernel has device-mapper, the clone is ready at once (a snapshot) and takes its own copy in the background; until then the session cloned waits before it writes its image (mount, unmount, rollback; close too while mounted). Otherwise the copy is a reflink where the daemon's state directory has them (btrfs, xfs), else a sparse copy. The session log names which. The session cloned stays as it was. Allowed while the session has an image (mounted, installed, configured, unmounted or packaged) and runs no job.",
    options: [{ name: "name", arg: "NAME", help: "Image name of the clone (default: the session's)." }],
  },
  {
    path: ["session", "checkpoint"], args: "ID NAME", complete: "session",
    summary: "Keep a copy of the session's image as it is now under NAME, to roll back to later.",
    details: "While the image is mounted its filesystem is frozen for the copy, so the checkpoint is consistent. Checkpoints live until dropped or the session is closed.",
    options: [],
  },
  {
    path: ["session", "rollback"], args: "ID NAME", complete: "session",
    summary: "Put the session's image back as it was at checkpoint NAME, with the state it had then (open shells are closed).",
    details: "The image must be mounted, or not, as it was when the checkpoint was taken. The checkpoint stays, so you can roll back to it again.",
    options: [],
  },
  { path: ["session", "checkpoints"], args: "ID", complete: "session", summary: "List the session's checkpoints, oldest first.", options: [] },
  { path: ["session", "drop-checkpoint"], args: "ID NAME", complete: "session", summary: "Delete a checkpoint and free its space.", options: [] },
  { path: ["session", "cancel"], args: "ID", complete: "session", summary: "Cancel the session's running job.", options: [] },
  { path: ["session", "close"], args: "ID", complete: "session", summary: "Close the session and release everything it holds.", options: [] },
  {
    path: ["session", "logs"], args: "ID", complete: "session", summary: "Print the session's log so far; with --follow, then its running job's new lines.",
    options: [{ name: "follow", short: "f", help: "Keep printing new lines until the session's job ends (Ctrl-C stops following only)." }],
  },
  {
    path: ["shell"], args: "ID [-- COMMAND...]", complete: "session",
    summary: "Same as `session shell`.", options: [],
  },
  {
    path: ["cache", "list"], args: "", complete: "none",
    summary: "List the daemon's cache of installed roots: key, size on disk, last use, what it holds (administrators).",
    details: "A build whose packages, repositories and image filesystem match an entry starts its install from a copy of it. Needs the polkit action org.imgcreate.manage-cache.",
    options: [],
  },
  {
    path: ["cache", "prune"], args: "", complete: "none",
    summary: "Empty the cache of installed roots, or with --max-size keep the most recently used entries that fit (administrators).",
    options: [{ name: "max-size", arg: "MIB", help: "Keep at most this many MiB of the most recently used entries (default 0: remove all)." }],
  },
  {
    path: ["boot-test"], args: "ISO", complete: "file",
    summary: "Boot a live ISO headless in qemu and wait for its marker line on the serial console.",
    options: [
      { name: "uefi", help: "Boot with UEFI firmware (OVMF)." },
      { name: "bios", help: "Boot with legacy BIOS (default)." },
      { name: "marker", arg: "TEXT", help: "Text to wait for on the serial console (default: IMGCREATE-BOOT-OK, or the serial getty starting)." },
      { name: "timeout", arg: "SECONDS", help: "Give up after this long (default 600)." },
    ],
  },
  { path: ["ks", "check"], args: "FILE...", complete: "file", summary: "Check kickstart files; print FILE:LINE: error|warning: message lines.", options: [{ name: "version", arg: "VER", help: "Kickstart version." }] },
  { path: ["ks", "flatten"], args: "FILE", complete: "file", summary: "Print the kickstart with includes inlined.", options: [{ name: "version", arg: "VER", help: "Kickstart version." }] },
  { path: ["ks", "dump"], args: "FILE", complete: "file", summary: "Print the typed kickstart model as JSON.", options: [{ name: "version", arg: "VER", help: "Kickstart version." }] },
  {
    path: ["ks", "plan"], args: "FILE", complete: "file",
    summary: "Print the package transaction a kickstart asks for (dry run, no network): backend, repositories, packages, groups.",
    details: "The backend is apt or dnf, from %addon org_imgcreate --backend= or the kickstart's repositories (docs/kickstart.md); a kickstart mixing apt and dnf repositories is an error at the line to change. Repository URLs are shown as written, with $releasever and $basearch for the backend to expand.",
    options: [
      { name: "version", arg: "VER", help: "Kickstart version." },
      { name: "releasever", arg: "VER", help: "Release version to record in the plan (default: the backend's)." },
      { name: "json", help: "Print the plan as JSON instead of the short human form." },
    ],
  },
  { path: ["version"], args: "", complete: "none", summary: "Print the client version and, when reachable, the daemon's.", options: [] },
];

export const EXIT_CODES: [number, string][] = [
  [0, "success"],
  [1, "the build or operation failed (the message says why)"],
  [2, "usage error: bad command line or invalid kickstart"],
  [3, "not authorized (polkit said no, or the session belongs to someone else)"],
  [4, "the daemon cannot be reached"],
  [130, "cancelled (Ctrl-C)"],
];

export const ENVIRONMENT: [string, string][] = [
  ["DBUS_SYSTEM_BUS_ADDRESS", "Address of the system bus to use instead of the default one."],
  ["IMGCREATE_SOCKET", "Default for --socket."],
  ["NO_COLOR", "Disables colour in the terminal display."],
];

export function findCommand(words: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  // Longest match first, so "session create" wins over a hypothetical "session".
  const sorted = [...COMMANDS].sort((a, b) => b.path.length - a.path.length);
  for (const spec of sorted) {
    if (spec.path.every((w, i) => words[i] === w)) return { spec, rest: words.slice(spec.path.length) };
  }
  return undefined;
}

function optionLabel(o: OptionSpec): string {
  const long = `--${o.name}${o.arg ? ` ${o.arg}` : ""}`;
  return o.short ? `-${o.short}, ${long}` : `    ${long}`;
}

function table(rows: [string, string][], indent = "  "): string {
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => (l.length + 2 > width ? `${indent}${l}\n${indent}${" ".repeat(width)}${r}` : `${indent}${l.padEnd(width)}${r}`)).join("\n");
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: imgcreate ${spec.path.join(" ")}${spec.options.length ? " [OPTIONS]" : ""}${spec.args ? " " + spec.args : ""}`, "", spec.summary];
  if (spec.details) lines.push("", spec.details);
  if (spec.options.length) lines.push("", "Options:", table(spec.options.map((o) => [optionLabel(o), o.help])));
  lines.push("", "Global options:", table(GLOBAL_OPTIONS.map((o) => [optionLabel(o), o.help])));
  return lines.join("\n") + "\n";
}

export function mainHelp(): string {
  const groups = COMMANDS.map((c): [string, string] => [`${c.path.join(" ")} ${c.args}`.trim(), c.summary.split(/[.:;] /)[0]!.replace(/\.$/, "")]);
  return [
    "Usage: imgcreate [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]",
    "",
    "Builds Fedora-style live and disk images through the imgcreated service.",
    "",
    "Commands:",
    table(groups),
    "",
    "Global options:",
    table(GLOBAL_OPTIONS.map((o) => [optionLabel(o), o.help])),
    "",
    "Exit status:",
    table(EXIT_CODES.map(([c, t]) => [String(c), t])),
    "",
    "`imgcreate COMMAND --help` describes one command; man imgcreate describes them all.",
  ].join("\n") + "\n";
}
