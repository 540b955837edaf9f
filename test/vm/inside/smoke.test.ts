// Runs inside the test VM only: the guest has device-mapper and loop devices, and the host's tree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

test("the guest has device-mapper, loop devices and a writable /tmp", () => {
  assert.ok(existsSync("/dev/mapper/control"));
  assert.match(execFileSync("dmsetup", ["version"], { encoding: "utf8" }), /Driver version/);
  execFileSync("touch", ["/tmp/x"]);
});
