// Command-line parsing driven by the help table (help.ts), on top of node's util.parseArgs.
// Global options may appear anywhere before `--`; everything after `--` is passed through untouched
// (the command run by `shell ID -- COMMAND...`).
import { parseArgs } from "node:util";
import { COMMANDS, GLOBAL_OPTIONS, findCommand, type CommandSpec, type OptionSpec } from "./help.js";
import { usageError } from "./errors.js";

export interface Globals {
  transport?: "dbus" | "socket";
  socket?: string;
  json: boolean;
  help: boolean;
}

export interface ParsedCommand {
  spec?: CommandSpec;
  globals: Globals;
  /** Option values by long name: string for options with a value, true for flags. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Words after `--`. */
  passthrough: string[];
  /** `imgcreate ks ...`: the raw words after `ks` go to runKs unparsed. */
  ks?: { argv: string[] };
}

type ParseArgsOptions = Record<string, { type: "string" | "boolean"; short?: string }>;

export function toParseArgsOptions(specs: OptionSpec[]): ParseArgsOptions {
  const out: ParseArgsOptions = {};
  for (const o of specs) out[o.name] = { type: o.arg ? "string" : "boolean", ...(o.short ? { short: o.short } : {}) };
  return out;
}

/** Takes the global options out of argv wherever they are; returns them and the remaining words. */
function extractGlobals(argv: string[]): { globals: Globals; rest: string[] } {
  const globals: Globals = { json: false, help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith("--") ? splitInline(a) : [a, undefined];
    if (flag === "--json") globals.json = true;
    else if (flag === "--help" || flag === "-h") globals.help = true;
    else if (flag === "--transport" || flag === "--socket") {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw usageError(`${flag} needs a value`);
      if (flag === "--socket") globals.socket = v;
      else if (v === "dbus" || v === "socket") globals.transport = v;
      else throw usageError(`--transport must be dbus or socket, not '${v}'`);
    } else rest.push(a);
  }
  return { globals, rest };
}

function splitInline(a: string): [string, string | undefined] {
  const eq = a.indexOf("=");
  return eq < 0 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1)];
}

/** How many positional arguments a synopsis like "ID [-- COMMAND...]" or "FILE..." wants. */
export function arity(args: string): { min: number; max: number } {
  const words = args.replace(/\[.*?\]/g, "").trim().split(/\s+/).filter(Boolean);
  const variadic = words.some((w) => w.endsWith("..."));
  return { min: words.length, max: variadic ? Infinity : words.length };
}

export function parseCommandLine(argv: string[]): ParsedCommand {
  const dash = argv.indexOf("--");
  const head = dash < 0 ? argv : argv.slice(0, dash);
  const passthrough = dash < 0 ? [] : argv.slice(dash + 1);

  // `ks` belongs to the kickstart tool, which parses its own arguments.
  const firstWord = head.findIndex((a) => !a.startsWith("-"));
  if (firstWord >= 0 && head[firstWord] === "ks") {
    const { globals } = extractGlobals(head.slice(0, firstWord));
    return { globals, values: {}, positionals: [], passthrough, ks: { argv: argv.slice(firstWord + 1) } };
  }

  const { globals, rest } = extractGlobals(head);
  const words: string[] = [];
  for (const a of rest) {
    if (a.startsWith("-")) break;
    words.push(a);
  }
  const found = findCommand(words);
  if (!found) {
    if (words.length === 0) {
      if (globals.help) return { globals, values: {}, positionals: [], passthrough };
      throw usageError(rest.length ? `unknown option '${rest[0]}'` : "no command given");
    }
    throw usageError(`unknown command '${words.slice(0, words[0] === "session" ? 2 : 1).join(" ")}'${suggest(words)}`);
  }
  const { spec } = found;
  const afterPath = rest.slice(spec.path.length);
  if (globals.help) return { spec, globals, values: {}, positionals: [], passthrough };

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: afterPath, options: toParseArgsOptions(spec.options), allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(cleanParseArgsMessage(err), spec.path);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  checkChoices(spec, values);
  const { min: needed, max } = arity(spec.args);
  const min = spec.optionalWith !== undefined && parsed.values[spec.optionalWith] !== undefined ? 0 : needed;
  const positionals = parsed.positionals;
  if (positionals.length < min) throw usageError(`missing ${spec.args.split(" ")[positionals.length] ?? "argument"}`, spec.path);
  if (positionals.length > max) throw usageError(`unexpected argument '${positionals[max]}'`, spec.path);
  if (passthrough.length && !spec.args.includes("--")) throw usageError(`\`imgcreate ${spec.path.join(" ")}\` takes nothing after --`, spec.path);
  return { spec, globals, values, positionals, passthrough };
}

function checkChoices(spec: CommandSpec, values: Record<string, string | boolean | undefined>): void {
  for (const o of spec.options) {
    const v = values[o.name];
    if (o.choices && typeof v === "string" && !o.choices.includes(v)) {
      throw usageError(`--${o.name} must be one of ${o.choices.join(", ")}, not '${v}'`, spec.path);
    }
  }
}

function cleanParseArgsMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // util.parseArgs adds advice about "--" that does not apply to us; keep the first sentence.
  return msg.split(/\.\s/)[0]!.replace(/^Unknown option/, "unknown option").replace(/^Option/, "option");
}

function suggest(words: string[]): string {
  const first = words[0]!;
  const near = [...new Set(COMMANDS.map((c) => c.path[0]!))].filter((w) => distance(w, first) <= 2);
  return near.length ? `; did you mean ${near.map((n) => `'${n}'`).join(" or ")}?` : "";
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export { GLOBAL_OPTIONS };
