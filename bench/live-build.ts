// Live ISO build of examples/debian-live.ks with LiveImageCreator, against a plain shell pipeline doing
// the same steps, side by side in one run with warm package caches; then boots our ISO to its serial login.
//   node --import tsx bench/live-build.ts [--no-boot] [--compression zstd|xz|gzip|lz4|none]
import { readFileSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { bootTest, formatBootResult } from "../client/boottest.js";
import type { SquashfsCompression } from "../daemon/creator/system/squashfs.js";
import { makeTmp, removeTmp } from "../test/helpers/tmp.js";
import { EXAMPLE, PIPE_CACHE, fmtSteps, ours, pipeline } from "./live-pipeline.js";

const args = process.argv.slice(2);
const boot = !args.includes("--no-boot");
const compIdx = args.indexOf("--compression");
const compression = (compIdx >= 0 ? args[compIdx + 1] ?? "zstd" : "zstd") as SquashfsCompression;

async function main(): Promise<void> {
  const ks = readFileSync(EXAMPLE, "utf8");
  const dir = await makeTmp("bench-live");
  try {
    if ((await readdir(PIPE_CACHE).catch(() => [])).length === 0) {
      console.log("warming the pipeline's package cache (first run)...");
      await pipeline(ks, dir, { type: compression });
      await rm(join(dir, "pw"), { recursive: true, force: true });
    }
    console.log(`live ISO of ${EXAMPLE}, squashfs ${compression}, warm caches, ${(await import("node:os")).cpus().length} cores`);
    const o = await ours(ks, dir, { type: compression });
    const p = await pipeline(ks, dir, { type: compression });
    console.log(`imgcreate   ${o.total.toFixed(1)} s  ${(o.size / 2 ** 20).toFixed(0)} MiB  (${fmtSteps(o.steps)})`);
    console.log(`pipeline    ${p.total.toFixed(1)} s  ${(p.size / 2 ** 20).toFixed(0)} MiB  (${fmtSteps(p.steps)})`);
    console.log(`ratio imgcreate/pipeline: time ${(o.total / p.total).toFixed(3)}, size ${(o.size / p.size).toFixed(3)}`);
    if (boot) {
      const r = await bootTest(o.iso, { firmware: "bios", marker: /login:/, timeoutMs: 10 * 60_000 });
      console.log(`boot to the serial login: ${formatBootResult(r)}`);
    }
  } finally {
    await removeTmp(dir);
  }
}

await main();
