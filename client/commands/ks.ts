// `imgcreate ks check|flatten|dump|plan`: the kickstart tool. Runs as the calling user and reads files with
// the user's rights; exit 0 when every file is valid, 1 when any has an error, 2 on usage errors.

import { readFileSync } from "node:fs";
import {
  parseKickstart, flatten, formatDiagnostic, hasErrors, normalizeVersion, versions, transactionPlan, formatPlan, type Diagnostic,
} from "../../daemon/kickstart/index.js";

type Sink = ((s: string) => void) | { write: (s: string) => unknown };

export interface KsIo {
  stdout: Sink;
  stderr: Sink;
  cwd: string;
  /** Optional reader (tests, or a caller with its own); default: node:fs as this process's user. */
  readFile?: (absPath: string) => string | undefined;
}

const USAGE = `usage: imgcreate ks check [--version V] FILE...
       imgcreate ks flatten [--version V] FILE
       imgcreate ks dump [--version V] FILE
       imgcreate ks plan [--version V] [--releasever R] [--json] FILE
versions: ${versions.join(", ")} (default: the file's #version= line, else DEVEL)
`;

const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;

function writer(s: Sink): (text: string) => void {
  return typeof s === "function" ? s : (text) => void s.write(text);
}

function fsReader(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

interface Args {
  sub: string;
  version?: string;
  releasever?: string;
  json?: boolean;
  files: string[];
}

function parseArgs(argv: string[]): Args | string {
  const [sub, ...rest] = argv;
  if (sub === undefined) return "missing subcommand";
  if (!["check", "flatten", "dump", "plan"].includes(sub)) return `unknown subcommand '${sub}'`;
  const out: Args = { sub, files: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--version" || a === "-v") {
      const v = rest[++i];
      if (v === undefined) return `${a} needs a value`;
      out.version = v;
    } else if (a.startsWith("--version=")) out.version = a.slice("--version=".length);
    else if (sub === "plan" && a === "--json") out.json = true;
    else if (sub === "plan" && a === "--releasever") {
      const v = rest[++i];
      if (v === undefined) return `${a} needs a value`;
      out.releasever = v;
    } else if (sub === "plan" && a.startsWith("--releasever=")) out.releasever = a.slice("--releasever=".length);
    else if (a === "--") out.files.push(...rest.slice(i + 1)), (i = rest.length);
    else if (a.startsWith("-") && a !== "-") return `unknown option '${a}'`;
    else out.files.push(a);
  }
  if (out.version !== undefined && !normalizeVersion(out.version)) {
    return `unsupported version '${out.version}'; use one of ${versions.join(", ")}`;
  }
  if (out.files.length === 0) return `${sub} needs a kickstart file`;
  if (sub !== "check" && out.files.length > 1) return `${sub} takes exactly one file`;
  return out;
}

export async function runKs(argv: string[], io: KsIo): Promise<number> {
  const out = writer(io.stdout);
  const err = writer(io.stderr);
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    out(USAGE);
    return EXIT_OK;
  }
  const args = parseArgs(argv);
  if (typeof args === "string") {
    err(`imgcreate ks: ${args}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const readFile = io.readFile ?? fsReader;
  const parse = (file: string) =>
    parseKickstart(file, { readFile, cwd: io.cwd, ...(args.version !== undefined ? { version: args.version } : {}) });
  const print = (ds: Diagnostic[], to: (s: string) => void) => {
    for (const d of ds) to(formatDiagnostic(d) + "\n");
  };

  if (args.sub === "check") {
    let bad = false;
    for (const file of args.files) {
      const r = parse(file);
      print(r.diagnostics, out);
      bad ||= hasErrors(r.diagnostics);
    }
    return bad ? EXIT_INVALID : EXIT_OK;
  }
  const r = parse(args.files[0]!);
  print(r.diagnostics, err);
  if (hasErrors(r.diagnostics)) return EXIT_INVALID;
  if (args.sub === "plan") {
    const p = transactionPlan(r.model, args.releasever !== undefined ? { releasever: args.releasever } : {});
    if ("conflict" in p) {
      err(formatDiagnostic({ file: p.conflict.file, line: p.conflict.line, severity: "error", message: p.conflict.message }) + "\n");
      return EXIT_INVALID;
    }
    out(args.json ? JSON.stringify(p.plan, null, 2) + "\n" : formatPlan(p.plan));
    return EXIT_OK;
  }
  out(args.sub === "flatten" ? flatten(r.model) : JSON.stringify(r.model, null, 2) + "\n");
  return EXIT_OK;
}
