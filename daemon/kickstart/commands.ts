// Dispatch of one command line: look the word up in the version's table, parse its options, and
// keep it (single commands: the last one wins; list commands: every entry, warning on duplicate keys).

import type { RawCommand } from "./model.js";
import type { SourceLine } from "./reader.js";
import type { DiagnosticSink } from "./diagnostics.js";
import { commandNames, lookupCommand, type KickstartVersion } from "./versions.js";
import { parseOptions } from "./options.js";
import { deprecatedCommandText, deprecatedOptionText, removedCommandText } from "./messages.js";
import { checkCommand, FREE_POSITIONALS, normalizeArgs, RAW_ARGUMENT_COMMANDS, realmProblem } from "./checks.js";
import { checkRules } from "./rules.js";

/** For list commands: the key that must be unique, and pykickstart's warning when it is not. */
const DUPLICATE_KEYS: Record<string, (a: Record<string, unknown>) => [string | undefined, string]> = {
  partition: (a) => {
    const mp = first(a.mntpoint);
    return [mp === "swap" ? undefined : mp, `A partition with the mountpoint ${mp} has already been defined.`];
  },
  repo: (a) => [a.name as string, `A repo with the name ${String(a.name)} has already been defined.`],
  network: (a) => [a.device as string | undefined, `A network device with the name ${String(a.device)} has already been defined.`],
  user: (a) => [a.name as string, `A user with the name ${String(a.name)} has already been defined.`],
  group: (a) => [a.name as string, `A group with the name ${String(a.name)} has already been defined.`],
  sshkey: (a) => [a.username as string, `An ssh user with the name ${String(a.username)} has already been defined.`],
  sshpw: (a) => [a.username as string, `An ssh user with the name ${String(a.username)} has already been defined.`],
  btrfs: (a) => [first(a.mountpoint) ?? (a.mountpoint as string), `A btrfs volume with the mountpoint ${String(first(a.mountpoint) ?? a.mountpoint)} has already been defined.`],
  raid: (a) => [a.device as string | undefined, `A RAID device with the name ${String(a.device)} has already been defined.`],
  device: (a) => [a.moduleName as string | undefined, `A module with the name ${String(a.moduleName)} has already been defined.`],
  volgroup: (a) => [a.vgname as string, `A volgroup with the name ${String(a.vgname)} has already been defined.`],
  snapshot: (a) => [a.name as string, `A snapshot with the name ${String(a.name)} has already been defined; give each snapshot its own --name`],
  logvol: (a) => [a.name === undefined ? undefined : `${String(a.name)}/${String(a.vgname)}`,
    `A logical volume with the name ${String(a.name)} has already been defined in volume group ${String(a.vgname)}.`],
};

/** Commands that cannot be used together (by class key), as pykickstart's conflictingCommands. */
const PARTITIONING = ["partition", "raid", "volgroup", "logvol", "reqpart"];
const CONFLICTS: Record<string, string[]> = {
  autopart: [...PARTITIONING, "mount"],
  mount: ["autopart", ...PARTITIONING],
  ...Object.fromEntries(PARTITIONING.map((k) => [k, ["autopart", "mount"]])),
  bootc: ["ostreesetup", "ostreecontainer"],
  ostreesetup: ["ostreecontainer", "bootc"],
  ostreecontainer: ["ostreesetup", "bootc"],
};

function conflict(key: string, name: string, raw: Map<string, RawCommand | RawCommand[]>): string | undefined {
  for (const other of CONFLICTS[key] ?? []) {
    const seen = raw.get(other);
    const first = Array.isArray(seen) ? seen[0] : seen;
    if (first) return `The ${name} and ${first.name} commands can't be used at the same time (${first.name} is at ${first.file}:${first.line}); keep one of them`;
  }
  return undefined;
}

/** Warnings pykickstart gives for a command class that still works. */
const CLASS_WARNINGS: Record<string, string> = {
  F28_Authconfig: "The authconfig command will be deprecated, use authselect instead.",
};

