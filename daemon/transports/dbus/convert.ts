// Between dbus-next's values (Variants, bigints) and the plain values the API works with.
import dbus from "dbus-next";

const { Variant } = dbus;

/** A plain value as a Variant of the given signature (t/x as bigint, as dbus-next wants). */
export function toVariant(sig: string, value: unknown): dbus.Variant {
  return new Variant(sig, toDbusValue(sig, value));
}

/**
 * A plain result as dbus-next wants it for sig: 64-bit integers (t, x) as bigint, also inside arrays
 * (a...), dicts (a{..}, by their values) and structs ((...)); everything else as it is.
 */
export function toDbusValue(sig: string, value: unknown): unknown {
  if (sig === "t" || sig === "x") return BigInt(Math.floor(Number(value)));
  if (sig.startsWith("a") && !sig.startsWith("a{") && Array.isArray(value)) return value.map((v) => toDbusValue(sig.slice(1), v));
  if (sig.startsWith("a{") && value !== null && typeof value === "object") {
    const valueSig = structMembers(sig.slice(2, -1))[1] ?? "v";
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toDbusValue(valueSig, v)]));
  }
  if (sig.startsWith("(") && Array.isArray(value)) {
    const parts = structMembers(sig.slice(1, -1));
    return value.map((v, i) => toDbusValue(parts[i] ?? "v", v));
  }
  return value;
}

/** The complete types in a struct's member list: "sa(st)t" → ["s", "a(st)", "t"]. */
function structMembers(inner: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < inner.length) {
    let j = i;
    while (inner[j] === "a") j++;
    if (inner[j] === "(" || inner[j] === "{") {
      let depth = 0;
      for (; j < inner.length; j++) {
        if (inner[j] === "(" || inner[j] === "{") depth++;
        else if (inner[j] === ")" || inner[j] === "}") depth--;
        if (depth === 0) break;
      }
    }
    out.push(inner.slice(i, j + 1));
    i = j + 1;
  }
  return out;
}

/** Properties declared as [name, sig] pairs, as a{sv}. */
export function propsToDict(defs: readonly { name: string; sig: string }[], values: object): Record<string, dbus.Variant> {
  const out: Record<string, dbus.Variant> = {};
  const v = values as Record<string, unknown>;
  for (const d of defs) out[d.name] = toVariant(d.sig, v[d.name]);
  return out;
}

/** An incoming a{sv}: the Variants' values (one level; numbers stay bigint where D-Bus gave 64-bit). */
export function unwrapDict(d: unknown): unknown {
  if (typeof d !== "object" || d === null || Array.isArray(d)) return d;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d as Record<string, unknown>)) out[k] = v instanceof Variant ? (v as dbus.Variant).value : v;
  return out;
}
