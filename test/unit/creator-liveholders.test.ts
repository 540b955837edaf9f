// deviceNumber() reads a block device node's major:minor from the node itself, so it works for loop
// devices and for /dev/mapper tables (whose nodes have no /sys/class/block entry by that name).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { deviceNumber } from "../../daemon/creator/liveholders.js";

test("deviceNumber gives major:minor as the kernel writes it in /sys/class/block/*/dev", async (t) => {
  const devs = readdirSync("/sys/class/block").filter((d) => existsSync(`/dev/${d}`)).slice(0, 8);
  if (devs.length === 0) return t.skip("no block device node in /dev");
  for (const d of devs) assert.equal(await deviceNumber(`/dev/${d}`), readFileSync(`/sys/class/block/${d}/dev`, "utf8").trim(), d);
  assert.equal(await deviceNumber("/dev/null"), undefined, "not a block device");
  assert.equal(await deviceNumber("/nonexistent"), undefined);
});
