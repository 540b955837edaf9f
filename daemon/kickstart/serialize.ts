// Writes one command back as kickstart text, in the layout pykickstart's ksflatten uses for it
// (its header comment, option order and quoting), so flattened files compare line for line.
// Commands without a specific layout here use a generic one: options in declaration order.

import type { RawCommand } from "./model.js";
import type { OptionSpec } from "./grammar/types.js";
import type { KickstartVersion } from "./versions.js";
import { shellQuote } from "./lexer.js";

type A = Record<string, unknown>;
type Writer = (a: A, name: string, v: KickstartVersion) => string;

const s = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const first = (v: unknown): string => (Array.isArray(v) ? s(v[0]) : s(v));
const flag = (on: unknown, text: string): string => (on ? ` ${text}` : "");
const opt = (v: unknown, name: string): string => (s(v) !== "" ? ` --${name}=${s(v)}` : "");
const qopt = (v: unknown, name: string): string => (s(v) !== "" ? ` --${name}="${s(v)}"` : "");
const lopt = (v: unknown, name: string): string => (list(v).length ? ` --${name}=${list(v).join(",")}` : "");
const qlopt = (v: unknown, name: string): string => (list(v).length ? ` --${name}="${list(v).join(",")}"` : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);

function networkArgs(a: A): string {
  let r = opt(a.bootProto, "bootproto") + opt(a.dhcpclass, "dhcpclass") + opt(a.device, "device") + qopt(a.essid, "essid");
  r += qopt(a.ethtool, "ethtool") + opt(a.gateway, "gateway") + opt(a.hostname, "hostname") + opt(a.ip, "ip") + opt(a.mtu, "mtu");
  r += opt(a.nameserver, "nameserver") + opt(a.netmask, "netmask") + flag(a.nodns, "--nodns");
  r += a.onboot === false ? " --onboot=off" : "";
  r += opt(a.wepkey, "wepkey") + flag(a.notksdevice, "--notksdevice") + flag(a.noipv4, "--noipv4") + flag(a.noipv6, "--noipv6");
  r += opt(a.ipv6, "ipv6") + flag(a.activate === true, "--activate") + flag(a.nodefroute, "--nodefroute") + opt(a.wpakey, "wpakey");
  r += opt(a.bondslaves, "bondslaves") + opt(a.bondopts, "bondopts") + opt(a.vlanid, "vlanid") + opt(a.ipv6gateway, "ipv6gateway");
  if (s(a.teamslaves) !== "") r += ` --teamslaves="${s(a.teamslaves).replace(/"/g, '\\"')}"`;
  if (s(a.teamconfig) !== "") r += ` --teamconfig="${s(a.teamconfig).replace(/"/g, '\\"')}"`;
  r += opt(a.interfacename, "interfacename") + opt(a.bridgeslaves, "bridgeslaves") + opt(a.bridgeopts, "bridgeopts");
  r += a.activate === false ? " --no-activate" : "";
  r += a.bindto === "mac" ? " --bindto=mac" : "";
  r += opt(a.ipv4_dns_search, "ipv4-dns-search") + opt(a.ipv6_dns_search, "ipv6-dns-search");
  r += flag(a.ipv4_ignore_auto_dns, "--ipv4-ignore-auto-dns") + flag(a.ipv6_ignore_auto_dns, "--ipv6-ignore-auto-dns");
  return r;
}

function partArgs(a: A): string {
  let r = flag(a.active, "--active") + flag(a.primOnly, "--asprimary") + qopt(a.fstype, "fstype") + flag(a.grow, "--grow");
  r += num(a.maxSizeMB) > 0 ? ` --maxsize=${num(a.maxSizeMB)}` : "";
  r += flag(a.format === false, "--noformat") + opt(a.onbiosdisk, "onbiosdisk") + opt(a.disk, "ondisk") + opt(a.onPart, "onpart");
  r += flag(a.recommended, "--recommended") + (num(a.size) !== 0 ? ` --size=${num(a.size)}` : "");
  r += qopt(a.fsopts, "fsoptions") + qopt(a.label, "label") + qopt(a.fsprofile, "fsprofile");
  if (a.encrypted) r += " --encrypted" + qopt(a.passphrase, "passphrase");
  if (a.encrypted && s(a.escrowcert)) r += qopt(a.escrowcert, "escrowcert") + flag(a.backuppassphrase, "--backuppassphrase");
  r += flag(a.resize, "--resize") + flag(a.hibernation, "--hibernation") + (a.encrypted ? qopt(a.cipher, "cipher") : "");
  r += qopt(a.mkfsopts, "mkfsoptions");
  if (a.encrypted) {
    r += opt(a.luks_version, "luks-version") + opt(a.pbkdf, "pbkdf") + opt(a.pbkdf_memory, "pbkdf-memory");
    r += opt(a.pbkdf_time, "pbkdf-time") + opt(a.pbkdf_iterations, "pbkdf-iterations") + qopt(a.hw_passphrase, "hw-passphrase");
  }
  return r;
}

