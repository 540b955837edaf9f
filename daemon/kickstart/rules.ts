// Checks on one command line beyond its option syntax, as data: which options exclude each other,
// which need another, which values a command allows. The facts are the ones pykickstart's parse()
// methods enforce (3.74); every message names the options and says what to change.
//
// A term names something on the line:
//   --opt          the option was given (a flag set, a value that is not empty or 0)
//   --opt=v        its value is v; --opt=v* its value starts with v
//   @dest          the positional argument(s) stored in dest were given; @dest=v as above
//   a&b            both hold; a|b either holds
// A rule whose terms name an option the command's version does not have is skipped (the option
// parser has already refused the line then).

import type { OptionSpec } from "./grammar/types.js";

type Args = Record<string, unknown>;

export type Rule = {
  /** Only for these command classes (pykickstart's versions of the command); all when absent. */
  in?: string[];
  /** What to tell the user instead of the generated sentence (after the command's label). */
  says?: string;
} & (
  | { excludes: string[] }
  | { requires: [string, string] }
  | { anyOf: string[] }
  | { oneOf: string[] }
  | { choices: [string, string[]]; anyCase?: boolean }
  | { range: [string, number, number?] }
  | { forbids: string }
  | { count: [string, number, number]; what: string }
);

const RHEL8_10 = (cmd: string): string[] => ["RHEL8", "RHEL9", "RHEL10"].map((v) => `${v}_${cmd}`);
const NO_BTRFS_SAYS = "this kickstart version has no btrfs; choose another --fstype";
const NO_BTRFS = (cmd: string): Rule => ({ in: RHEL8_10(cmd), forbids: "--fstype=btrfs", says: NO_BTRFS_SAYS });
/** Rules shared by part, logvol and raid. */
const FILESYSTEM: Rule[] = [
  { excludes: ["--mkfsoptions", "--noformat"] },
  { excludes: ["--mkfsoptions", "--fsprofile"] },
  { excludes: ["--pbkdf-time", "--pbkdf-iterations"] },
];
const PREEXISTING = "--useexisting|--noformat";
const HW_PASSPHRASE: Rule = {
  requires: ["--hw-passphrase", "--encrypted&--luks-version=luks2-*"],
  says: "--hw-passphrase is only for OPAL disks; add --encrypted --luks-version=luks2-hw-opal (or another luks2-hw-* version) or remove --hw-passphrase",
};

