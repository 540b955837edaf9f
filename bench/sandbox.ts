// The cost of the sandbox per command start: the same /usr/bin/true run through the earlier sandbox
// (bubblewrap started as host root: no user namespace, no network namespace, no cgroup, no seccomp)
// and through today's (cgroup entry, setpriv, bubblewrap joining the root's user namespace with the
// idmapped root, masks, seccomp), side by side in one run, alternating, on this machine.
// Run as root: node --import tsx bench/sandbox.ts [runs=40]
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Journal } from "../daemon/creator/journal.js";
import { run } from "../daemon/creator/system/exec.js";
import { DEFAULT_LIMITS, hostSystemArgs, Sandbox } from "../daemon/creator/system/sandbox.js";
import { makeTmp, removeTmp } from "../test/helpers/tmp.js";

const runs = Number(process.argv[2] ?? 40);

/** The earlier sandbox's command line for the same host view (bwrap as host root). */
function before(root: string): string[] {
  return [
    "bwrap", ...hostSystemArgs(), "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--bind", root, root,
    "--proc", "/proc", "--dev", "/dev", "--ro-bind-try", "/sys", "/sys", "--tmpfs", "/run",
    "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
    "--cap-drop", "ALL", "--", "/usr/bin/true",
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const tmp = await makeTmp("bench-sandbox");
const workDir = join(tmp, "work");
const root = join(workDir, "root");
await mkdir(root, { recursive: true });
const journal = new Journal(workDir);
let sb: Sandbox | undefined;
try {
  const t0 = performance.now();
  sb = await Sandbox.open({ root, workDir, runDir: "/run/imgcreated", journal, limits: DEFAULT_LIMITS });
  const setup = performance.now() - t0;
  const old: number[] = [];
  const now: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await run(before(root), { cleanEnv: true });
    old.push(performance.now() - t);
    t = performance.now();
    await sb.run({ view: "host" }, ["/usr/bin/true"]);
    now.push(performance.now() - t);
  }
  const t1 = performance.now();
  await sb.close();
  sb = undefined;
  const teardown = performance.now() - t1;
  console.log(`sandbox start cost, /usr/bin/true, median of ${runs} (alternating):`);
  console.log(`  before (bwrap as host root)         ${median(old).toFixed(1)} ms`);
  console.log(`  now (userns, idmap, net, seccomp)   ${median(now).toFixed(1)} ms   ratio ${(median(now) / median(old)).toFixed(2)}`);
  console.log(`  once per mounted root: set up ${setup.toFixed(1)} ms (id range, user namespace, idmapped mount, cgroup), tear down ${teardown.toFixed(1)} ms`);
} finally {
  await sb?.close().catch(() => undefined);
  await journal.releaseAll().catch(() => undefined);
  await removeTmp(tmp);
}
