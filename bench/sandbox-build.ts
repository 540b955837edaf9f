// A whole small build (the engine's, warm package cache) with today's sandbox against an earlier
// checkout's (bubblewrap as host root), alternating in one run on this machine.
// Run as root: git worktree add /tmp/before 103a98e && ln -s $PWD/node_modules /tmp/before/
//              BEFORE=/tmp/before node --import tsx bench/sandbox-build.ts [rounds=2]
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseKickstart } from "../daemon/kickstart/index.js";
import { makeTmp, removeTmp } from "../test/helpers/tmp.js";

const KS = `part / --size=1024
%addon org_imgcreate --variant=minbase
%end
%packages --excludedocs
e2fsprogs
procps
tzdata
%end
%post
echo one > /etc/one
%end
%post
echo two > /etc/two
%end
`;

type Creator = { create(out: string): Promise<string[]>; cleanup(): Promise<void> };
type Ctor = new (ks: unknown, name: string, o: { workDir: string }) => Creator;

async function build(Loop: Ctor): Promise<number> {
  const { model } = parseKickstart("/bench.ks", { readFile: (p) => (p === "/bench.ks" ? KS : undefined) });
  const dir = await makeTmp("bench-sandbox-build");
  const c = new Loop(model, "bench", { workDir: join(dir, "work") });
  const t0 = performance.now();
  try {
    await c.create(join(dir, "out"));
    return (performance.now() - t0) / 1000;
  } finally {
    await c.cleanup();
    await removeTmp(dir);
  }
}

const before = process.env.BEFORE;
if (!before) throw new Error("set BEFORE to a checkout of an earlier commit (see the header)");
const rounds = Number(process.argv[2] ?? 2);
const now = ((await import("../daemon/creator/index.js")) as unknown as { LoopImageCreator: Ctor }).LoopImageCreator;
const then = ((await import(pathToFileURL(join(before, "daemon/creator/index.ts")).href)) as { LoopImageCreator: Ctor }).LoopImageCreator;
await build(now); // warms the package cache for both
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < rounds; i++) {
  a.push(await build(then));
  b.push(await build(now));
}
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
console.log(`whole small build (mount, offline install, configure with two %post, unmount, package), ${rounds} alternating rounds:`);
console.log(`  before (bwrap as host root, mmdebstrap unshare mode)  ${a.map((x) => x.toFixed(1)).join(" ")} s  median ${med(a).toFixed(1)} s`);
console.log(`  now (user namespace sandbox, host download first)     ${b.map((x) => x.toFixed(1)).join(" ")} s  median ${med(b).toFixed(1)} s   ratio ${(med(b) / med(a)).toFixed(2)}`);
