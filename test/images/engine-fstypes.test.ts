// Every fstype `part /` may name makes a labelled, checkable image on a real loop device (no package
// install needed for that: mount → unmount → package), and leaves nothing behind.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { loadKickstart } from "./fixtures/engine-kickstart.js";

let tmp = "";
before(async () => {
  tmp = await makeTmp("engine-fstypes");
});
after(async () => {
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

for (const fstype of ["ext3", "xfs", "btrfs"]) {
  test(`part / --fstype=${fstype} gives a ${fstype} image with the label`, async () => {
    const ks = loadKickstart("engine-minimal.ks", (t) => t.replace("part / --size=768", `part / --size=512 --fstype=${fstype}`));
    const c = new LoopImageCreator(ks, `fs-${fstype}`, { workDir: join(tmp, fstype), fslabel: "FSTEST" });
    try {
      await c.mount();
      const fs = execFileSync("findmnt", ["--noheadings", "--output", "FSTYPE", c.instroot], { encoding: "utf8" }).trim();
      // ext3 is mounted by the ext4 driver (its ext3 registration refuses the sandbox's idmapped mount); blkid below shows it is still ext3 on disk.
      assert.equal(fs, fstype === "ext3" ? "ext4" : fstype);
      await c.unmount();
      const [img] = await c.package(join(tmp, `${fstype}-out`));
      assert.ok(img && existsSync(img));
      const probe = execFileSync("blkid", ["--probe", "--output", "export", img!], { encoding: "utf8" });
      assert.match(probe, new RegExp(`^TYPE=${fstype}$`, "m"));
      assert.match(probe, /^LABEL=FSTEST$/m);
    } finally {
      await c.cleanup();
    }
  });
}

for (const fstype of ["xfs", "btrfs"]) {
  test(`a clone of a mounted ${fstype} root gets its own UUID and label, and mounts beside its source`, async () => {
    const ks = loadKickstart("engine-minimal.ks", (t) => t.replace("part / --size=768", `part / --size=512 --fstype=${fstype}`));
    const src = new LoopImageCreator(ks, `src-${fstype}`, { workDir: join(tmp, `src-${fstype}`), fslabel: "SRC" });
    const clone = new LoopImageCreator(ks, `cln-${fstype}`, { workDir: join(tmp, `cln-${fstype}`), fslabel: "CLN" });
    const uuid = (dev: string) => execFileSync("findmnt", ["--noheadings", "--output", "UUID", dev], { encoding: "utf8" }).trim();
    try {
      await src.mount();
      writeFileSync(join(src.instroot, "written-before-the-clone"), "x\n");
      await clone.cloneFrom(src);
      // xfs refuses to mount a second filesystem with a UUID already mounted: both being mounted is the proof.
      assert.equal(clone.state, "mounted");
      assert.ok(existsSync(join(clone.instroot, "written-before-the-clone")), "the clone has the source's files");
      assert.notEqual(uuid(clone.instroot), uuid(src.instroot));
      const label = execFileSync("findmnt", ["--noheadings", "--output", "LABEL", clone.instroot], { encoding: "utf8" }).trim();
      assert.equal(label, "CLN");
      writeFileSync(join(clone.instroot, "only-in-the-clone"), "y\n");
      assert.ok(!existsSync(join(src.instroot, "only-in-the-clone")));
    } finally {
      await clone.cleanup();
      await src.cleanup();
    }
  });
}
