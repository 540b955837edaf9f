// The typed kickstart model: what the parser produces and the engine reads. Every entry carries the
// file and line it came from (the real file of an %include), so later errors can point at it.

export interface Located {
  file: string;
  line: number;
}

export interface PackageEntry extends Located {
  /** A package name or glob ("vim*"), or for modules "@name:stream/profile" as written. */
  name: string;
}

export interface GroupEntry extends Located {
  name: string;
  nodefaults: boolean;
  optional: boolean;
}

export interface ModuleEntry extends Located {
  name: string;
  stream?: string;
  profile?: string;
  enabled: boolean;
  /** Where it was written: an `@name:stream/profile` line in %packages, or the `module` command. */
  source?: "packages" | "command";
}

export interface PackagesSection {
  present: boolean;
  file?: string;
  line?: number;
  packages: PackageEntry[];
  excludedPackages: PackageEntry[];
  groups: GroupEntry[];
  excludedGroups: GroupEntry[];
  environment?: PackageEntry;
  /** `@module:stream/profile` lines inside %packages and `module` commands, in file order. */
  modules: ModuleEntry[];
  nocore: boolean;
  nobase: boolean;
  excludedocs: boolean;
  instLangs?: string;
  ignoremissing: boolean;
  multilib: boolean;
  excludeWeakdeps: boolean;
  /** --ignorebroken (DEVEL only). */
  ignorebroken?: boolean;
  retries?: number;
  timeout?: number;
  default: boolean;
}

export type ScriptType = "pre" | "pre-install" | "post" | "onerror" | "traceback";

export interface Script extends Located {
  type: ScriptType;
  interpreter: string;
  nochroot: boolean;
  erroronfail: boolean;
  log?: string;
  body: string;
}

/** `%addon org_imgcreate --suite=bookworm --components=main,contrib --variant=minbase` (or `key = value` body lines). */
export interface ImgcreateAddon extends Partial<Located> {
  suite?: string;
  components?: string[];
  variant?: string;
  /** "host" = use the host's configured apt sources; otherwise a mirror URL. */
  mirror?: "host" | string;
  /** `--repo-key=REPO:PATH`: the only key trusted for that `repo --name=REPO` (read like an %include). */
  repoKeys?: RepoKey[];
  /** `--network=outbound`: %post may open connections to the outside (never to this host); default none. */
  network?: "none" | "outbound";
  /** `--backend=apt|dnf`: the package manager, overriding what the repositories suggest (see backend.ts). */
  backend?: "apt" | "dnf";
}

/** A repository's signing key, its text read by the parser's reader (so the client sends it, as an %include). */
export interface RepoKey extends Located {
  /** The `repo --name` it is for. */
  repo: string;
  /** The key file, as written. */
  path: string;
  /** The ASCII-armored OpenPGP public key block(s). */
  key: string;
}

export interface UserEntry extends Located {
  name: string;
  password?: string;
  iscrypted: boolean;
  lock: boolean;
  groups: string[];
  uid?: number;
  gid?: number;
  homedir?: string;
  shell?: string;
  gecos?: string;
}

export interface GroupCommandEntry extends Located {
  name: string;
  gid?: number;
}

export interface SshKeyEntry extends Located {
  username: string;
  key: string;
}

export interface NetworkEntry extends Located {
  hostname?: string;
  device?: string;
  bootproto?: string;
  activate?: boolean;
  onboot?: boolean;
  ip?: string;
  netmask?: string;
  gateway?: string;
  nameserver?: string;
  ipv6?: string;
  noipv4?: boolean;
  noipv6?: boolean;
}

export interface PartEntry extends Located {
  mountpoint: string;
  sizeMiB?: number;
  fstype?: string;
  label?: string;
  fsoptions?: string;
  grow?: boolean;
  maxsizeMiB?: number;
  ondisk?: string;
}

export interface RepoEntry extends Located {
  name: string;
  baseurl?: string;
  mirrorlist?: string;
  metalink?: string;
  cost?: number;
  includepkgs: string[];
  excludepkgs: string[];
  proxy?: string;
  noverifyssl: boolean;
  install: boolean;
}

export interface AddonSection extends Located {
  /** The addon's name (`%addon NAME ...`); "anaconda" for an %anaconda section. */
  name: string;
  /** Header words after the name. */
  args: string[];
  body: string;
  /** "%addon" or "%anaconda". */
  section?: string;
}

