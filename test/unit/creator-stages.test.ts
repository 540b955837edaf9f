// The stage machine and the checks done before any resource is taken (no root tools needed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { emptyModel, type KickstartModel } from "../../daemon/kickstart/model.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const code = (c: string, re?: RegExp) => (e: unknown) => e instanceof ImgcreateError && e.code === c && (!re || re.test(e.message));

function ks(parts: KickstartModel["parts"] = []): KickstartModel {
  return { ...emptyModel("DEVEL"), parts };
}

test("stages out of order are refused with InvalidState and take nothing", async () => {
  const tmp = await makeTmp("creator-stages");
  try {
    const c = new LoopImageCreator(ks(), "img", { workDir: join(tmp, "w") });
    await assert.rejects(c.install(), code("InvalidState", /cannot install now: the image is new/));
    await assert.rejects(c.configure(), code("InvalidState"));
    await assert.rejects(c.unmount(), code("InvalidState"));
    await assert.rejects(c.package(join(tmp, "out")), code("InvalidState"));
    assert.throws(() => c.spawnInRoot(["/bin/sh"]), code("InvalidState"));
    assert.equal(c.state, "new");
    assert.ok(!existsSync(join(tmp, "w")));
    await c.cleanup();
    assert.equal(c.state, "cleaned");
    await assert.rejects(c.mount(), code("InvalidState"));
  } finally {
    await removeTmp(tmp);
  }
});

test("bad kickstart values are refused at mount() with FILE:LINE before any resource is taken", async () => {
  const tmp = await makeTmp("creator-stages");
  try {
    const cases: [KickstartModel["parts"], RegExp][] = [
      [[{ mountpoint: "/", sizeMiB: 0, file: "x.ks", line: 3 }], /x\.ks:3: part \/ --size must be a positive/],
      [[{ mountpoint: "/", fstype: "vfat", file: "x.ks", line: 4 }], /x\.ks:4: unknown filesystem type "vfat"/],
      [[{ mountpoint: "/", sizeMiB: 10, file: "x.ks", line: 5 }], /x\.ks:5: part \/ --size=10 is too small/],
    ];
    for (const [parts, re] of cases) {
      const c = new LoopImageCreator(ks(parts), "img", { workDir: join(tmp, "w") });
      await assert.rejects(c.mount(), code("InvalidArgs", re));
      assert.ok(!existsSync(join(tmp, "w")), "nothing created");
    }
    const long = new LoopImageCreator(ks(), "img", { workDir: join(tmp, "w"), fslabel: "a-label-that-is-too-long" });
    await assert.rejects(long.mount(), code("InvalidArgs", /longer than ext4 allows \(16\)/));
  } finally {
    await removeTmp(tmp);
  }
});

test("an unusable image name is refused at once", () => {
  assert.throws(() => new LoopImageCreator(ks(), "../etc", { workDir: "/nonexistent" }), code("InvalidArgs"));
});