function bootloaderArgs(a: A): string {
  if (a.disabled) return " --disabled";
  let r = qopt(a.appendLine, "append") + opt(a.location, "location") + qopt(a.password, "password") + qopt(a._md5pass, "md5pass");
  r += flag(a.upgrade, "--upgrade") + qlopt(a.driveorder, "driveorder") + (typeof a.timeout === "number" ? ` --timeout=${a.timeout}` : "") + opt(a.default, "default");
  r += flag(a.isCrypted, "--iscrypted") + opt(a.bootDrive, "boot-drive") + flag(a.leavebootorder, "--leavebootorder");
  r += flag(a.extlinux, "--extlinux") + flag(a.nombr, "--nombr") + flag(a.sdboot, "--sdboot");
  return r;
}

/** pykickstart keeps the type as a number (--nolvm stores plain's); it writes the name back. */
function autopartType(t: unknown): string {
  if (typeof t === "number") return ["plain", "btrfs", "lvm", "thinp"][t] ?? "";
  return t === "partition" ? "plain" : s(t);
}

function autopartArgs(a: A): string {
  let r = a.encrypted ? " --encrypted" + qopt(a.passphrase, "passphrase") : "";
  if (a.encrypted && s(a.escrowcert)) r += qopt(a.escrowcert, "escrowcert") + flag(a.backuppassphrase, "--backuppassphrase");
  r += flag(a.lvm === false, "--nolvm") + opt(autopartType(a.type), "type") + (a.encrypted ? qopt(a.cipher, "cipher") : "") + opt(a.fstype, "fstype");
  r += flag(a.nohome, "--nohome") + flag(a.noboot, "--noboot") + flag(a.noswap, "--noswap");
  if (a.encrypted) {
    r += opt(a.luks_version, "luks-version") + opt(a.pbkdf, "pbkdf") + opt(a.pbkdf_memory, "pbkdf-memory");
    r += opt(a.pbkdf_time, "pbkdf-time") + opt(a.pbkdf_iterations, "pbkdf-iterations");
  }
  r += flag(a.hibernation, "--hibernation") + (a.encrypted ? qopt(a.hw_passphrase, "hw-passphrase") : "");
  return r;
}

function firewall(a: A): string {
  if (a.use_system_defaults) return "# Firewall configuration\nfirewall --use-system-defaults\n";
  if (a.enabled === false) return "# Firewall configuration\nfirewall --disabled\n";
  const special: Record<string, string> = { "ssh:tcp": "--ssh", "telnet:tcp": "--telnet", "smtp:tcp": "--smtp", "http:tcp": "--http", "ftp:tcp": "--ftp" };
  const ports = list(a.ports);
  const extra = ports.filter((p) => special[p]).map((p) => " " + special[p]).join("");
  const plain = ports.filter((p) => !special[p]);
  let r = `firewall --enabled${extra}${lopt(plain, "port")}${lopt(a.trusts, "trust")}`;
  r += lopt(a.services, "service") + lopt(a.remove_services, "remove-service");
  return `# Firewall configuration\n${r}\n`;
}

function keyboard(a: A): string {
  const kbd = first(a.kbd);
  const layouts = list(a.x_layouts);
  const switches = list(a.switch_options);
  if (!kbd && !layouts.length && !s(a.vc_keymap)) return "";
  const switchArg = switches.length ? " --switch=" + switches.map((l) => `'${l}'`).join(",") : "";
  // ksflatten writes the short form and drops --switch when only a legacy keymap was given; we keep it.
  if (!s(a.vc_keymap) && !layouts.length) return `# Keyboard layouts\nkeyboard '${kbd}'${switchArg}\n`;
  let r = "# Keyboard layouts\n" + (kbd ? `# old format: keyboard ${kbd}\n# new format:\n` : "");
  r += "keyboard" + opt(a.vc_keymap, "vckeymap");
  if (layouts.length) r += " --xlayouts=" + layouts.map((l) => `'${l}'`).join(",");
  return r + switchArg + "\n";
}

function rootpw(a: A): string {
  const args = flag(a.isCrypted, "--iscrypted") + flag(a.lock, "--lock") + flag(!a.isCrypted, "--plaintext") + flag(a.allow_ssh, "--allow-ssh");
  const pw = s(a.password);
  if (pw) return `# Root password\nrootpw${args} ${pw.includes("#") ? `"${pw}"` : pw}\n`;
  return a.lock ? "#Root password\nrootpw --lock\n" : "";
}

