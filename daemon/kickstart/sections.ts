// Sections other than %packages: scripts (%pre, %pre-install, %post, %onerror, %traceback),
// %certificate, and %addon / %anaconda kept as text (with `%addon org_imgcreate` read into the model).

import type { OptionSpec } from "./grammar/types.js";
import type { KickstartModel, ScriptType, ImgcreateAddon } from "./model.js";
import type { KickstartVersion } from "./versions.js";
import type { DiagnosticSink } from "./diagnostics.js";
import { parseOptions } from "./options.js";
import { deprecatedOptionText } from "./messages.js";
import { readRepoKey, type NamedFileReader } from "./repo-keys.js";

export const SCRIPT_SECTIONS: Record<string, ScriptType> = {
  "%pre": "pre",
  "%pre-install": "pre-install",
  "%post": "post",
  "%onerror": "onerror",
  "%traceback": "traceback",
};

export const KNOWN_SECTIONS = new Set([...Object.keys(SCRIPT_SECTIONS), "%packages", "%certificate", "%addon", "%anaconda"]);

/** A section being read: its header and the body lines so far. */
export interface OpenSection {
  tag: string;
  words: string[];
  file: string;
  line: number;
  body: string[];
  /** False when its header had errors; the body is still consumed up to %end. */
  ok: boolean;
  /** Absolute path of the file holding the header (files it names resolve as %include names do). */
  abs?: string;
}

function scriptSpecs(tag: string): OptionSpec[] {
  const specs: OptionSpec[] = [
    { f: ["--erroronfail"], d: "erroronfail", k: "true", c: true },
    { f: ["--interpreter"], d: "interpreter", k: "store", df: "/bin/sh" },
    { f: ["--log", "--logfile"], d: "log", k: "store" },
  ];
  if (tag === "%post") specs.push({ f: ["--nochroot"], d: "nochroot", k: "true", c: true });
  return specs;
}

export function checkScriptHeader(s: OpenSection, version: KickstartVersion, sink: DiagnosticSink): Record<string, unknown> {
  const r = parseOptions(s.tag, s.words.slice(1), scriptSpecs(s.tag), (o) => deprecatedOptionText(s.line, o));
  for (const e of r.errors) sink.error(s.file, s.line, e);
  for (const w of r.warnings) sink.warning(s.file, s.line, w);
  if (r.errors.length) s.ok = false;
  if (s.tag === "%traceback" && version !== "RHEL7" && version !== "RHEL8") {
    sink.warning(s.file, s.line,
      "The %traceback section has been deprecated. It may be removed in the future, which will result in a fatal " +
      "error from kickstart. Please modify your kickstart file to use the %onerror section instead.");
  }
  return r.ns;
}

export function finishScript(m: KickstartModel, s: OpenSection, ns: Record<string, unknown>): void {
  const body = s.body.join("");
  // pykickstart drops scripts whose body is only whitespace; do the same so both agree on the list.
  if (body.trim() === "" || !s.ok) return;
  m.scripts.push({
    type: SCRIPT_SECTIONS[s.tag]!,
    interpreter: String(ns.interpreter ?? "/bin/sh"),
    nochroot: ns.nochroot === true,
    erroronfail: ns.erroronfail === true,
    ...(ns.log !== undefined ? { log: String(ns.log) } : {}),
    body,
    file: s.file,
    line: s.line,
  });
}

const CERT_SPECS: OptionSpec[] = [
  { f: ["--filename"], d: "filename", k: "store", r: true },
  { f: ["--dir"], d: "dir", k: "store" },
  { f: ["--type"], d: "type", k: "store" },
];

export function finishCertificate(m: KickstartModel, s: OpenSection, sink: DiagnosticSink): void {
  const r = parseOptions("%certificate", s.words.slice(1), CERT_SPECS, (o) => deprecatedOptionText(s.line, o));
  for (const e of r.errors) sink.error(s.file, s.line, e);
  if (!r.errors.length && r.ns.dir === undefined && r.ns.type === undefined) {
    sink.error(s.file, s.line, "%certificate needs --dir or --type to say where the certificate goes");
  }
  const cert = s.body.join("").replace(/\r?\n$/, "");
  if (r.errors.length || cert.trim() === "") return;
  (m.certificates ??= []).push({
    filename: String(r.ns.filename),
    ...(r.ns.dir !== undefined ? { dir: String(r.ns.dir) } : {}),
    ...(r.ns.type !== undefined ? { type: String(r.ns.type) } : {}),
    cert,
    file: s.file,
    line: s.line,
  });
}

