// Fills the typed fields of the model from the parsed commands (pykickstart's dest names -> ours).

import type { KickstartModel, RawCommand, Located } from "./model.js";
import type { DiagnosticSink } from "./diagnostics.js";
import { moduleText } from "./packages.js";

type Raw = Map<string, RawCommand | RawCommand[]>;
type A = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const firstOf = (v: unknown): string | undefined => (Array.isArray(v) ? str(v[0]) : str(v));
const loc = (r: RawCommand): Located => ({ file: r.file, line: r.line });

/** Copies defined values only, so optional fields stay absent rather than `undefined`. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function single(raw: Raw, key: string): RawCommand | undefined {
  const r = raw.get(key);
  return Array.isArray(r) ? undefined : r;
}

function list(raw: Raw, key: string): RawCommand[] {
  const r = raw.get(key);
  return Array.isArray(r) ? r : [];
}

const SELINUX = ["disabled", "enforcing", "permissive"] as const;

export function buildTypedFields(m: KickstartModel, raw: Raw, _sink: DiagnosticSink): void {
  sortPackages(m);
  buildSingles(m, raw);
  buildLists(m, raw);
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** %packages lists in pykickstart's canonical order (sorted by name), so flatten round-trips exactly. */
function sortPackages(m: KickstartModel): void {
  const p = m.packages;
  p.packages.sort(byName);
  p.excludedPackages.sort(byName);
  p.groups.sort(byName);
  p.excludedGroups.sort(byName);
  const text = (x: { name: string; stream?: string; profile?: string }) => moduleText(x);
  p.modules.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}

function buildSingles(m: KickstartModel, raw: Raw): void {
  const on = (key: string, f: (a: A, r: RawCommand) => void): void => {
    const r = single(raw, key);
    if (r) f(r.args, r);
  };
  on("lang", (a, r) => (m.lang = { ...loc(r), lang: firstOf(a.lang) ?? "", addsupport: strs(a.addsupport) }));
  on("keyboard", (a, r) => {
    m.keyboard = defined({ ...loc(r), keymap: firstOf(a.kbd), vckeymap: str(a.vc_keymap) || undefined, xlayouts: strs(a.x_layouts) });
  });
  on("timezone", (a, r) => {
    m.timezone = defined({ ...loc(r), timezone: firstOf(a.timezone), utc: a.isUtc === true, ntpservers: strs(a.ntpservers), nontp: a.nontp === true });
  });
  on("authselect", (a, r) => (m.authselect = { ...loc(r), args: strs(a.options) }));
  on("firewall", (a, r) => {
    m.firewall = {
      ...loc(r), enabled: a.enabled !== false, services: strs(a.services), removeServices: strs(a.remove_services),
      ports: strs(a.ports), trusts: strs(a.trusts),
    };
  });
  on("selinux", (a, r) => {
    const mode = SELINUX[a.selinux as number];
    if (mode) m.selinux = { ...loc(r), mode };
  });
  on("rootpw", (a, r) => {
    m.rootpw = defined({ ...loc(r), password: str(a.password), iscrypted: a.isCrypted === true, lock: a.lock === true, allowSsh: a.allow_ssh === true });
  });
  on("services", (a, r) => (m.services = { ...loc(r), enabled: strs(a.enabled), disabled: strs(a.disabled) }));
  on("xconfig", (a, r) => (m.xconfig = defined({ ...loc(r), startxonboot: a.startX === true, defaultdesktop: str(a.defaultdesktop) })));
  on("bootloader", (a, r) => {
    m.bootloader = defined({
      ...loc(r), append: str(a.appendLine), timeout: num(a.timeout), default: str(a.default) || undefined,
      location: str(a.location), disabled: a.disabled === true,
    });
  });
  on("url", (a, r) => (m.url = defined({ ...loc(r), url: str(a.url), mirrorlist: str(a.mirrorlist), metalink: str(a.metalink) })));
}

function buildLists(m: KickstartModel, raw: Raw): void {
  m.users = list(raw, "user").map((r) => {
    const a = r.args;
    return defined({
      ...loc(r), name: str(a.name) ?? "", password: str(a.password), iscrypted: a.isCrypted === true, lock: a.lock === true,
      groups: strs(a.groups), uid: num(a.uid), gid: num(a.gid), homedir: str(a.homedir), shell: str(a.shell), gecos: str(a.gecos),
    });
  });
  m.groups = list(raw, "group").map((r) => defined({ ...loc(r), name: str(r.args.name) ?? "", gid: num(r.args.gid) }));
  m.sshkeys = list(raw, "sshkey").map((r) => ({ ...loc(r), username: str(r.args.username) ?? "", key: firstOf(r.args.sshkey) ?? "" }));
  m.network = list(raw, "network").map((r) => {
    const a = r.args;
    return defined({
      ...loc(r), hostname: str(a.hostname), device: str(a.device), bootproto: str(a.bootProto),
      activate: typeof a.activate === "boolean" ? a.activate : undefined, onboot: typeof a.onboot === "boolean" ? a.onboot : undefined,
      ip: str(a.ip), netmask: str(a.netmask), gateway: str(a.gateway), nameserver: str(a.nameserver), ipv6: str(a.ipv6),
      noipv4: a.noipv4 === true, noipv6: a.noipv6 === true,
    });
  });
  m.parts = list(raw, "partition").map((r) => {
    const a = r.args;
    return defined({
      ...loc(r), mountpoint: firstOf(a.mntpoint) ?? "", sizeMiB: num(a.size), fstype: str(a.fstype) || undefined,
      label: str(a.label), fsoptions: str(a.fsopts), grow: a.grow === true, maxsizeMiB: num(a.maxSizeMB), ondisk: str(a.disk),
    });
  });
  m.repos = list(raw, "repo").map((r) => {
    const a = r.args;
    return defined({
      ...loc(r), name: str(a.name) ?? "", baseurl: str(a.baseurl), mirrorlist: str(a.mirrorlist), metalink: str(a.metalink),
      cost: num(a.cost), includepkgs: strs(a.includepkgs), excludepkgs: strs(a.excludepkgs), proxy: str(a.proxy),
      noverifyssl: a.noverifyssl === true, install: a.install === true,
    });
  });
  for (const r of list(raw, "module")) {
    m.packages.modules.push(defined({
      ...loc(r), name: str(r.args.name) ?? "", stream: str(r.args.stream), enabled: r.args.enable !== false, source: "command" as const,
    }));
  }
}