function timezone(a: A, _n: string, v: KickstartVersion): string {
  const tz = first(a.timezone);
  const utcFlag = v === "RHEL7" || v === "RHEL8" ? "--isUtc" : "--utc";
  const args = (tz ? " " + tz : "") + flag(a.isUtc, utcFlag) + flag(a.nontp, "--nontp") + lopt(a.ntpservers, "ntpservers");
  return args ? `# System timezone\ntimezone${args}\n` : "";
}

function url(a: A): string {
  let r = "# Use network installation\n";
  if (s(a.url)) r += `url --url="${s(a.url)}"`;
  else if (s(a.mirrorlist)) r += `url --mirrorlist="${s(a.mirrorlist)}"`;
  else if (s(a.metalink)) r += `url --metalink="${s(a.metalink)}"`;
  r += qopt(a.proxy, "proxy") + flag(a.noverifyssl, "--noverifyssl");
  r += qopt(a.sslcacert, "sslcacert") + qopt(a.sslclientcert, "sslclientcert") + qopt(a.sslclientkey, "sslclientkey");
  return r + "\n";
}

function repo(a: A): string {
  let r = `repo --name="${s(a.name)}" `;
  r += s(a.baseurl) ? `--baseurl=${s(a.baseurl)}` : s(a.mirrorlist) ? `--mirrorlist=${s(a.mirrorlist)}` : "";
  r += num(a.cost) ? ` --cost=${num(a.cost)}` : "";
  r += qlopt(a.includepkgs, "includepkgs") + qlopt(a.excludepkgs, "excludepkgs") + flag(a.ignoregroups, "--ignoregroups=true");
  r += qopt(a.proxy, "proxy") + flag(a.noverifyssl, "--noverifyssl") + flag(a.install, "--install") + opt(a.metalink, "metalink");
  r += qopt(a.sslcacert, "sslcacert") + qopt(a.sslclientcert, "sslclientcert") + qopt(a.sslclientkey, "sslclientkey");
  return r + "\n";
}

function user(a: A): string {
  const pw = s(a.password);
  let r = lopt(a.groups, "groups") + opt(a.homedir, "homedir") + opt(a.name, "name");
  r += pw ? (pw.includes("#") ? ` --password="${pw}"` : ` --password=${pw}`) : "";
  r += flag(a.isCrypted, "--iscrypted") + opt(a.shell, "shell") + (num(a.uid) ? ` --uid=${num(a.uid)}` : "");
  r += flag(a.lock, "--lock") + qopt(a.gecos, "gecos") + (num(a.gid) ? ` --gid=${num(a.gid)}` : "");
  return r ? `user${r}\n` : "";
}

function clearpart(a: A): string {
  // ksflatten writes nothing when no --all/--linux/--none/--list was given, losing --initlabel,
  // --drives and the rest (its __str__ returns early on a missing type); we keep them.
  const any = a.initAll === true || list(a.drives).length || list(a.devices).length || s(a.disklabel) || a.cdl === true;
  if ((a.type === undefined || a.type === null) && !any) return "";
  const type = ({ 0: " --linux", 1: " --all", 2: " --none" } as Record<number, string>)[a.type as number] ?? "";
  let r = `# Partition clearing information\nclearpart${type}${flag(a.initAll, "--initlabel")}${lopt(a.drives, "drives")}`;
  r += lopt(a.devices, "list") + opt(a.disklabel, "disklabel") + flag(a.cdl, "--cdl");
  return r + "\n";
}

function reboot(a: A, name: string): string {
  const args = flag(a.eject, "--eject") + flag(a.kexec, "--kexec");
  if (name === "reboot") return `# Reboot after installation\nreboot${args}\n`;
  if (name === "halt") return `# Halt after installation\nhalt${args}\n`;
  if (name === "poweroff") return `# Shutdown after installation\npoweroff${args}\n`;
  return `# Shutdown after installation\nshutdown${args}\n`;
}

function xconfig(a: A): string {
  const r = opt(a.driver, "driver") + opt(a.defaultdesktop, "defaultdesktop") + flag(a.startX, "--startxonboot");
  return r ? `# X Window System configuration information\nxconfig ${r}\n` : "";
}

function displaymode(_a: A, name: string): string {
  const text = name === "cmdline" ? "cmdline\n" : name === "graphical" ? "# Use graphical install\ngraphical\n" : "# Use text mode install\ntext\n";
  return _a.nonInteractive ? text.trimEnd() + " --non-interactive\n" : text;
}

