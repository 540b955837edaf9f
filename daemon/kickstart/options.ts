// argparse-style option parsing for one command line, driven by a command's OptionSpec list:
// `--opt=v` and `--opt v`, options anywhere among positionals, unique-prefix abbreviations,
// store/true/false/const/append kinds, int / comma-list / kickstart-boolean / mount-point types.

import type { OptionSpec } from "./grammar/types.js";

export type Namespace = Record<string, unknown>;

export interface OptionResult {
  ns: Namespace;
  /** Options as written, in order (for pykickstart-style messages and flatten of generic commands). */
  seen: string[];
  /** Positional words left over, when the caller accepts free positionals. */
  extra: string[];
  errors: string[];
  warnings: string[];
}

const BOOL_TRUE = new Set(["on", "yes", "true", "1"]);
const BOOL_FALSE = new Set(["off", "no", "false", "0"]);

function looksLikeOption(tok: string): boolean {
  return tok.length > 1 && tok.startsWith("-") && !/^-\d/.test(tok);
}

/** Resolves an option string, allowing an unambiguous prefix of a long option. */
function resolveFlag(cmd: string, flag: string, specs: OptionSpec[]): { spec?: OptionSpec; flag?: string; error?: string } {
  for (const s of specs) if (s.f.includes(flag)) return { spec: s, flag };
  const unknown = `unknown option ${flag} for ${cmd}; it takes ${listFlags(specs)}`;
  if (!flag.startsWith("--")) return { error: unknown };
  const matches: { spec: OptionSpec; flag: string }[] = [];
  for (const s of specs) for (const f of s.f) if (f.startsWith(flag)) matches.push({ spec: s, flag: f });
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    return { error: `ambiguous option ${flag} for ${cmd}: it could be ${matches.map((m) => m.flag).join(", ")}; write it out in full` };
  }
  return { error: unknown };
}

export function convert(value: string, spec: OptionSpec, label: string): { value?: unknown; error?: string } {
  switch (spec.t) {
    case "int":
      if (!/^\s*[+-]?\d+\s*$/.test(value)) return { error: `${label} needs a whole number, not '${value}'` };
      return { value: parseInt(value, 10) };
    case "comma":
      return { value: value.split(",").map((v) => v.trim()).filter((v) => v !== "") };
    case "bool": {
      const v = value.toLowerCase();
      if (BOOL_TRUE.has(v)) return { value: true };
      if (BOOL_FALSE.has(v)) return { value: false };
      return { error: `${label} needs on/off, yes/no, true/false or 1/0, not '${value}'` };
    }
    case "mountpoint":
      return { value: value.startsWith("/") ? normalizePath(value) : value };
    default:
      if (spec.ch && !spec.ch.includes(value)) {
        return { error: `${label} must be one of ${spec.ch.join(", ")}, not '${value}'` };
      }
      return { value };
  }
}

/** os.path.normpath for absolute paths: collapse //, /./ and /../ . */
function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

export function defaults(specs: OptionSpec[]): Namespace {
  const ns: Namespace = {};
  for (const s of specs) {
    if (s.d in ns && ns[s.d] !== undefined) continue;
    if (s.df !== undefined) ns[s.d] = Array.isArray(s.df) ? [...s.df] : s.df;
    else if (s.k === "true") ns[s.d] = false;
    else if (s.k === "false") ns[s.d] = true;
    else ns[s.d] = undefined;
  }
  return ns;
}

