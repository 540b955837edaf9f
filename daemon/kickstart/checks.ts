// Checks a command's values beyond its option syntax (the ones pykickstart makes in each command's parse).

type Args = Record<string, unknown>;

const CHECKS: Record<string, (name: string, a: Args, seen: string[]) => string | undefined> = {
  rootpw: (_n, a) => (a.password === undefined && a.lock !== true ? "rootpw needs a password (or --lock)" : undefined),
  user: (_n, a) => (typeof a.name === "string" && a.name.trim() === "" ? "user --name must not be empty" : undefined),
  partition: (_n, a) => (typeof a.size === "number" && a.size < 0 ? "part --size must be a positive number of MiB" : undefined),
  btrfs: (_n, a) => (a.mountpoint === undefined ? "btrfs needs a mount point (or 'none') and its devices" : undefined),
  keyboard: (_n, a) => {
    const kbd = Array.isArray(a.kbd) ? a.kbd : [];
    if (kbd.length > 1) return "A single argument is expected for the keyboard command";
    const layouts = Array.isArray(a.x_layouts) ? a.x_layouts : [];
    return kbd.length === 0 && !a.vc_keymap && layouts.length === 0
      ? "One of --xlayouts, --vckeymap options with value(s) or argument is expected for the keyboard command"
      : undefined;
  },
  timezone: (_n, a) => {
    const tz = Array.isArray(a.timezone) ? a.timezone : [];
    if (tz.length > 1) return "A single argument is expected for the timezone command";
    const anything = tz.length > 0 || a.isUtc === true || a.nontp === true || (Array.isArray(a.ntpservers) && a.ntpservers.length > 0);
    return anything ? undefined : "timezone needs a time zone, e.g. timezone Europe/Berlin --utc";
  },
  sshkey: (_n, a) => (Array.isArray(a.sshkey) && a.sshkey.length === 1 ? undefined : "sshkey needs exactly one key, in quotes"),
  // The checks below have a shape of their own; the regular ones are data in rules.ts.
  volgroup: (_n, a) => {
    // All positional words land in name: the first is the group, the rest its physical volumes.
    const words = [...strings(a.name), ...strings(a.partitions)];
    if (words.length === 0) return "volgroup needs a volume group name and its physical volumes, e.g. volgroup vg00 pv.01";
    const existing = a.preexist === true || a.format === false;
    if (words.length === 1 && !existing) return `volgroup ${words[0]!} needs its physical volumes (e.g. pv.01) after the name, or --useexisting`;
    return words.length > 1 && existing
      ? `volgroup ${words[0]!}: physical volumes and --useexisting/--noformat exclude each other; keep one`
      : undefined;
  },
  snapshot: (_n, a) => {
    const origin = String(a.origin ?? "").split("/");
    return origin.length === 2 && origin[0] && origin[1] ? undefined : `snapshot ${String(a.origin)}: name the origin as VOLGROUP/LOGVOL, e.g. snapshot vg00/root`;
  },
  mount: (_n, a) => {
    const mp = strings(a.mntpoint)[0] ?? "";
    return mp.toLowerCase() === "none" || mp.startsWith("/") ? undefined : `mount: '${mp}' is not a mount point; give an absolute path or none`;
  },
  network: (n, a) => {
    if (typeof a.bridgeopts !== "string" || !a.bridgeopts) return undefined;
    const bad = a.bridgeopts.split(",").filter((o) => !/^[^=]*=[^=]+$/.test(o));
    return bad.length ? `${n}: --bridgeopts takes key=value pairs separated by commas; fix '${bad.join(",")}'` : undefined;
  },
  bootloader: (_n, a) =>
    typeof a.bootDrive === "string" && a.bootDrive.includes(",") ? `bootloader: --boot-drive takes one drive, not '${a.bootDrive}'; keep one` : undefined,
  ostreesetup: (_n, a) =>
    typeof a.url === "string" && !/^(file|https?):/.test(a.url) ? `ostreesetup: --url must be a file:, http: or https: URL, not '${a.url}'` : undefined,
  rhsm: (_n, a) => (strings(a.activation_keys).includes("") ? "rhsm: --activation-key must not be empty; give the key or remove the option" : undefined),
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : []);