/** Layouts of single commands, by class key. */
const SINGLE: Record<string, Writer> = {
  authselect: (a) => `# System authorization information\nauthselect ${list(a.options).map(shellQuote).join(" ")}\n`,
  // "join" is the only subcommand; pykickstart writes the rest of the line as it was given.
  realm: (a) => `# Realm or domain membership\nrealm join ${list(a.options).slice(1).join(" ")}\n`,
  authconfig: (a) => `# System authorization information\nauth ${list(a.options).map(shellQuote).join(" ")}\n`,
  autopart: (a) => `autopart${autopartArgs(a)}\n`,
  bootloader: (a) => `# System bootloader configuration\nbootloader${bootloaderArgs(a)}\n`,
  clearpart,
  displaymode,
  firewall,
  keyboard,
  lang: (a) => `# System language\nlang ${first(a.lang)}${lopt(a.addsupport, "addsupport")}\n`,
  reboot,
  rootpw,
  selinux: (a) => {
    const mode = ["--disabled", "--enforcing", "--permissive"][a.selinux as number];
    return mode ? `# SELinux configuration\nselinux ${mode}\n` : "";
  },
  services: (a) => {
    const r = qlopt(a.disabled, "disabled") + qlopt(a.enabled, "enabled");
    return r ? `# System services\nservices${r}\n` : "";
  },
  timezone,
  url,
  xconfig,
  zerombr: () => "# Clear the Master Boot Record\nzerombr\n",
};

/** Layouts of list commands: an optional header comment before the entries, and one line per entry. */
const LISTS: Record<string, { header?: string; line: Writer }> = {
  network: { header: "# Network information\n", line: (a) => `network ${networkArgs(a)}\n` },
  partition: { header: "# Disk partitioning information\n", line: (a) => `part ${first(a.mntpoint)}${partArgs(a)}\n` },
  repo: { line: repo },
  device: { line: (a) => `device ${String(a.moduleName)}${a.moduleOpts ? ` --opts="${String(a.moduleOpts)}"` : ""}\n` },
  user: { line: user },
  btrfs: {
    line: (a) => {
      let r = `btrfs ${s(a.mountpoint)}` + flag(a.format === false, "--noformat") + flag(a.preexist, "--useexisting") + qopt(a.label, "label");
      r += s(a.dataLevel) ? ` --data=${s(a.dataLevel).toLowerCase()}` : "";
      r += s(a.metaDataLevel) ? ` --metadata=${s(a.metaDataLevel).toLowerCase()}` : "";
      r += a.subvol ? ` --subvol --name=${s(a.name)}` : "";
      return r + qopt(a.mkfsopts, "mkfsoptions") + " " + list(a.devices).join(" ") + "\n";
    },
  },
  timesource: {
    line: (a) => {
      const r = opt(a.ntp_server, "ntp-server") + opt(a.ntp_pool, "ntp-pool") + flag(a.nts, "--nts") + flag(a.ntp_disable, "--ntp-disable");
      return r ? `timesource${r}\n` : "";
    },
  },
  group: { line: (a) => `group --name=${s(a.name)}${num(a.gid) ? ` --gid=${num(a.gid)}` : ""}\n` },
  sshkey: { line: (a) => `sshkey --username=${s(a.username)} "${first(a.sshkey)}"\n` },
};

export function writeSingle(key: string, c: RawCommand, opts: OptionSpec[], v: KickstartVersion): string {
  const w = SINGLE[key];
  return w ? w(c.args, c.name, v) : generic(c, opts);
}

export function writeList(key: string, cs: RawCommand[], opts: OptionSpec[], v: KickstartVersion): string {
  const w = LISTS[key];
  if (!w) return cs.map((c) => generic(c, opts)).join("");
  const body = cs.map((c) => w.line(c.args, c.name, v)).join("");
  return body && w.header ? w.header + body : body;
}

/** Any other command: positionals, then each option that differs from its default, in declaration order. */
function generic(c: RawCommand, opts: OptionSpec[]): string {
  let r = c.name;
  const done = new Set<string>();
  for (const o of opts.filter((x) => x.f.length === 0)) {
    const v = c.args[o.d];
    for (const w of Array.isArray(v) ? v : v === undefined ? [] : [v]) r += " " + shellQuote(String(w));
  }
  for (const o of opts.filter((x) => x.f.length > 0)) {
    const v = c.args[o.d];
    const f = o.f[0]!;
    if (o.k === "true" && v === true && o.c === true && !done.has(o.d)) r += " " + f;
    else if (o.k === "false" && v === false && !done.has(o.d)) r += " " + f;
    else if (o.k === "const" && v === o.c && v !== undefined) r += " " + f;
    else if (o.k === "appendConst" && Array.isArray(v) && v.includes(o.c)) r += " " + f;
    else if ((o.k === "store" || o.k === "append" || o.k === "extend") && v !== undefined && v !== o.df && !done.has(o.d)) {
      const vals = o.k === "append" ? (v as unknown[]) : [v];
      for (const x of vals) {
        if (Array.isArray(x) && x.length === 0) continue;
        r += ` ${f}=${shellQuote(Array.isArray(x) ? x.join(",") : String(x))}`;
      }
    } else continue;
    done.add(o.d);
  }
  return r + "\n";
}
