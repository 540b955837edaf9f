// Between dbus-next's values (Variants, bigints) and the plain values the API works with.
import dbus from "dbus-next";

const { Variant } = dbus;

/** A plain value as a Variant of the given signature (t/x as bigint, as dbus-next wants). */
export function toVariant(sig: string, value: unknown): dbus.Variant {
  if (sig === "t" || sig === "x") return new Variant(sig, BigInt(Math.floor(Number(value))));
  return new Variant(sig, value);
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