export interface CertificateSection extends Located {
  filename: string;
  dir?: string;
  type?: string;
  cert: string;
}

export interface KickstartModel {
  /** "DEVEL", "RHEL9", ... */
  version: string;
  lang?: Located & { lang: string; addsupport: string[] };
  keyboard?: Located & { keymap?: string; vckeymap?: string; xlayouts: string[] };
  timezone?: Located & { timezone?: string; utc: boolean; ntpservers: string[]; nontp: boolean };
  authselect?: Located & { args: string[] };
  firewall?: Located & {
    enabled: boolean;
    services: string[];
    removeServices: string[];
    ports: string[];
    trusts: string[];
  };
  selinux?: Located & { mode: "enforcing" | "permissive" | "disabled" };
  rootpw?: Located & { password?: string; iscrypted: boolean; lock: boolean; allowSsh: boolean };
  users: UserEntry[];
  groups: GroupCommandEntry[];
  sshkeys: SshKeyEntry[];
  services?: Located & { enabled: string[]; disabled: string[] };
  network: NetworkEntry[];
  xconfig?: Located & { startxonboot: boolean; defaultdesktop?: string };
  bootloader?: Located & {
    append?: string;
    timeout?: number;
    default?: string;
    location?: string;
    disabled: boolean;
  };
  parts: PartEntry[];
  repos: RepoEntry[];
  url?: Located & { url?: string; mirrorlist?: string; metalink?: string };
  /** Empty section (present: false) when the file has none. */
  packages: PackagesSection;
  /** %pre, %pre-install, %post, %onerror, %traceback in file order. */
  scripts: Script[];
  /** From `%addon org_imgcreate`; an empty object when absent. */
  imgcreate: ImgcreateAddon;
  /** Every other %addon (and %anaconda) section, kept as text. */
  addons: AddonSection[];
  /** %certificate sections. */
  certificates?: CertificateSection[];
  /**
   * Every parsed command (including the typed ones above), by the command's class key: "partition" for
   * part/partition, "reboot" for reboot/shutdown/halt/poweroff, otherwise its name. A single command
   * holds its last occurrence, a list command (part, repo, network, ...) an array. See RawCommand.
   */
  commands: Record<string, unknown>;
}

/** One command line as parsed: the word written, where, and its option values by pykickstart's dest names. */
export interface RawCommand extends Located {
  name: string;
  args: Record<string, unknown>;
}

export function emptyPackages(): PackagesSection {
  return {
    present: false,
    packages: [],
    excludedPackages: [],
    groups: [],
    excludedGroups: [],
    modules: [],
    nocore: false,
    nobase: false,
    excludedocs: false,
    ignoremissing: false,
    multilib: false,
    excludeWeakdeps: false,
    default: false,
  };
}

export function emptyModel(version: string): KickstartModel {
  return {
    version,
    users: [],
    groups: [],
    sshkeys: [],
    network: [],
    parts: [],
    repos: [],
    packages: emptyPackages(),
    scripts: [],
    imgcreate: {},
    addons: [],
    commands: {},
  };
}

export interface RootPartition {
  sizeMiB: number;
  fstype: string;
  file?: string;
  line?: number;
}

/** livecd-creator's default root size (MiB) and filesystem when no `part /` says otherwise. */
export const DEFAULT_ROOT_SIZE_MIB = 4096;
export const DEFAULT_ROOT_FSTYPE = "ext4";

/**
 * livecd-creator's rule (imgcreate/kickstart.py get_image_size / get_image_fstype): the size comes
 * from the LAST `part /` that has one, the fstype from the FIRST that has one. file/line point at the
 * entry that gave the size (or the fstype when only that was given).
 */
export function rootPartition(m: KickstartModel): RootPartition {
  const roots = m.parts.filter((p) => p.mountpoint === "/");
  const sized = roots.filter((p) => p.sizeMiB !== undefined && p.sizeMiB > 0);
  const typed = roots.find((p) => p.fstype !== undefined && p.fstype !== "");
  const sizeFrom = sized[sized.length - 1];
  const from = sizeFrom ?? typed;
  return {
    sizeMiB: sizeFrom?.sizeMiB ?? DEFAULT_ROOT_SIZE_MIB,
    fstype: typed?.fstype ?? DEFAULT_ROOT_FSTYPE,
    ...(from ? { file: from.file, line: from.line } : {}),
  };
}
