// Parse speed of the kickstart parser over the real-world corpus (../shared/kickstarts).
// Run: node --import tsx bench/kickstart-parse.ts   — prints medians and ratios side by side.
// Target: the Fedora workstation chain (5 files via %include) parses in well under 50 ms.

import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseKickstart, flatten, mapReader } from "../daemon/kickstart/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, "..", "..", "shared", "kickstarts");
if (!existsSync(corpus)) {
  console.log(`no corpus at ${corpus}; nothing to measure`);
  process.exit(0);
}

const files: Record<string, string> = {};
(function walk(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (name === "_expected") continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ks|cfg)$/.test(name)) files[p] = readFileSync(p, "utf8");
  }
})(corpus);

const manifest = JSON.parse(readFileSync(path.join(corpus, "_expected", "manifest.json"), "utf8")) as { repo: string; root: string; version: string }[];
const roots = manifest.map((e) => ({ file: path.join(corpus, e.repo, e.root), version: e.version }));
const workstation = path.join(corpus, "fedora-kickstarts", "fedora-live-workstation.ks");
const memory = mapReader(files);
const disk = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
};

function median(fn: () => void, runs: number): number {
  for (let i = 0; i < 5; i++) fn(); // warm up the JIT
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const parseWs = (readFile: typeof memory) => parseKickstart(workstation, { readFile, cwd: path.dirname(workstation) });
const first = (() => {
  const t = process.hrtime.bigint();
  parseWs(disk);
  return Number(process.hrtime.bigint() - t) / 1e6;
})();

const rows: [string, number][] = [
  ["workstation chain, first parse (cold JIT, from disk)", first],
  ["workstation chain, from memory", median(() => parseWs(memory), 200)],
  ["workstation chain, from disk (readFileSync)", median(() => parseWs(disk), 200)],
  ["workstation chain, parse + flatten", median(() => flatten(parseWs(memory).model), 200)],
  [`whole corpus (${roots.length} root/version pairs)`, median(() => {
    for (const r of roots) parseKickstart(r.file, { readFile: memory, version: r.version, cwd: path.dirname(r.file) });
  }, 50)],
];

// Large inputs a caller could send the daemon: they must stay linear.
const bigPackages = "%packages\n" + Array.from({ length: 100_000 }, (_, i) => (i % 3 ? `pkg${i}` : `-pkg${i - 1}`)).join("\n") + "\n%end\n";
const bigRepos = Array.from({ length: 20_000 }, (_, i) => `repo --name=r${i % 5000} --baseurl=http://x/${i}`).join("\n") + "\n";
const parseText = (text: string) => parseKickstart("/big.ks", { readFile: () => text });
rows.push(["100 000 %packages lines", median(() => parseText(bigPackages), 5)]);
rows.push(["20 000 repo lines (15 000 duplicate names)", median(() => parseText(bigRepos), 5)]);

const base = rows[1]![1];
console.log("kickstart parse benchmark (median ms; ratio to the in-memory workstation parse)");
for (const [name, ms] of rows) console.log(`  ${name.padEnd(58)} ${ms.toFixed(3).padStart(9)} ms  x${(ms / base).toFixed(2)}`);
console.log(`  target: workstation chain < 50 ms — ${rows[2]![1] < 50 && first < 50 ? "met" : "NOT met"}`);