export function parseOptions(
  cmd: string, args: string[], specs: OptionSpec[], deprecatedText: (opt: string) => string, freePositionals = false,
): OptionResult {
  const ns = defaults(specs);
  const res: OptionResult = { ns, seen: [], errors: [], warnings: [], extra: [] };
  const positionals: string[] = [];
  const flagged = specs.filter((s) => s.f.length > 0);
  let i = 0;
  while (i < args.length) {
    const tok = args[i]!;
    i++;
    if (!looksLikeOption(tok)) {
      positionals.push(tok);
      continue;
    }
    const eq = tok.indexOf("=");
    const written = eq >= 0 ? tok.slice(0, eq) : tok;
    const inline = eq >= 0 ? tok.slice(eq + 1) : undefined;
    const r = resolveFlag(cmd, written, flagged);
    if (!r.spec) {
      res.errors.push(r.error!);
      continue;
    }
    const spec = r.spec;
    res.seen.push(r.flag!);
    if (spec.dep) res.warnings.push(deprecatedText(written));
    if (spec.k === "true" || spec.k === "false" || spec.k === "const" || spec.k === "appendConst") {
      if (inline !== undefined) {
        res.errors.push(`${r.flag} takes no value (remove '=${inline}')`);
        continue;
      }
      if (spec.k === "appendConst") ns[spec.d] = [...((ns[spec.d] as unknown[]) ?? []), spec.c];
      else ns[spec.d] = spec.k === "true" ? true : spec.k === "false" ? false : spec.c;
      continue;
    }
    // Options that take values.
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else if (spec.n === "?" ) {
      if (i < args.length && !looksLikeOption(args[i]!)) values.push(args[i++]!);
    } else if (spec.n === "*" || spec.n === "+") {
      while (i < args.length && !looksLikeOption(args[i]!)) values.push(args[i++]!);
    } else {
      const count = typeof spec.n === "number" ? spec.n : 1;
      while (values.length < count && i < args.length && !looksLikeOption(args[i]!)) values.push(args[i++]!);
      if (values.length < count) {
        res.errors.push(`${r.flag} needs a value (write ${r.flag}=VALUE)`);
        continue;
      }
    }
    if (spec.n === "+" && values.length === 0) {
      res.errors.push(`${r.flag} needs at least one value`);
      continue;
    }
    const converted: unknown[] = [];
    let bad = false;
    for (const v of values) {
      const c = convert(v, spec, r.flag!);
      if (c.error) {
        res.errors.push(c.error);
        bad = true;
      } else converted.push(c.value);
    }
    if (bad) continue;
    store(ns, spec, converted);
  }
  assignPositionals(cmd, positionals, specs.filter((s) => s.f.length === 0), ns, res, freePositionals);
  for (const s of flagged) {
    if (s.r && !specs.some((o) => o.d === s.d && res.seen.some((f) => o.f.includes(f)))) {
      res.errors.push(`${cmd} needs ${s.f.join(" or ")}`);
    }
  }
  return res;
}

function store(ns: Namespace, spec: OptionSpec, values: unknown[]): void {
  const single = spec.n === undefined || spec.n === "?";
  const v = single ? (values.length ? values[0] : spec.c) : values;
  if (spec.k === "append") ns[spec.d] = [...((ns[spec.d] as unknown[]) ?? []), v];
  else if (spec.k === "extend") {
    // Extend options take comma-separated lists ("--port=22:tcp,80:tcp").
    const items = Array.isArray(v) ? v : String(v).split(",").map((x) => x.trim()).filter((x) => x !== "");
    ns[spec.d] = [...((ns[spec.d] as unknown[]) ?? []), ...items];
  }
  else ns[spec.d] = v;
}

function assignPositionals(
  cmd: string, words: string[], specs: OptionSpec[], ns: Namespace, res: OptionResult, free: boolean,
): void {
  let i = 0;
  for (const s of specs) {
    const rest = words.length - i;
    let take: number;
    if (s.n === "*") take = rest;
    else if (s.n === "+") take = rest;
    else if (s.n === "?") take = Math.min(rest, 1);
    else take = typeof s.n === "number" ? s.n : 1;
    if (take > rest || (s.n === "+" && take === 0)) {
      res.errors.push(`${cmd} needs ${describePositional(s)}`);
      return;
    }
    const vals: unknown[] = [];
    for (const w of words.slice(i, i + take)) {
      const c = convert(w, s, `${cmd}'s ${s.d}`);
      if (c.error) res.errors.push(c.error);
      else vals.push(c.value);
    }
    i += take;
    if (s.n === undefined || s.n === "?") ns[s.d] = vals.length ? vals[0] : ns[s.d];
    else ns[s.d] = vals;
  }
  if (i < words.length && free) {
    res.extra = words.slice(i);
  } else if (i < words.length) {
    const extra = words.slice(i).join(" ");
    res.errors.push(
      specs.length === 0
        ? `${cmd} takes no arguments besides options, but got '${extra}'`
        : `unexpected extra arguments to ${cmd}: '${extra}'`,
    );
  }
}

function describePositional(s: OptionSpec): string {
  const names: Record<string, string> = { mntpoint: "a mount point", lang: "a language", timezone: "a time zone", password: "a password" };
  return names[s.d] ?? `a value for ${s.d}`;
}

function listFlags(specs: OptionSpec[]): string {
  const all = specs.flatMap((s) => s.f);
  return all.length ? all.join(", ") : "no options";
}
