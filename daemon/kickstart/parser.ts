// The kickstart state machine: commands, sections closed by %end, %include at top level and inside
// sections. Pure: files are read only through the given readFile.

import type { KickstartModel, RawCommand } from "./model.js";
import { emptyModel } from "./model.js";
import { shlexSplit } from "./lexer.js";
import { LineReader, type ReadFile, type SourceLine } from "./reader.js";
import { DiagnosticSink, type Diagnostic } from "./diagnostics.js";
import { DEFAULT_VERSION, normalizeVersion, unsupportedVersionMessage, type KickstartVersion } from "./versions.js";
import { runCommand } from "./commands.js";
import { buildTypedFields } from "./build.js";
import { handlePackagesHeader, PackageLists } from "./packages.js";
import { checkRepoKeys, type NamedFileReader } from "./repo-keys.js";
import { chooseBackend } from "./backend-choice.js";
import {
  KNOWN_SECTIONS, SCRIPT_SECTIONS, checkScriptHeader, finishAddon, finishCertificate, finishScript, type OpenSection,
} from "./sections.js";

export interface ParseOptions {
  /** Reads a file by absolute path; undefined when it does not exist or cannot be read. */
  readFile: ReadFile;
  /** Kickstart version; when absent, the root file's `#version=` line, else DEVEL. */
  version?: string;
  /** Directory relative names are resolved against (first for %include too). Default "/". */
  cwd?: string;
}

export interface ParseResult {
  model: KickstartModel;
  diagnostics: Diagnostic[];
  /** Every file read, by the absolute path it was asked for, with its text. */
  files: Record<string, string>;
}

const MAX_INCLUDE_DEPTH = 32;

interface State {
  reader: LineReader;
  readFile: ReadFile;
  sink: DiagnosticSink;
  model: KickstartModel;
  version: KickstartVersion;
  raw: Map<string, RawCommand | RawCommand[]>;
  files: Record<string, string>;
  packageLists: PackageLists;
  section?: OpenSection & { depth: number; ns?: Record<string, unknown> };
}

export function parseKickstart(file: string, opts: ParseOptions): ParseResult {
  const sink = new DiagnosticSink();
  const reader = new LineReader(opts.cwd ?? "/");
  const abs = reader.absolute(file);
  const text = opts.readFile(abs);
  const files: Record<string, string> = {};
  if (text === undefined) {
    sink.error(reader.display(abs), 0, `cannot read kickstart file ${file}: it does not exist or is not readable`);
    return { model: emptyModel(opts.version ?? DEFAULT_VERSION), diagnostics: sink.list, files };
  }
  files[abs] = text;
  const version = chooseVersion(opts.version, text, reader.display(abs), sink);
  const model = emptyModel(version);
  const st: State = { reader, readFile: opts.readFile, sink, model, version, raw: new Map(), files, packageLists: new PackageLists(model.packages) };
  reader.push(abs, text);
  run(st);
  st.packageLists.finish();
  st.model.commands = Object.fromEntries(st.raw);
  buildTypedFields(st.model, st.raw, sink);
  checkRepoKeys(st.model, sink);
  const mixed = chooseBackend(st.model).conflict;
  if (mixed) sink.error(mixed.file, mixed.line, mixed.message);
  return { model: st.model, diagnostics: sink.list, files };
}

function chooseVersion(given: string | undefined, text: string, file: string, sink: DiagnosticSink): KickstartVersion {
  if (given !== undefined) {
    const v = normalizeVersion(given);
    if (v) return v;
    sink.error(file, 0, unsupportedVersionMessage(given));
    return DEFAULT_VERSION;
  }
  // Like pykickstart's versionFromFile: the first line starting with "#version=" anywhere in the root file.
  const lines = text.split(/\r\n|\n|\r/);
  const i = lines.findIndex((l) => l.startsWith("#version="));
  if (i < 0) return DEFAULT_VERSION;
  const named = lines[i]!.slice(9).trim();
  const v = normalizeVersion(named);
  if (v) return v;
  sink.error(file, i + 1, unsupportedVersionMessage(named) + ", or pass --version");
  return DEFAULT_VERSION;
}

function run(st: State): void {
  for (;;) {
    const ev = st.reader.next();
    if (ev.kind === "done") break;
    if (ev.kind === "eof") {
      closeAtEof(st, ev.depth);
      continue;
    }
    if (st.section) sectionLine(st, ev.line);
    else commandLine(st, ev.line);
  }
  if (st.section) closeAtEof(st, 0);
}

/** A section must be closed in the file that opened it; report it at its header, where the fix goes. */
function closeAtEof(st: State, closedDepth: number): void {
  const s = st.section;
  // A section opened in an outer file continues after an %include inside it ended.
  if (!s || s.depth < closedDepth) return;
  st.sink.error(s.file, s.line, `${s.tag} section does not end with %end before the end of ${s.file}; add %end after its last line`);
  finishSection(st);
}