export const RULES: Record<string, Rule[]> = {
  autopart: [
    { choices: ["--type", ["lvm", "btrfs", "plain", "partition", "thinp"]], anyCase: true },
    { forbids: "--fstype=btrfs", says: "--fstype=btrfs is not a file system type here; use --type=btrfs instead" },
    { excludes: ["--fstype", "--type=btrfs"] },
    { in: RHEL8_10("AutoPart"), forbids: "--type=btrfs", says: "this kickstart version has no btrfs; use --type=lvm, plain or thinp" },
    { excludes: ["--pbkdf-time", "--pbkdf-iterations"] },
    { excludes: ["--noswap", "--hibernation"] },
    HW_PASSPHRASE,
  ],
  bootloader: [
    { excludes: ["--sdboot", "--extlinux"] },
  ],
  btrfs: [
    { choices: ["--data", ["raid0", "0", "raid1", "1", "raid10", "10", "single"]], anyCase: true },
    { choices: ["--metadata", ["raid0", "0", "raid1", "1", "raid10", "10", "single"]], anyCase: true },
    { anyOf: ["@devices", "--subvol"] },
    { requires: ["--subvol", "@devices"], says: "--subvol needs its parent volume after the mount point; add it or remove --subvol" },
    { requires: ["--subvol", "--name"] },
    { excludes: ["--mkfsoptions", PREEXISTING] },
  ],
  displaymode: [{ forbids: "--non-interactive&@cmd=cmdline", says: "--non-interactive works only with graphical or text; remove it" }],
  driverdisk: [
    { count: ["@partition", 0, 1], what: "partition" },
    { oneOf: ["@partition", "--source", "--biospart"] },
  ],
  eula: [{ anyOf: ["--agreed"] }],
  harddrive: [{ oneOf: ["--partition", "--biospart"] }],
  ignoredisk: [
    { in: ["F14_IgnoreDisk"], oneOf: ["--drives", "--only-use", "--interactive"] },
    { in: ["F29_IgnoreDisk", "F34_IgnoreDisk"], oneOf: ["--drives", "--only-use"] },
  ],
  logging: [{ requires: ["--port", "--host"] }],
  logvol: [
    ...FILESYSTEM,
    NO_BTRFS("LogVol"),
    { anyOf: ["--size", "--percent", "--recommended", "--hibernation", PREEXISTING] },
    { excludes: ["--size", "--percent"] },
    { range: ["--percent", 0, 100] },
    { excludes: ["--thin", "--thinpool"] },
    { requires: ["--thin", "--poolname"] },
    { requires: ["--chunksize|--metadatasize", "--thinpool"] },
    { requires: ["--resize", "--useexisting|--noformat"] },
    { requires: ["--resize", "--size"] },
    { choices: ["--cachemode", ["writeback", "writethrough"]] },
    { excludes: ["--cachesize|--cachemode|--cachepvs", "--useexisting|--noformat"] },
    { excludes: ["--cachesize|--cachemode|--cachepvs", "--thin"] },
    { requires: ["--cachesize|--cachemode", "--cachepvs"] },
    { requires: ["--cachepvs|--cachemode", "--cachesize"] },
  ],
  mount: [{ requires: ["--mkfsoptions", "--reformat"] }],
  network: [
    { requires: ["--bridgeopts", "--bridgeslaves"] },
    { forbids: "--bindto=mac&--vlanid&!--bondopts", says: "--bindto=mac does not work for a VLAN device (--vlanid); remove --bindto=mac" },
    ...["--ipv4-dns-search", "--ipv6-dns-search", "--ipv4-ignore-auto-dns", "--ipv6-ignore-auto-dns"]
      .map((o): Rule => ({ requires: [o, "--device"] })),
  ],
  nvdimm: [
    { excludes: ["--namespace", "--blockdevs"] },
    { requires: ["@action=reconfigure", "--namespace"], says: "reconfigure needs --namespace; add it" },
    { requires: ["@action=reconfigure&--mode=sector", "--sectorsize"], says: "reconfigure in sector mode needs --sectorsize (e.g. --sectorsize=512); add it" },
    { requires: ["@action=use", "--namespace|--blockdevs"], says: "use needs --namespace or --blockdevs; add one" },
  ],
  partition: [
    ...FILESYSTEM,
    NO_BTRFS("Partition"),
    { in: RHEL8_10("Partition"), forbids: "@mntpoint=btrfs.*", says: "this kickstart version has no btrfs; remove the btrfs member partition" },
    { requires: ["--resize", "--onpart"] },
    { requires: ["--resize", "--size"] },
    { excludes: ["--fstype=tmpfs", "--grow|--maxsize"] },
    HW_PASSPHRASE,
  ],
  raid: [
    ...FILESYSTEM,
    { in: ["RHEL8_Raid", "RHEL9_Raid"], forbids: "--fstype=btrfs", says: NO_BTRFS_SAYS },
    { choices: ["--level", ["raid0", "0", "raid1", "1", "raid4", "4", "raid5", "5", "raid6", "6", "raid10", "10"]], anyCase: true },
    { anyOf: ["@partitions", PREEXISTING] },
    { excludes: ["@partitions", PREEXISTING] },
    { anyOf: ["--level", PREEXISTING], says: "a new RAID device needs --level (e.g. --level=1); add it, or --useexisting for an existing one" },
  ],
  repo: [{ excludes: ["--baseurl", "--mirrorlist", "--metalink"] }],
  rescue: [{ excludes: ["--nomount", "--romount"] }],
  services: [{ anyOf: ["--enabled", "--disabled"] }],
  snapshot: [{ choices: ["--when", ["pre-install", "post-install"]], anyCase: true }],
  sshpw: [{ anyOf: ["@password"], says: "give the password after the options, e.g. sshpw --username=install PASSWORD" }],
  timesource: [{ oneOf: ["--ntp-server", "--ntp-pool", "--ntp-disable"] }],
  timezone: [{ excludes: ["--nontp", "--ntpservers"] }],
  updates: [{ in: ["F7_Updates"], count: ["@updates", 0, 1], what: "URL" }],
  url: [{ oneOf: ["--url", "--mirrorlist", "--metalink"] }],
  volgroup: [
    { range: ["--reserved-space", 0] },
    { range: ["--reserved-percent", 1, 99] },
  ],
  zfcp: [{ in: ["F37_ZFCP", "RHEL9_ZFCP"], requires: ["--wwpn|--fcplun", "--wwpn&--fcplun"], says: "give --devnum alone, or --devnum with both --wwpn and --fcplun" }],
};

