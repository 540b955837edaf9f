// Which kernel modules to load, in which order, without kmod: a module's .ko file names what it depends
// on in its .modinfo section ("depends=a,b"), so the closure of a few wanted modules is read from the
// files themselves. Names use "_" where file names may use "-".
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Module name → .ko path, for every module under dir (a kernel's lib/modules/<version>). */
export function moduleIndex(dir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ko")) index.set(e.name.slice(0, -3).replaceAll("-", "_"), p);
    }
  };
  walk(dir);
  return index;
}

/** The modules a .ko depends on, from its depends= modinfo string. */
export function dependsOf(ko: string): string[] {
  const text = readFileSync(ko).toString("latin1");
  const m = /\0depends=([^\0]*)\0/.exec(text);
  return m?.[1] ? m[1].split(",").filter(Boolean).map((n) => n.replaceAll("-", "_")) : [];
}

/**
 * The .ko files to insmod, dependencies first, for the wanted modules. Modules not in the index are
 * taken to be built into the kernel and skipped.
 */
export function loadOrder(index: Map<string, string>, wanted: string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    const n = name.replaceAll("-", "_");
    if (seen.has(n)) return;
    seen.add(n);
    const ko = index.get(n);
    if (!ko) return;
    for (const d of dependsOf(ko)) visit(d);
    order.push(ko);
  };
  for (const w of wanted) visit(w);
  return order;
}