export const IMGCREATE_ADDON = "org_imgcreate";
const ADDON_SPECS: OptionSpec[] = [
  { f: ["--suite"], d: "suite", k: "store" },
  { f: ["--components"], d: "components", k: "store", t: "comma" },
  { f: ["--variant"], d: "variant", k: "store" },
  { f: ["--mirror"], d: "mirror", k: "store" },
  { f: ["--repo-key"], d: "repo-key", k: "append" },
  { f: ["--network"], d: "network", k: "store" },
  { f: ["--backend"], d: "backend", k: "store" },
];

/** %addon / %anaconda: kept as text; `%addon org_imgcreate` also fills model.imgcreate. */
export function finishAddon(m: KickstartModel, s: OpenSection, sink: DiagnosticSink, read: NamedFileReader): void {
  const lines = s.body.map((l) => l.replace(/(\r\n|\n|\r)$/, ""));
  const isAddon = s.tag === "%addon";
  const name = isAddon ? (s.words[1] ?? "") : "anaconda";
  if (isAddon && name === "") {
    sink.error(s.file, s.line, "%addon needs the addon's name, e.g. %addon org_imgcreate --suite=bookworm");
    return;
  }
  const args = s.words.slice(isAddon ? 2 : 1);
  m.addons.push({ name, args, body: lines.join("\n"), section: s.tag, file: s.file, line: s.line });
  if (isAddon && name === IMGCREATE_ADDON) readImgcreateAddon(m, s, args, sink, read);
}

function readImgcreateAddon(m: KickstartModel, s: OpenSection, args: string[], sink: DiagnosticSink, read: NamedFileReader): void {
  const addon: ImgcreateAddon = { ...m.imgcreate, file: s.file, line: s.line };
  const addKey = (value: string, line: number) => {
    const k = readRepoKey(value, s.file, line, read, sink);
    if (k) addon.repoKeys = [...(addon.repoKeys ?? []), k];
  };
  const r = parseOptions(`%addon ${IMGCREATE_ADDON}`, args, ADDON_SPECS, () => "");
  for (const e of r.errors) sink.error(s.file, s.line, e);
  apply(addon, r.ns, s, s.line, sink);
  for (const v of (r.ns["repo-key"] as string[] | undefined) ?? []) addKey(v, s.line);
  s.body.forEach((raw, i) => {
    const text = raw.split("#")[0]!.trim();
    if (text === "") return;
    const line = s.line + 1 + i;
    const eq = /^([A-Za-z_-]+)\s*=\s*(.*)$/.exec(text);
    const spec = eq ? ADDON_SPECS.find((o) => o.d === eq[1]) : undefined;
    if (!eq || !spec) {
      sink.error(s.file, line, `unknown line in %addon ${IMGCREATE_ADDON}: '${text}'; write 'key = value' with key suite, components, variant, mirror, repo-key, network or backend`);
      return;
    }
    if (spec.d === "repo-key") return addKey(eq[2]!.trim(), line);
    apply(addon, { [spec.d]: spec.t === "comma" ? eq[2]!.split(",").map((x) => x.trim()).filter(Boolean) : eq[2]!.trim() }, s, line, sink);
  });
  m.imgcreate = addon;
}

function apply(addon: ImgcreateAddon, ns: Record<string, unknown>, s: OpenSection, line: number, sink: DiagnosticSink): void {
  if (typeof ns.network === "string") {
    if (ns.network === "none" || ns.network === "outbound") addon.network = ns.network;
    else sink.error(s.file, line, `%addon ${IMGCREATE_ADDON} --network must be none (the default: %post has no network) or outbound (%post may open connections to the outside, not to this host), not '${ns.network}'`);
  }
  if (typeof ns.backend === "string") {
    if (ns.backend === "apt" || ns.backend === "dnf") addon.backend = ns.backend;
    else sink.error(s.file, line, `%addon ${IMGCREATE_ADDON} --backend must be apt (Debian: mmdebstrap) or dnf (Fedora, CentOS, AlmaLinux, Rocky), not '${ns.backend}'`);
  }
  if (typeof ns.suite === "string") addon.suite = ns.suite;
  if (Array.isArray(ns.components)) addon.components = ns.components as string[];
  if (typeof ns.variant === "string") addon.variant = ns.variant;
  if (typeof ns.mirror === "string") addon.mirror = ns.mirror;
}
