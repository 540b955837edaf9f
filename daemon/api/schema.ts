// Parameter types of the API and their validation. Each type carries its D-Bus signature, so the
// introspection XML and the D-Bus adapter follow from the same declaration the checks use.
// Validation is cheap and side-effect free: it runs before polkit is asked anything.
import { ImgcreateError } from "../errors.js";

export type OptionType =
  | {
      t: "string";
      enum?: readonly string[];
      maxLen?: number;
      pattern?: RegExp;
      /** A value with a grammar of its own: returns its canonical form or throws InvalidArgs saying what is allowed. */
      canonical?: (s: string) => string;
      doc: string;
    }
  | { t: "boolean"; doc: string }
  | { t: "uint"; max: number; doc: string };

export type ParamType =
  | { t: "string"; sig: "s"; maxLen: number; nonEmpty?: boolean; absolute?: boolean }
  | { t: "strmap"; sig: "a{ss}"; maxEntries: number; maxValueLen: number }
  | { t: "strlist"; sig: "as"; nonEmpty?: boolean; maxEntries: number }
  | { t: "options"; sig: "a{sv}"; fields: Record<string, OptionType> }
  | { t: "uint"; sig: "u"; max: number };

export interface ParamDef {
  name: string;
  type: ParamType;
  doc: string;
}

const MiB = 1024 * 1024;
export const KICKSTART_MAX = 4 * MiB;

function bad(param: string, what: string): ImgcreateError {
  return new ImgcreateError("InvalidArgs", `argument "${param}": ${what}`, { param });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function checkString(name: string, v: unknown, maxLen: number): string {
  if (typeof v !== "string") throw bad(name, `expected a string, got ${describe(v)}`);
  if (v.length > maxLen) throw bad(name, `longer than ${maxLen} characters`);
  if (v.includes("\0")) throw bad(name, "contains a NUL character");
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}

/** Runs an option's own grammar, its InvalidArgs naming the option like every other check here. */
function canonical(where: string, fn: (s: string) => string, s: string): string {
  try {
    return fn(s);
  } catch (err) {
    if (err instanceof ImgcreateError && err.code === "InvalidArgs") throw bad(where, err.message);
    throw err;
  }
}

function checkOption(param: string, key: string, spec: OptionType, v: unknown): unknown {
  const where = `${param}.${key}`;
  switch (spec.t) {
    case "string": {
      const s = checkString(where, v, spec.maxLen ?? 256);
      if (spec.enum && !spec.enum.includes(s)) throw bad(where, `must be one of ${spec.enum.join(", ")}, got "${s}"`);
      if (spec.pattern && !spec.pattern.test(s)) throw bad(where, `"${s}" is not allowed (must match ${String(spec.pattern)})`);
      return spec.canonical ? canonical(where, spec.canonical, s) : s;
    }
    case "boolean":
      if (typeof v !== "boolean") throw bad(where, `expected a boolean, got ${describe(v)}`);
      return v;
    case "uint": {
      const n = typeof v === "bigint" ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > spec.max) throw bad(where, `expected an integer 0..${spec.max}`);
      return n;
    }
  }
}

/** Checks one parameter value against its type; returns the value in canonical form or throws InvalidArgs. */
export function checkParam(p: ParamDef, v: unknown): unknown {
  const ty = p.type;
  switch (ty.t) {
    case "string": {
      const s = checkString(p.name, v, ty.maxLen);
      if (ty.nonEmpty && s.trim() === "") throw bad(p.name, "must not be empty");
      if (ty.absolute && !s.startsWith("/")) throw bad(p.name, `must be an absolute path, got "${s}"`);
      return s;
    }
    case "uint":
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > ty.max) throw bad(p.name, `expected an integer 0..${ty.max}, got ${describe(v)}`);
      return v;
    case "strmap": {
      if (v === undefined) return {};
      if (!isPlainObject(v)) throw bad(p.name, `expected a map of strings, got ${describe(v)}`);
      const entries = Object.entries(v);
      if (entries.length > ty.maxEntries) throw bad(p.name, `more than ${ty.maxEntries} entries`);
      const out: Record<string, string> = {};
      for (const [k, val] of entries) out[checkString(`${p.name} key`, k, 4096)] = checkString(`${p.name}["${k}"]`, val, ty.maxValueLen);
      return out;
    }
    case "strlist": {
      if (!Array.isArray(v)) throw bad(p.name, `expected a list of strings, got ${describe(v)}`);
      if (v.length > ty.maxEntries) throw bad(p.name, `more than ${ty.maxEntries} entries`);
      if (ty.nonEmpty && v.length === 0) throw bad(p.name, "must not be empty");
      return v.map((s, i) => checkString(`${p.name}[${i}]`, s, 4096));
    }
    case "options": {
      if (v === undefined) return {};
      if (!isPlainObject(v)) throw bad(p.name, `expected a map of options, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      for (const [k, val] of Object.entries(v)) {
        const spec = ty.fields[k];
        if (!spec) {
          const known = Object.keys(ty.fields);
          throw bad(p.name, `unknown option "${k}"` + (known.length ? ` (known: ${known.join(", ")})` : " (this call takes none)"));
        }
        out[k] = checkOption(p.name, k, spec, val);
      }
      return out;
    }
  }
}

/** Validates named parameters: every declared one (options/maps may be absent), nothing else. */
export function checkParams(params: readonly ParamDef[], raw: Record<string, unknown>, extra: readonly string[] = []): Record<string, unknown> {
  if (!isPlainObject(raw)) throw new ImgcreateError("InvalidArgs", "parameters must be given by name, as an object");
  const out: Record<string, unknown> = {};
  for (const p of params) {
    const v = raw[p.name];
    if (v === undefined && p.type.t !== "options" && p.type.t !== "strmap") throw bad(p.name, "missing");
    out[p.name] = checkParam(p, v);
  }
  for (const k of Object.keys(raw)) {
    if (!params.some((p) => p.name === k) && !extra.includes(k)) throw bad(k, "unknown parameter");
  }
  return out;
}

export const T = {
  string: (maxLen = 256, more: { nonEmpty?: boolean; absolute?: boolean } = {}): ParamType => ({ t: "string", sig: "s", maxLen, ...more }),
  strmap: (maxEntries: number, maxValueLen: number): ParamType => ({ t: "strmap", sig: "a{ss}", maxEntries, maxValueLen }),
  strlist: (maxEntries: number, nonEmpty = false): ParamType => ({ t: "strlist", sig: "as", maxEntries, nonEmpty }),
  options: (fields: Record<string, OptionType>): ParamType => ({ t: "options", sig: "a{sv}", fields }),
  uint: (max: number): ParamType => ({ t: "uint", sig: "u", max }),
};
