// `imgcreate cache list|prune`: the daemon's cache of installed roots, for administrators.
import { ImgcreateError } from "../../daemon/errors.js";
import { EXIT } from "../errors.js";
import { formatBytes, formatTable } from "../progress/format.js";
import type { CachedRoot } from "../connection/types.js";
import type { Context } from "./context.js";

export async function cacheList(ctx: Context): Promise<number> {
  const conn = await ctx.connect();
  let roots: CachedRoot[];
  try {
    roots = await conn.listCachedRoots();
  } finally {
    conn.disconnect();
  }
  if (ctx.json) for (const r of roots) ctx.out.write(JSON.stringify(r) + "\n");
  else ctx.out.write(roots.length ? table(roots) : "the cache of installed roots is empty\n");
  return EXIT.ok;
}

export async function cachePrune(ctx: Context, maxSize: string | boolean | undefined): Promise<number> {
  const mib = maxSize === undefined ? 0 : Number(maxSize);
  if (!Number.isInteger(mib) || mib < 0) throw new ImgcreateError("InvalidArgs", `--max-size must be a whole number of MiB ≥ 0, not "${String(maxSize)}"`);
  const conn = await ctx.connect();
  try {
    const freed = await conn.pruneCachedRoots(mib);
    ctx.out.write(ctx.json ? JSON.stringify({ freed }) + "\n" : `freed ${formatBytes(freed)}\n`);
  } finally {
    conn.disconnect();
  }
  return EXIT.ok;
}

function table(roots: CachedRoot[]): string {
  const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 16);
  return formatTable([["KEY", "SIZE", "LAST USED", "CONTENT"], ...roots.map((r) => [r.key.slice(0, 12), formatBytes(r.bytes), when(r.lastUsedAt), r.summary])]);
}