function commandLine(st: State, l: SourceLine): void {
  const trimmed = l.text.trimStart();
  if (trimmed === "" || trimmed.startsWith("#")) return;
  const split = shlexSplit(l.text, true);
  if (!split.ok) {
    st.sink.error(l.file, l.line, split.message);
    // A broken section header still opens its section, so its body is not read as commands.
    const tag = trimmed.split(/\s+/)[0]!;
    if (KNOWN_SECTIONS.has(tag)) st.section = { tag, words: [tag], file: l.file, line: l.line, body: [], ok: false, depth: l.depth };
    return;
  }
  const words = split.words;
  if (words.length === 0) return;
  const head = words[0]!;
  if (head === "%include") return include(st, words, l);
  if (head === "%ksappend") return st.sink.warning(l.file, l.line, "%ksappend is not supported and was ignored; use %include");
  if (head === "%end") return st.sink.error(l.file, l.line, "%end without an open section; remove it or add the section header above");
  if (head.startsWith("%")) return openSection(st, words, l);
  runCommand(st.version, words, l, st.raw, st.sink);
}

function openSection(st: State, words: string[], l: SourceLine): void {
  const tag = words[0]!;
  const known = KNOWN_SECTIONS.has(tag);
  if (!known) st.sink.error(l.file, l.line, `Unknown kickstart section: ${tag}; known sections are ${[...KNOWN_SECTIONS].join(", ")}`);
  st.section = { tag, words, file: l.file, line: l.line, body: [], ok: known, depth: l.depth, abs: st.reader.currentAbs() };
  if (tag === "%packages") {
    handlePackagesHeader(st.model.packages, words, st.version, l.file, l.line, st.sink);
  } else if (tag in SCRIPT_SECTIONS) {
    st.section.ns = checkScriptHeader(st.section, st.version, st.sink);
  }
}

function sectionLine(st: State, l: SourceLine): void {
  const s = st.section!;
  const lead = l.text.trimStart();
  if (lead.startsWith("%")) {
    const first = lead.split(/\s+/)[0]!;
    if (first === "%end" || first === "%include" || KNOWN_SECTIONS.has(first)) {
      const split = shlexSplit(l.text, false);
      if (!split.ok) return st.sink.error(l.file, l.line, split.message);
      const words = split.words;
      if (words[0] === "%end") return finishSection(st);
      if (words[0] === "%include") return include(st, words, l);
      st.sink.error(s.file, s.line, `${s.tag} section does not end with %end before the ${first} at ${l.file}:${l.line}; add %end`);
      finishSection(st);
      return commandLine(st, l);
    }
  }
  if (s.tag === "%packages") {
    if (s.ok) st.packageLists.line(l.text, l.file, l.line, st.sink);
    return;
  }
  s.body.push(l.raw);
}

function finishSection(st: State): void {
  const s = st.section!;
  st.section = undefined;
  if (!s.ok) return;
  if (s.tag in SCRIPT_SECTIONS) finishScript(st.model, s, s.ns ?? {});
  else if (s.tag === "%certificate") finishCertificate(st.model, s, st.sink);
  else if (s.tag === "%addon" || s.tag === "%anaconda") finishAddon(st.model, s, st.sink, (name) => readNamed(st, name, s.abs));
}

/** Reads a file the kickstart names (as %include looks for it) and records it in `files`, which the client sends. */
function readNamed(st: State, name: string, fromAbs: string | undefined): ReturnType<NamedFileReader> {
  const candidates = st.reader.candidatesFrom(name, fromAbs);
  for (const abs of candidates) {
    const text = st.files[abs] ?? st.readFile(abs);
    if (text === undefined) continue;
    st.files[abs] = text;
    return { abs, text };
  }
  return { tried: candidates.map((c) => st.reader.display(c)) };
}

function include(st: State, words: string[], l: SourceLine): void {
  const name = words[1];
  if (name === undefined || name === "") {
    return st.sink.error(l.file, l.line, "%include needs a file name, e.g. %include fedora-repo.ks");
  }
  if (st.reader.depth + 1 >= MAX_INCLUDE_DEPTH) {
    return st.sink.error(l.file, l.line, `%include nested deeper than ${MAX_INCLUDE_DEPTH} files; is there a loop?`);
  }
  const got = readNamed(st, name, st.reader.currentAbs());
  if ("tried" in got) return st.sink.error(l.file, l.line, `cannot read %include file ${name}: looked for ${got.tried.join(" or ")}`);
  const chain = st.reader.chain();
  if (chain.includes(got.abs)) {
    const cycle = [...chain.slice(chain.indexOf(got.abs)), got.abs].map((f) => st.reader.display(f)).join(" -> ");
    return st.sink.error(l.file, l.line, `%include cycle: ${cycle}; remove one of these includes`);
  }
  st.reader.push(got.abs, got.text);
}
