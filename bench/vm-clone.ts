// Clone of an installed-size root (2 GiB, 770 MiB of files), mounted and then unmounted, with
// device-mapper against a copy, side by side in one run. This host's kernel has no device-mapper, so it runs in the test VM (Debian's
// kernel under qemu, TCG unless IMGCREATE_VM_ACCEL=kvm): absolute times are the emulator's, the ratio is
// the point. "usable" is when Clone returns (the clone mounted and writable); "own" is when the clone no
// longer reads its source (the background copy done; for a copy, the same moment).
//   npm run build && node --import tsx bench/vm-clone.ts
import { join } from "node:path";
import { runInVm } from "../test/vm/run.js";
import { PROJECT_ROOT } from "../test/helpers/harness.js";

const r = await runInVm([join(PROJECT_ROOT, "dist/bench/inside/clone.bench.js")], { timeoutMs: 20 * 60_000 });
const rows = [...r.output.matchAll(/^BENCH (\w+) (\w+) usable=([\d.]+) own=([\d.]+) how=(.*)$/gm)].map((m) => ({ kind: m[1]!, state: m[2]!, usable: Number(m[3]), own: Number(m[4]), how: m[5]! }));
if (r.status !== 0 || rows.length !== 4) {
  console.error(r.output.split("\n").filter((l) => !/^\[\s*\d+\.\d+\]/.test(l)).slice(-40).join("\n"));
  process.exit(1);
}
console.log("clone of a 2 GiB root with 770 MiB of files (one run, in the test VM):");
console.log("  source     method                                  usable     own");
for (const state of ["mounted", "unmounted"]) {
  const dm = rows.find((x) => x.kind === "dm" && x.state === state)!;
  const copy = rows.find((x) => x.kind === "copy" && x.state === state)!;
  for (const x of [dm, copy]) console.log(`  ${state.padEnd(10)} ${x.how.slice(0, 38).padEnd(38)} ${x.usable.toFixed(2).padStart(7)} s ${x.own.toFixed(2).padStart(7)} s`);
  console.log(`  ${state.padEnd(10)} usable after a copy / after a dm clone: ${(copy.usable / dm.usable).toFixed(1)}x`);
}
