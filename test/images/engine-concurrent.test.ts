// Two sessions installing at the same time share the package cache: both succeed, and the cache
// holds only complete packages (no temporary or half-written file is left in it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator, DEFAULT_CACHE_DIR } from "../../daemon/creator/index.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { loadKickstart } from "./fixtures/engine-kickstart.js";

let tmp = "";
before(async () => {
  tmp = await makeTmp("engine-concurrent");
});
after(async () => {
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

test("two concurrent installs share the cache safely", { timeout: 10 * 60_000 }, async () => {
  const ks = loadKickstart("engine-minimal.ks", (t) => t.replace("%packages --excludedocs\n", "%packages --excludedocs\nprocps\n"));
  const creators = [1, 2].map((i) => new LoopImageCreator(ks, `conc${i}`, { workDir: join(tmp, `w${i}`) }));
  try {
    await Promise.all(
      creators.map(async (c) => {
        await c.mount();
        await c.install();
      }),
    );
    for (const c of creators) assert.equal(c.state, "installed");
  } finally {
    for (const c of creators) await c.cleanup();
  }
  for (const key of readdirSync(join(DEFAULT_CACHE_DIR, "apt"))) {
    const dir = join(DEFAULT_CACHE_DIR, "apt", key, "archives");
    const files = readdirSync(dir);
    assert.deepEqual(files.filter((f) => !f.endsWith(".deb") && f !== "partial"), [], "no temporary files left in the cache");
    for (const f of files.filter((x) => /^procps_|^libproc2/.test(x))) {
      const r = spawnSync("dpkg-deb", ["--info", join(dir, f)], { encoding: "utf8" });
      assert.equal(r.status, 0, `${f} is a complete package: ${r.stderr}`);
    }
  }
});