/** Warnings pykickstart's parse gives for some values, by command class (RHEL9's timezone). */
const VALUE_WARNINGS: Record<string, (words: string[], a: Record<string, unknown>) => string[]> = {
  F33_Timezone: (words, a) => [
    ...(words.includes("--isUtc")
      ? ["The option --isUtc will be deprecated in future releases. Please modify your kickstart file to replace this option with its preferred alias --utc."]
      : []),
    ...(Array.isArray(a.ntpservers) && a.ntpservers.length
      ? ["The option --ntpservers will be deprecated in future releases. Please modify your kickstart file to replace this option with timesource --ntp-server <server hostname> command invocation, one per NTP server."]
      : []),
    ...(a.nontp === true
      ? ["The option --nontp will be deprecated in future releases. Please modify your kickstart file to replace this option with timesource --ntp-disable command invocation."]
      : []),
  ],
};

const seenKeys = new WeakMap<RawCommand[], Set<string>>();

function first(v: unknown): string | undefined {
  return Array.isArray(v) ? (v[0] as string | undefined) : (v as string | undefined);
}

export function runCommand(
  version: KickstartVersion, words: string[], l: SourceLine, raw: Map<string, RawCommand | RawCommand[]>, sink: DiagnosticSink,
): void {
  const name = words[0]!;
  const info = lookupCommand(version, name);
  if (!info) return sink.error(l.file, l.line, unknownCommand(version, name));
  const spec = info.spec;
  if (spec.status === "removed") return sink.error(l.file, l.line, removedCommandText(name));
  if (spec.status === "deprecated") return sink.warning(l.file, l.line, deprecatedCommandText(l.line, name));
  const clash = conflict(info.key, name, raw);
  if (clash) return sink.error(l.file, l.line, clash);
  const notice = CLASS_WARNINGS[info.className];
  if (notice) sink.warning(l.file, l.line, notice);
  if (RAW_ARGUMENT_COMMANDS.has(info.key)) {
    if (info.key === "realm") {
      const problem = realmProblem(words.slice(1));
      if (problem) return sink.error(l.file, l.line, problem);
    }
    if (words.length < 2) return sink.error(l.file, l.line, `${name} needs arguments, e.g. authselect select sssd`);
    raw.set(info.key, { name, file: l.file, line: l.line, args: { options: words.slice(1) } });
    return;
  }
  const free = FREE_POSITIONALS[info.key];
  const r = parseOptions(name, words.slice(1), spec.opts, (o) => deprecatedOptionText(l.line, o), free !== undefined);
  if (free) {
    const e = free(r.ns, r.extra);
    if (e) r.errors.push(e);
  }
  for (const w of r.warnings) sink.warning(l.file, l.line, w);
  for (const e of r.errors) sink.error(l.file, l.line, e);
  if (r.errors.length) return;
  for (const w of VALUE_WARNINGS[info.className]?.(words, r.ns) ?? []) sink.warning(l.file, l.line, w);
  normalizeArgs(info.key, r.ns);
  const entry: RawCommand = { name, file: l.file, line: l.line, args: r.ns };
  for (const e of checkCommand(info.key, name, r.ns, r.seen)) sink.error(l.file, l.line, e);
  for (const e of checkRules(info.key, info.className, name, r.ns, spec.opts)) sink.error(l.file, l.line, e);
  if (!spec.list) {
    // As pykickstart: a repeated command sets again every option it gives or that has a default;
    // options it leaves unset keep the earlier value.
    const prev = raw.get(info.key) as RawCommand | undefined;
    if (prev) for (const [k, v] of Object.entries(prev.args)) if (entry.args[k] === undefined) entry.args[k] = v;
    raw.set(info.key, entry);
    return;
  }
  const list = (raw.get(info.key) as RawCommand[] | undefined) ?? [];
  const dup = DUPLICATE_KEYS[info.key];
  if (dup) {
    const [key, message] = dup(r.ns);
    // A set of the keys so far, kept beside the list, so many entries stay linear.
    let keys = seenKeys.get(list);
    if (!keys) seenKeys.set(list, (keys = new Set()));
    // pykickstart refuses a second snapshot of the same name; for the others it warns.
    if (key !== undefined && keys.has(key)) {
      if (info.key === "snapshot") sink.error(l.file, l.line, message);
      else sink.warning(l.file, l.line, message);
    }
    if (key !== undefined) keys.add(key);
  }
  list.push(entry);
  raw.set(info.key, list);
}

function unknownCommand(version: KickstartVersion, name: string): string {
  const names = commandNames(version);
  const limit = name.length <= 4 ? 1 : 2;
  const close = names.filter((n) => editDistance(n, name) <= limit).slice(0, 3);
  const hint = close.length ? `; did you mean ${close.join(" or ")}?` : "";
  return `Unknown command: ${name}${hint}`;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
