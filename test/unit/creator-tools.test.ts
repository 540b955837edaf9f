// A missing host tool is reported with the Debian package to install, before anything is taken.
import { test } from "node:test";
import assert from "node:assert/strict";
import { requireTools, findTool, TOOL_PACKAGES } from "../../daemon/creator/system/tools.js";
import { ImgcreateError } from "../../daemon/errors.js";

test("a missing tool names the Debian package that provides it", async () => {
  const saved = TOOL_PACKAGES["imgcreate-test-missing-tool"];
  TOOL_PACKAGES["imgcreate-test-missing-tool"] = "imgcreate-test-pkg";
  try {
    await assert.rejects(requireTools(["sh", "imgcreate-test-missing-tool"]), (e: unknown) => {
      assert.ok(e instanceof ImgcreateError);
      assert.equal(e.code, "Failed");
      assert.match(e.message, /missing host tool imgcreate-test-missing-tool: install the Debian package imgcreate-test-pkg \(apt-get install imgcreate-test-pkg\)/);
      return true;
    });
  } finally {
    if (saved === undefined) delete TOOL_PACKAGES["imgcreate-test-missing-tool"];
  }
});

test("the engine's tools map to their Debian packages", async () => {
  assert.equal(TOOL_PACKAGES.bwrap, "bubblewrap");
  assert.equal(TOOL_PACKAGES.mmdebstrap, "mmdebstrap");
  assert.equal(TOOL_PACKAGES["mkfs.xfs"], "xfsprogs");
  assert.equal(TOOL_PACKAGES.resize2fs, "e2fsprogs");
  assert.ok(await findTool("sh"));
});