/** What a command line is called in messages: the command and what tells its entries apart. */
export function commandLabel(key: string, name: string, a: Args): string {
  const first = (v: unknown): string => String(Array.isArray(v) ? v[0] ?? "" : v ?? "");
  switch (key) {
    case "repo": case "user": case "group":
      return typeof a.name === "string" ? `${name} "${a.name}"` : name;
    case "partition": case "logvol": case "raid":
      return first(a.mntpoint) ? `${name} ${first(a.mntpoint)}` : name;
    case "volgroup":
      return first(a.name) ? `${name} ${first(a.name)}` : name;
    case "btrfs":
      return a.mountpoint ? `${name} ${String(a.mountpoint)}` : name;
    case "network":
      return typeof a.device === "string" && a.device ? `${name} --device=${a.device}` : name;
    default:
      return name;
  }
}

interface Ctx {
  name: string;
  args: Args;
  opts: OptionSpec[];
}

/** The value an option stores, where the command has it. */
function valueOf(c: Ctx, opt: string): unknown {
  const spec = c.opts.find((o) => o.f.includes(opt));
  return spec ? c.args[spec.d] : undefined;
}

const truthy = (v: unknown): boolean =>
  Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== false && v !== "" && v !== 0;

/** Whether one option or positional (no & or |) holds; undefined when the command has no such thing. */
function atom(c: Ctx, t: string): boolean | undefined {
  if (t.startsWith("!")) {
    const r = atom(c, t.slice(1));
    return r === undefined ? undefined : !r;
  }
  const eq = t.indexOf("=");
  const what = eq >= 0 ? t.slice(0, eq) : t;
  const want = eq >= 0 ? t.slice(eq + 1) : undefined;
  let value: unknown;
  if (what === "@cmd") value = c.name;
  else if (what.startsWith("@")) {
    // Positionals, including those a command stores itself (btrfs's devices).
    if (!(what.slice(1) in c.args)) return undefined;
    value = c.args[what.slice(1)];
  } else {
    const spec = c.opts.find((o) => o.f.includes(what));
    if (!spec) return undefined;
    value = c.args[spec.d];
    // A flag holds when its destination has the value the flag sets (--noformat: format false).
    if (spec.k === "true" || spec.k === "false" || spec.k === "const") return value === (spec.k === "true" ? true : spec.k === "false" ? false : spec.c);
  }
  if (want === undefined) return truthy(value);
  const v = String(Array.isArray(value) ? value[0] ?? "" : value ?? "");
  return want.endsWith("*") ? v.startsWith(want.slice(0, -1)) : v === want;
}

/** A term: alternatives (|) of conjunctions (&). Returns the alternative that holds, "" when none. */
function holds(c: Ctx, term: string): string | undefined {
  let known = false;
  for (const alt of term.split("|")) {
    const parts = alt.split("&").map((p) => atom(c, p));
    if (parts.some((p) => p === undefined)) continue;
    known = true;
    if (parts.every((p) => p)) return alt;
  }
  return known ? "" : undefined;
}

/** Positional arguments as the user knows them. */
const POSITIONAL_WORDS: Record<string, string> = {
  partitions: "member partitions", devices: "member devices", partition: "a partition argument",
};

