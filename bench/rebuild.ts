// What makes a warm build fast: the live ISO of examples/debian-live.ks built by imgcreate with an
// empty cache of installed roots (full), then again with its %post changed (a warm rebuild: the cache
// hits), against the plain pipeline's warm build of the same image at the same compression; then, on
// the kept session image, a repackage after another %post change (re-open, update, configure, package),
// a checkpoint and a clone of it (reflink or sparse copy: no device-mapper here); all in one run on warm
// package caches, ratios printed side by side with the per-stage breakdown.
//   node --import tsx bench/rebuild.ts [--compression zstd:3]
import { readFileSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseCompression } from "../daemon/compression.js";
import type { SquashfsCompression } from "../daemon/creator/system/squashfs.js";
import { makeTmp, removeTmp } from "../test/helpers/tmp.js";
import { EXAMPLE, PIPE_CACHE, fmtSteps, liveCreator, liveModel, ours, pipeline, timedStages, type Timed } from "./live-pipeline.js";

const args = process.argv.slice(2);
const compIdx = args.indexOf("--compression");
const parsed = parseCompression(compIdx >= 0 ? args[compIdx + 1] ?? "zstd:3" : "zstd:3");
const comp = { type: parsed.type as SquashfsCompression, ...(parsed.level !== undefined ? { level: parsed.level } : {}) };

async function main(): Promise<void> {
  const ks = readFileSync(EXAMPLE, "utf8");
  const changed = ks.replace(/^%post\b[^\n]*\n/m, (l) => `${l}echo "rebuilt at $(date)" > /etc/imgcreate-rebuilt\n`);
  if (changed === ks) throw new Error(`${EXAMPLE} has no %post to change`);
  const dir = await makeTmp("bench-rebuild");
  const roots = join(dir, "roots");
  try {
    if ((await readdir(PIPE_CACHE).catch(() => [])).length === 0) {
      console.log("warming the pipeline's package cache (first run)...");
      await pipeline(ks, dir, comp);
      await rm(join(dir, "pw"), { recursive: true, force: true });
    }
    const rows: [string, Timed][] = [];
    const step = async (name: string, fn: () => Promise<Timed>) => {
      const r = await fn();
      rows.push([name, r]);
      await rm(join(dir, "ow"), { recursive: true, force: true });
      await rm(join(dir, "pw"), { recursive: true, force: true });
      await rm(join(dir, "out"), { recursive: true, force: true });
      return r;
    };
    const full = await step("imgcreate full (root cache empty)", () => ours(ks, dir, comp, roots));
    const kept: [string, Timed][] = [];
    const onKept = async (c: Awaited<ReturnType<typeof liveCreator>>) => {
      c.setKickstart(liveModel(changed.replace("rebuilt at", "repackaged at")));
      kept.push(["imgcreate repackage (%post changed, same session)", await timedStages(c, join(dir, "out2"))]);
      let t = Date.now();
      const how = await c.checkpoint("bench");
      kept.push([`imgcreate checkpoint of the packaged image (${how})`, { total: (Date.now() - t) / 1000, steps: {}, size: 0 }]);
      const clone = liveCreator(changed, join(dir, "clone"), comp);
      try {
        t = Date.now();
        const h = await clone.cloneFrom(c);
        kept.push([`imgcreate clone of the packaged image (${h})`, { total: (Date.now() - t) / 1000, steps: {}, size: 0 }]);
      } finally {
        await clone.cleanup();
      }
    };
    const warm = await step("imgcreate warm rebuild (%post changed, cache hit)", () => ours(changed, dir, comp, roots, onKept));
    rows.push(...kept);
    const pipe = await step("pipeline warm build", () => pipeline(changed, dir, comp));
    console.log(`live ISO of ${EXAMPLE}, squashfs ${parsed.type}${parsed.level !== undefined ? `:${parsed.level}` : ""}, warm package caches, ${(await import("node:os")).cpus().length} cores`);
    for (const [name, r] of rows) console.log(`${name.padEnd(52)} ${r.total.toFixed(1).padStart(6)} s  (${fmtSteps(r.steps)})`);
    console.log(`pipeline / warm rebuild: ${(pipe.total / warm.total).toFixed(2)}x faster; warm rebuild / full: ${(warm.total / full.total).toFixed(3)}`);
    const repack = kept[0]?.[1];
    if (repack) console.log(`repackage / full: ${(repack.total / full.total).toFixed(3)}; repackage / pipeline: ${(repack.total / pipe.total).toFixed(3)}`);
  } finally {
    await removeTmp(dir);
  }
}

await main();
