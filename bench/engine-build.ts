// The engine's build of a small image against the same work done by a plain shell pipeline
// (mmdebstrap into a directory, then mkfs.ext4 -d), side by side in one run, warm package cache.
// Run as root: node --import tsx bench/engine-build.ts [rounds=3]
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator, DEFAULT_CACHE_DIR } from "../daemon/creator/index.js";
import { parseKickstart } from "../daemon/kickstart/index.js";
import { makeTmp, removeTmp } from "../test/helpers/tmp.js";

const PACKAGES = ["e2fsprogs", "procps", "tzdata"];
const KS = `part / --size=1024
%addon org_imgcreate --variant=minbase
%end
%packages --excludedocs
${PACKAGES.join("\n")}
%end
`;

async function engine(dir: string): Promise<number> {
  const { model } = parseKickstart("/bench.ks", { readFile: (p) => (p === "/bench.ks" ? KS : undefined) });
  const c = new LoopImageCreator(model, "bench", { workDir: join(dir, "work") });
  const t0 = performance.now();
  try {
    await c.create(join(dir, "out"));
    return (performance.now() - t0) / 1000;
  } finally {
    await c.cleanup();
  }
}

/** The pipeline a person would type: the same warm .deb cache hard-linked in (same filesystem), the same doc filters. */
function pipeline(dir: string): number {
  const root = join(dir, "tree");
  const archives = execFileSync("sh", ["-c", `ls -d ${DEFAULT_CACHE_DIR}/apt/*/archives | head -1`], { encoding: "utf8" }).trim();
  const t0 = performance.now();
  execFileSync(
    "mmdebstrap",
    [
      "--mode=unshare",
      "--variant=minbase",
      "--quiet",
      "--skip=essential/unlink",
      "--dpkgopt=path-exclude=/usr/share/doc/*",
      "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      "--dpkgopt=path-exclude=/usr/share/man/*",
      `--include=${PACKAGES.join(",")}`,
      `--setup-hook=mkdir -p "$1/var/cache/apt/archives" && cp -l ${archives}/*.deb "$1/var/cache/apt/archives/"`,
      "bookworm",
      root,
      "/etc/apt/sources.list.d/debian.sources",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  execFileSync("mkfs.ext4", ["-q", "-L", "bench", "-d", root, join(dir, "bench.img"), "1024M"]);
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const tmp = await makeTmp("bench-engine");
  try {
    console.log("warming the package cache with one engine build...");
    mkdirSync(join(tmp, "warm"));
    await engine(join(tmp, "warm"));
    const e: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const which of i % 2 === 0 ? ["pipeline", "engine"] : ["engine", "pipeline"]) {
        const dir = join(tmp, `${which}-${i}`);
        mkdirSync(dir);
        const s = which === "engine" ? await engine(dir) : pipeline(dir);
        (which === "engine" ? e : p).push(s);
        const img = which === "engine" ? join(dir, "out", "bench.img") : join(dir, "bench.img");
        const st = statSync(img);
        console.log(`${which.padEnd(8)} round ${i + 1}: ${s.toFixed(1)} s, image ${(st.size / 2 ** 20).toFixed(0)} MiB apparent, ${((st.blocks * 512) / 2 ** 20).toFixed(0)} MiB on disk`);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const med = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      const m = Math.floor(s.length / 2);
      return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
    };
    console.log(`median of ${rounds}: engine ${med(e).toFixed(1)} s, pipeline ${med(p).toFixed(1)} s, engine/pipeline = ${(med(e) / med(p)).toFixed(2)}`);
  } finally {
    await removeTmp(tmp);
  }
}

await main();
