// Runs inside the test VM (bench/vm-clone.ts boots it): a mounted 2 GiB root with 770 MiB of files,
// cloned with device-mapper (a snapshot at once, its own image copied in the background) and by a copy
// (what the daemon does without device-mapper), one after the other in one run; then the same of the
// unmounted root. Prints BENCH lines.
import { test } from "node:test";
import { mkdirSync, mkdtempSync, chmodSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { loadKickstart } from "../../test/images/fixtures/engine-kickstart.js";

const secs = (t0: number) => (Date.now() - t0) / 1000;

test("clone of a 2 GiB root, mounted and unmounted: device-mapper against a copy", async () => {
  const tmp = mkdtempSync("/tmp/imgcreate-bench-");
  chmodSync(tmp, 0o711);
  const creator = (name: string, dm: boolean) => new LoopImageCreator(loadKickstart("engine-minimal.ks", (t) => t.replace("--size=768", "--size=2048")), name, { workDir: join(tmp, name), owner: name, deviceMapper: dm });
  const src = creator("src", true);
  try {
    await src.mount();
    // An installed root's worth of files: a few large ones and many small ones.
    for (let i = 0; i < 3; i++) execFileSync("dd", ["if=/dev/urandom", `of=${join(src.instroot, `big${i}`)}`, "bs=1M", "count=250", "status=none"]);
    mkdirSync(join(src.instroot, "small"));
    for (let i = 0; i < 5000; i++) writeFileSync(join(src.instroot, "small", String(i)), Buffer.alloc(4096, i % 251));
    execFileSync("sync");
    for (const [state, dm] of [["mounted", true], ["mounted", false], ["unmounted", true], ["unmounted", false]] as const) {
      if (state === "unmounted" && src.state !== "unmounted") await src.unmount();
      const c = creator(`${dm ? "dm" : "copy"}-${state}`, dm);
      const done = new Promise<void>((r) => c.on("notice", (l) => /its own now/.test(l) && r()));
      try {
        const t0 = Date.now();
        const how = await c.cloneFrom(src);
        const usable = secs(t0);
        if (dm) await done;
        console.log(`BENCH ${dm ? "dm" : "copy"} ${state} usable=${usable.toFixed(2)} own=${secs(t0).toFixed(2)} how=${how}`);
      } finally {
        await c.cleanup();
      }
    }
  } finally {
    await src.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  }
});