export function checkCommand(key: string, name: string, args: Args, seen: string[]): string[] {
  const msg = CHECKS[key]?.(name, args, seen);
  return msg ? [msg] : [];
}

/** Commands whose arguments are passed through as written (pykickstart keeps their raw line). */
export const RAW_ARGUMENT_COMMANDS = new Set(["authselect", "authconfig", "realm"]);

/** The options `realm join` takes (true: it needs a value), as pykickstart reads them with getopt. */
const REALM_JOIN_OPTIONS: Record<string, boolean> = {
  "client-software": true, "server-software": true, "membership-software": true, "one-time-password": true, "no-password": false, "computer-ou": true,
};

/**
 * What is wrong with `realm ARGS`: only `join`, getopt's long options (a unique prefix is enough; a value
 * after "=" or as the next word; options end at the first other word), then exactly one realm.
 */
export function realmProblem(args: string[]): string | undefined {
  if (args.length === 0) return "realm needs arguments: realm join [OPTIONS] DOMAIN";
  if (args[0] !== "join") return `realm can only join (realm join [OPTIONS] DOMAIN), not '${args[0]}'`;
  const known = Object.keys(REALM_JOIN_OPTIONS);
  let i = 1;
  for (; i < args.length && args[i]!.startsWith("-"); i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("--")) return `realm join takes no option ${a}; its options are --${known.join(", --")}`;
    const [given, value] = a.slice(2).split(/=(.*)/s) as [string, string | undefined];
    const matches = known.includes(given) ? [given] : known.filter((k) => k.startsWith(given));
    if (matches.length === 0) return `realm join takes no option --${given}; its options are --${known.join(", --")}`;
    if (matches.length > 1) return `--${given} could be --${matches.join(" or --")}: write more of the option's name`;
    const name = matches[0]!;
    if (!REALM_JOIN_OPTIONS[name] && value !== undefined) return `--${name} takes no value: write it alone`;
    if (REALM_JOIN_OPTIONS[name] && value === undefined && ++i >= args.length) return `--${name} needs a value, e.g. --${name}=VALUE`;
  }
  const realms = args.slice(i);
  if (realms.length === 0) return "realm join needs the realm (domain) to join, after its options";
  if (realms.length > 1) return `realm join joins one realm, but got '${realms.join(" ")}' (options go before the realm)`;
  return undefined;
}

/** Commands that take free positional words after their options, and where those go. */
export const FREE_POSITIONALS: Record<string, (a: Args, words: string[]) => string | undefined> = {
  // RHEL7's device (F8): one kernel module name, and its options with --opts.
  device: (a, w) => {
    if (w.length !== 1) return `device needs one kernel module: write device MODULE [--opts="..."]${w.length ? `, not '${w.join(" ")}'` : ""}`;
    a.moduleName = w[0];
    return undefined;
  },
  btrfs: (a, w) => {
    if (w.length === 0) return "btrfs needs a mount point (or 'none') and its devices";
    a.mountpoint = w[0]!.startsWith("/") ? w[0]!.replace(/\/+$/, "") || "/" : w[0];
    a.devices = w.slice(1);
    return undefined;
  },
};

/**
 * Values stored the way flatten can write them back: pykickstart writes network --onboot only when
 * off (on is its default), and autopart's type by its lowercase name (--nolvm stores plain's number).
 */
export function normalizeArgs(key: string, a: Args): void {
  if (key === "network" && a.onboot === true) a.onboot = undefined;
  if (key === "autopart" && typeof a.type === "number") a.type = ["plain", "btrfs", "lvm", "thinp"][a.type];
  if (key === "autopart" && typeof a.type === "string") a.type = a.type.toLowerCase();
  if (key === "autopart" && a.type === "partition") a.type = "plain";
}
