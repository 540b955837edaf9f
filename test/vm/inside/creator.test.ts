// Runs inside the test VM, where the kernel has device-mapper: a loop image creator mounts its root
// through an origin table, and checkpoints are snapshots (constant time) that rollback merges back;
// they outlive an unmount (set up again from their COW files at the next mount), an unmounted image is
// checkpointed and rolled back the same way; cleanup leaves no
// table, loop device or mount.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator } from "../../../daemon/creator/index.js";
import * as dm from "../../../daemon/creator/system/dm.js";
import { loadKickstart } from "../../images/fixtures/engine-kickstart.js";

const has = (c: LoopImageCreator, f: string) => existsSync(join(c.instroot, f));

test("checkpoints are device-mapper snapshots: rollback merges back, they survive an unmount, cleanup removes all", async (t) => {
  const tmp = mkdtempSync("/tmp/imgcreate-vmc-");
  chmodSync(tmp, 0o711);
  const c = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vm", { workDir: join(tmp, "work"), owner: "vmtest" });
  try {
    await c.mount();
    assert.deepEqual(await dm.list(), ["imgcreate-vmtest-root"]);
    writeFileSync(join(c.instroot, "a"), "a\n");
    let t0 = Date.now();
    assert.equal(await c.checkpoint("c1"), "device-mapper snapshot");
    t.diagnostic(`checkpoint of the mounted 768 MiB root: ${Date.now() - t0} ms (TCG guest)`);
    writeFileSync(join(c.instroot, "b"), Buffer.alloc(16 * 2 ** 20, 1));
    rmSync(join(c.instroot, "a"));
    t0 = Date.now();
    assert.equal(await c.rollback("c1"), "device-mapper merge");
    t.diagnostic(`rollback merging 16 MiB of changes: ${Date.now() - t0} ms (TCG guest)`);
    assert.ok(has(c, "a") && !has(c, "b"), "the root is as it was at the checkpoint");
    assert.equal(c.state, "mounted");
    writeFileSync(join(c.instroot, "c"), "c\n");
    await c.rollback("c1");
    assert.ok(has(c, "a") && !has(c, "c"), "the checkpoint stays to go back to again");

    writeFileSync(join(c.instroot, "d"), "d\n");
    await c.checkpoint("c2");
    assert.deepEqual((await dm.list()).sort(), ["imgcreate-vmtest-ckpt-c1", "imgcreate-vmtest-ckpt-c2", "imgcreate-vmtest-root"]);
    await c.unmount();
    assert.deepEqual(await dm.list(), [], "unmounted: no table left");
    await c.mount();
    assert.equal((await dm.list()).length, 3, "the snapshots are set up again from their COW files");
    rmSync(join(c.instroot, "d"));
    await c.rollback("c2");
    assert.equal(readFileSync(join(c.instroot, "d"), "utf8"), "d\n");
    await c.rollback("c1");
    assert.ok(!has(c, "d"));
    await c.dropCheckpoint("c2");
    assert.deepEqual((await dm.list()).sort(), ["imgcreate-vmtest-ckpt-c1", "imgcreate-vmtest-root"]);
    const usage = await c.checkpointUsage();
    assert.ok(usage["c1"]! > 0, `CheckpointUsage counts the COW in use (${JSON.stringify(usage)})`);

    // A clone of the mounted source: its own root table; what it changes, the source never sees.
    const clone = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmclone", { workDir: join(tmp, "clone"), owner: "vmclone" });
    try {
      t0 = Date.now();
      const how = await clone.cloneFrom(c);
      t.diagnostic(`clone (${how}): ${Date.now() - t0} ms (TCG guest)`);
      assert.ok((await dm.list()).includes("imgcreate-vmclone-root"));
      assert.ok(has(clone, "a"));
      writeFileSync(join(clone.instroot, "only-clone"), "x\n");
      rmSync(join(clone.instroot, "a"));
      assert.ok(has(c, "a") && !has(c, "only-clone"), "the source is unchanged by its clone");
    } finally {
      await clone.cleanup();
    }
    await c.unmount();

    // Unmounted: a checkpoint is a snapshot too (the origin set up for it and taken down again), and
    // rollback merges it back with no mount.
    t0 = Date.now();
    assert.equal(await c.checkpoint("u1"), "device-mapper snapshot");
    t.diagnostic(`checkpoint of the unmounted root: ${Date.now() - t0} ms (TCG guest)`);
    assert.deepEqual(await dm.list(), [], "no table left after checkpointing the unmounted image");
    await c.mount();
    writeFileSync(join(c.instroot, "after-u1"), "x\n");
    await c.unmount();
    assert.equal(await c.rollback("u1"), "device-mapper merge");
    assert.deepEqual(await dm.list(), [], "nor after rolling it back");
    await c.mount();
    assert.ok(has(c, "a") && !has(c, "after-u1"), "the unmounted rollback put the image back");
    await c.unmount();
  } finally {
    await c.cleanup();
  }
  assert.deepEqual(await dm.list(), []);
  assert.doesNotMatch(execFileSync("losetup", ["-a"], { encoding: "utf8" }), /imgcreate-vmc-/);
  rmSync(tmp, { recursive: true, force: true });
});
