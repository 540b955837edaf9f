// Checks a command's values beyond its option syntax (the ones pykickstart makes in each command's parse).

type Args = Record<string, unknown>;

const CHECKS: Record<string, (name: string, a: Args, seen: string[]) => string | undefined> = {
  rootpw: (_n, a) => (a.password === undefined && a.lock !== true ? "rootpw needs a password (or --lock)" : undefined),
  user: (_n, a) => (typeof a.name === "string" && a.name.trim() === "" ? "user --name must not be empty" : undefined),
  repo: (_n, a) => {
    const sources = ["baseurl", "mirrorlist", "metalink"].filter((k) => a[k] !== undefined);
    return sources.length > 1 ? `repo ${String(a.name)}: give only one of --baseurl, --mirrorlist, --metalink` : undefined;
  },
  url: (_n, a) => {
    const sources = ["url", "mirrorlist", "metalink"].filter((k) => a[k] !== undefined && a[k] !== "");
    if (sources.length === 0) return "url needs one of --url, --mirrorlist, --metalink";
    return sources.length > 1 ? "url: give only one of --url, --mirrorlist, --metalink" : undefined;
  },
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
  timesource: (_n, a) =>
    a.ntp_server === undefined && a.ntp_pool === undefined && a.ntp_disable !== true
      ? "One of --ntp-server, --ntp-pool, --ntp-disable options must be specified for timesource command."
      : undefined,
  services: (_n, a) =>
    (Array.isArray(a.enabled) && a.enabled.length) || (Array.isArray(a.disabled) && a.disabled.length)
      ? undefined
      : "One of --disabled or --enabled must be provided.",
  sshkey: (_n, a) => (Array.isArray(a.sshkey) && a.sshkey.length === 1 ? undefined : "sshkey needs exactly one key, in quotes"),
};

export function checkCommand(key: string, name: string, args: Args, seen: string[]): string[] {
  const msg = CHECKS[key]?.(name, args, seen);
  return msg ? [msg] : [];
}

/** Commands whose arguments are passed through as written (pykickstart keeps their raw line). */
export const RAW_ARGUMENT_COMMANDS = new Set(["authselect", "authconfig"]);

/** Commands that take free positional words after their options, and where those go. */
export const FREE_POSITIONALS: Record<string, (a: Args, words: string[]) => string | undefined> = {
  // zerombr ignores words after it (with a warning, as pykickstart).
  zerombr: () => undefined,
  btrfs: (a, w) => {
    if (w.length === 0) return "btrfs needs a mount point (or 'none') and its devices";
    a.mountpoint = w[0]!.startsWith("/") ? w[0]!.replace(/\/+$/, "") || "/" : w[0];
    a.devices = w.slice(1);
    return undefined;
  },
};

/**
 * Values stored the way flatten can write them back: pykickstart writes network --onboot only when
 * off (on is its default), and autopart's type by name (--nolvm stores plain's number).
 */
export function normalizeArgs(key: string, a: Args): void {
  if (key === "network" && a.onboot === true) a.onboot = undefined;
  if (key === "autopart" && typeof a.type === "number") a.type = ["plain", "btrfs", "lvm", "thinp"][a.type];
  if (key === "autopart" && a.type === "partition") a.type = "plain";
}