/** A term as the user reads it: @dest as "a <dest>", & as "with", | as "or". */
function say(term: string): string {
  const one = (t: string): string => {
    if (t === "@cmd=cmdline") return "cmdline";
    if (t.startsWith("!")) return `no ${one(t.slice(1))}`;
    if (t.startsWith("@")) {
      const [d, v] = t.slice(1).split("=");
      return v === undefined ? POSITIONAL_WORDS[d!] ?? `${d!} arguments` : `'${v.replace(/\*$/, "")}'`;
    }
    return t.replace(/\*$/, "...");
  };
  return term.split("|").map((alt) => alt.split("&").map(one).join(" with ")).join(" or ");
}

function check(c: Ctx, label: string, rule: Rule): string | undefined {
  const msg = generated(c, label, rule);
  return msg && rule.says ? `${label}: ${rule.says}` : msg;
}

function generated(c: Ctx, label: string, rule: Rule): string | undefined {
  if ("excludes" in rule) {
    const given: string[] = [];
    for (const t of rule.excludes) {
      const h = holds(c, t);
      if (h) given.push(h);
    }
    return given.length > 1 ? `${label}: ${say(given[0]!)} and ${say(given[1]!)} exclude each other; keep one` : undefined;
  }
  if ("requires" in rule) {
    const [t, needed] = rule.requires;
    const h = holds(c, t);
    if (!h || holds(c, needed) !== "") return undefined;
    return `${label}: ${say(h)} needs ${say(needed)}; add ${say(needed)} or remove ${say(h)}`;
  }
  if ("anyOf" in rule || "oneOf" in rule) {
    // Terms naming options this version lacks drop out (RHEL7's url has no --metalink).
    const terms = ("anyOf" in rule ? rule.anyOf : rule.oneOf).filter((t) => holds(c, t) !== undefined);
    if (terms.length === 0) return undefined;
    if (terms.every((t) => holds(c, t) === "")) {
      return terms.length === 1
        ? `${label} needs ${say(terms[0]!)}; add it`
        : `${label} needs one of ${terms.map(say).join(", ")}; add one`;
    }
    return "oneOf" in rule ? generated(c, label, { excludes: terms }) : undefined;
  }
  if ("choices" in rule) {
    const [opt, values] = rule.choices;
    const v = valueOf(c, opt);
    if (typeof v !== "string" || values.includes(rule.anyCase ? v.toLowerCase() : v)) return undefined;
    return `${label}: ${opt} must be one of ${values.join(", ")}, not '${v}'`;
  }
  if ("range" in rule) {
    const [opt, min, max] = rule.range;
    const v = valueOf(c, opt);
    if (typeof v !== "number" || (v >= min && (max === undefined || v <= max))) return undefined;
    return max === undefined
      ? `${label}: ${opt} must be ${min} or more, not ${v}`
      : `${label}: ${opt} must be between ${min} and ${max}, not ${v}`;
  }
  if ("forbids" in rule) {
    const h = holds(c, rule.forbids);
    return h ? `${label}: ${say(h)} is not allowed here; remove it` : undefined;
  }
  const [dest, min, max] = rule.count;
  if (!(dest.slice(1) in c.args)) return undefined;
  const v = c.args[dest.slice(1)];
  const n = Array.isArray(v) ? v.length : v === undefined ? 0 : 1;
  if (n >= min && n <= max) return undefined;
  const many = max === 1 ? rule.what : `${rule.what}s`;
  const want = min === max ? `exactly ${min} ${many}` : `at most ${max} ${many}`;
  return `${label} takes ${want}, not ${n}${n ? ` (${(v as unknown[]).join(" ")})` : ""}; ${n > max ? "remove the extra ones" : `add the ${rule.what}`}`;
}

/** Every rule of the command that the line breaks, as messages. */
export function checkRules(key: string, className: string, name: string, args: Args, opts: OptionSpec[]): string[] {
  const label = commandLabel(key, name, args);
  const c: Ctx = { name, args, opts };
  const out: string[] = [];
  for (const rule of RULES[key] ?? []) {
    if (rule.in && !rule.in.includes(className)) continue;
    const msg = check(c, label, rule);
    if (msg) out.push(msg);
  }
  return out;
}
