// Runs inside the test VM, where the kernel has device-mapper: a loop image creator mounts its root
// through an origin table, and checkpoints are snapshots (constant time) that rollback merges back;
// they outlive an unmount (set up again from their COW files at the next mount), an unmounted image is
// checkpointed and rolled back the same way; cleanup leaves no
// table, loop device or mount.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator } from "../../../daemon/creator/index.js";
import * as dm from "../../../daemon/creator/system/dm.js";
import { loadKickstart } from "../../images/fixtures/engine-kickstart.js";
import { holdMirrorCopies } from "./copy-throttle.js";

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

    // A clone of the mounted source: at once a snapshot of its root, relabelled and mounted; the kernel
    // copies it into the clone's own image meanwhile. What the clone changes, the source never sees.
    const clone = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmclone", { workDir: join(tmp, "clone"), owner: "vmclone" });
    const notices: string[] = [];
    clone.on("notice", (l) => notices.push(l));
    const dropped = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmclone2", { workDir: join(tmp, "clone2"), owner: "vmclone2" });
    const unmountedClone = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmclone3", { workDir: join(tmp, "clone3"), owner: "vmclone3" });
    // The copies crawl while the test looks at the clones mid-copy; let go before the waits for them.
    let release = holdMirrorCopies();
    try {
      t0 = Date.now();
      const how = await clone.cloneFrom(c);
      t.diagnostic(`clone (${how}): ${Date.now() - t0} ms (TCG guest)`);
      assert.match(how, /^device-mapper snapshot/);
      for (const table of ["imgcreate-vmclone-root", "imgcreate-vmclone-base", "imgcreate-vmclone-source"]) assert.ok((await dm.list()).includes(table), table);
      assert.ok(has(clone, "a"));
      // Byte for byte: the source frozen (nothing of its own writes it), the clone writes and deletes.
      const sourceDev = "/dev/mapper/imgcreate-vmtest-root";
      const sum = () => execFileSync("sha256sum", [sourceDev], { encoding: "utf8" }).split(" ")[0];
      execFileSync("fsfreeze", ["-f", c.instroot]);
      try {
        const before = sum();
        writeFileSync(join(clone.instroot, "only-clone"), "x\n");
        writeFileSync(join(clone.instroot, "big"), Buffer.alloc(8 * 2 ** 20, 7));
        rmSync(join(clone.instroot, "a"));
        execFileSync("sync", ["--file-system", clone.instroot]);
        assert.equal(sum(), before, "the source's device is byte for byte what it was");
      } finally {
        execFileSync("fsfreeze", ["-u", c.instroot]);
      }
      writeFileSync(join(c.instroot, "only-source"), "y\n");
      assert.ok(has(c, "a") && !has(c, "only-clone"), "the source is unchanged by its clone");
      assert.ok(!has(clone, "only-source"), "nor the clone by its source");

      // A clone closed while it copies lets its source go at once.
      await dropped.cloneFrom(c);
      await dropped.cleanup();
      assert.ok(!(await dm.list()).some((n) => n.startsWith("imgcreate-vmclone2-")), "the closed clone's tables are gone");

      // The source's unmount waits for the copy; then the clone reads only its own image.
      const held = await dm.mirrorSync("imgcreate-vmclone-base");
      t.diagnostic(`held copy at release: ${held.inSync}/${held.total} regions`);
      release();
      t0 = Date.now();
      await c.unmount();
      t.diagnostic(`source unmount, waiting for the clone's copy of the 768 MiB root: ${Date.now() - t0} ms (TCG guest)`);
      assert.ok(!(await dm.list()).includes("imgcreate-vmclone-source"), "the clone's snapshot of the source is gone");
      assert.match(notices.join("\n"), /the clone's image is its own now/);
      assert.ok(has(clone, "only-clone") && !has(clone, "a"));
      await clone.unmount();
      await clone.mount();
      assert.ok(has(clone, "only-clone") && !has(clone, "a") && !has(clone, "only-source"), "the clone's own image has what the clone wrote");
      await clone.unmount();
      const uuid = (f: string) => execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", f], { encoding: "utf8" }).trim();
      assert.notEqual(uuid(join(tmp, "clone", "rootfs.img")), uuid(join(tmp, "work", "rootfs.img")), "the clone has a UUID of its own");
      execFileSync("e2fsck", ["-fn", join(tmp, "clone", "rootfs.img")]);
      const allocated = (f: string) => statSync(f).blocks * 512;
      assert.ok(allocated(join(tmp, "clone", "rootfs.img")) < 256 * 2 ** 20, `the mirror's copy of free blocks was trimmed away again (${allocated(join(tmp, "clone", "rootfs.img"))} bytes; ${notices.join("; ")})`);

      // Of the unmounted source: a snapshot of its file through a read-only loop device of the clone's;
      // the clone is unmounted too, and the source's next mount waits for the copy.
      release = holdMirrorCopies();
      t0 = Date.now();
      assert.match(await unmountedClone.cloneFrom(c), /^device-mapper snapshot/);
      t.diagnostic(`clone of the unmounted source: ${Date.now() - t0} ms (TCG guest)`);
      assert.equal(unmountedClone.state, "unmounted");
      const tables = await dm.list();
      assert.ok(tables.includes("imgcreate-vmclone3-source") && tables.includes("imgcreate-vmclone3-base") && !tables.includes("imgcreate-vmclone3-root"), tables.join(" "));
      release();
      await c.mount();
      assert.ok(!(await dm.list()).includes("imgcreate-vmclone3-source"), "the source's mount waited for the copy");
      await unmountedClone.background();
      assert.ok(!(await dm.list()).some((n) => n.startsWith("imgcreate-vmclone3-")), "copied, the unmounted clone holds no table");
      assert.equal(unmountedClone.background(), undefined, "nothing runs in the background any more: the clone may rest");
      await c.unmount();
      // It rests as any unmounted image (the daemon does that between calls), and is taken up again.
      await unmountedClone.rest();
      const resumed = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmclone3", { workDir: join(tmp, "clone3"), owner: "vmclone3" });
      try {
        await resumed.resume();
        await resumed.mount();
        assert.ok(has(resumed, "a") && has(resumed, "only-source"), "the clone has the source's files");
        await resumed.unmount();
        assert.notEqual(uuid(join(tmp, "clone3", "rootfs.img")), uuid(join(tmp, "work", "rootfs.img")));
        execFileSync("e2fsck", ["-fn", join(tmp, "clone3", "rootfs.img")]);
        assert.ok(allocated(join(tmp, "clone3", "rootfs.img")) < 256 * 2 ** 20, "trimmed too");
      } finally {
        await resumed.cleanup();
      }
    } finally {
      release();
      await dropped.cleanup();
      await clone.cleanup();
      await unmountedClone.cleanup();
    }

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

// Two filesystems with one UUID cannot be mounted side by side (xfs refuses, btrfs takes the second for a
// device of the first): the clone's snapshot is relabelled before it is mounted.
const relabelled = {
  xfs: { a: "an", how: "through a nouuid mount of the snapshot", check: ["xfs_repair", "-n"] },
  btrfs: { a: "a", how: "by btrfstune on the snapshot", check: ["btrfs", "check"] },
};
for (const [fstype, { a, how, check }] of Object.entries(relabelled)) {
  test(`${a} ${fstype} root: its device-mapper clone is relabelled ${how}, and mounts beside its source`, async () => {
    const tmp = mkdtempSync("/tmp/imgcreate-vmc-");
    chmodSync(tmp, 0o711);
    const ks = () => loadKickstart("engine-minimal.ks", (t) => t.replace("part / --size=768", `part / --size=768 --fstype=${fstype}`));
    const c = new LoopImageCreator(ks(), "vmx", { workDir: join(tmp, "work"), owner: `vm${fstype}` });
    const clone = new LoopImageCreator(ks(), "vmx", { workDir: join(tmp, "clone"), owner: `vm${fstype}clone` });
    try {
      await c.mount();
      writeFileSync(join(c.instroot, "a"), "a\n");
      assert.match(await clone.cloneFrom(c), /^device-mapper snapshot/);
      assert.ok(has(clone, "a"), `the clone is mounted beside its ${fstype} source`);
      writeFileSync(join(clone.instroot, "b"), "b\n");
      assert.ok(!has(c, "b"), "the source does not see what its clone writes");
      await c.unmount();
      await clone.unmount();
      const uuid = (f: string) => execFileSync("blkid", ["-p", "-s", "UUID", "-o", "value", f], { encoding: "utf8" }).trim();
      assert.notEqual(uuid(join(tmp, "clone", "rootfs.img")), uuid(join(tmp, "work", "rootfs.img")));
      execFileSync(check[0]!, [...check.slice(1), join(tmp, "clone", "rootfs.img")], { stdio: "ignore" });
      await clone.mount();
      assert.ok(has(clone, "a") && has(clone, "b"), "the clone's own image has both files");
      await clone.unmount();
    } finally {
      await clone.cleanup();
      await c.cleanup();
    }
    assert.deepEqual(await dm.list(), []);
    rmSync(tmp, { recursive: true, force: true });
  });
}

test("a clone whose state directory cannot hold the whole image while the kernel copies it is a sparse copy, and says why", async () => {
  const tmp = mkdtempSync("/tmp/imgcreate-vmc-");
  chmodSync(tmp, 0o711);
  const small = join(tmp, "small");
  mkdirSync(small);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=512m", "tmpfs", small]);
  const c = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmspace", { workDir: join(tmp, "work"), owner: "vmspace" });
  const clone = new LoopImageCreator(loadKickstart("engine-minimal.ks"), "vmspace", { workDir: join(small, "clone"), owner: "vmspaceclone" });
  const lines: string[] = [];
  clone.on("log", (e: { line: string }) => lines.push(e.line));
  try {
    await c.mount();
    writeFileSync(join(c.instroot, "a"), "a\n");
    const how = await clone.cloneFrom(c);
    assert.doesNotMatch(how, /device-mapper/, "512 MiB free cannot take the mirror's copy of a 768 MiB image");
    assert.match(lines.join("\n"), /no device-mapper clone \(its background copy fills the whole 768 MiB image, and \S+ has \d+ MiB free\): copying the image instead/);
    assert.ok(has(clone, "a"), "the copied clone has its source's files");
    const tables = await dm.list();
    assert.ok(!tables.includes("imgcreate-vmspaceclone-source") && !tables.includes("imgcreate-vmspaceclone-base"), `no snapshot of the source, no mirror: ${tables.join(" ")}`);
  } finally {
    await clone.cleanup();
    await c.cleanup();
    execFileSync("umount", [small]);
  }
  assert.deepEqual(await dm.list(), []);
  rmSync(tmp, { recursive: true, force: true });
});
