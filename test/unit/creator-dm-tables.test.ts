// Device-mapper table lines and status parsing (the tables themselves are exercised in the test VM).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as dm from "../../daemon/creator/system/dm.js";

test("a mirror's status: regions in sync of the total, and whether both legs are alive", () => {
  // Lines as `dmsetup status` printed them in the test VM (Debian's 6.1 kernel) while a clone copied.
  assert.deepEqual(dm.parseMirrorStatus("0 4194304 mirror 2 253:1 7:2 3031/4096 1 AA 1 core"), { inSync: 3031, total: 4096, healthy: true });
  assert.deepEqual(dm.parseMirrorStatus("0 4194304 mirror 2 253:1 7:2 4096/4096 1 AA 1 core"), { inSync: 4096, total: 4096, healthy: true });
  assert.equal(dm.parseMirrorStatus("0 4194304 mirror 2 253:1 7:2 12/4096 1 AD 1 core").healthy, false, "a dead second leg");
  assert.throws(() => dm.parseMirrorStatus("0 4194304 linear"), /mirror status not understood: 0 4194304 linear/);
});

test("table lines: the clone's mirror reads its first leg and copies it into the second", () => {
  assert.equal(dm.tables.mirror("/dev/mapper/imgcreate-s-source", "/dev/loop7", 2048), "0 2048 mirror core 1 1024 2 /dev/mapper/imgcreate-s-source 0 /dev/loop7 0");
  assert.equal(dm.tables.snapshot("/dev/loop1", "/dev/loop2", 2048), "0 2048 snapshot /dev/loop1 /dev/loop2 P 8");
  assert.equal(dm.tableName("abc123", "base"), "imgcreate-abc123-base");
  assert.throws(() => dm.tableName("x".repeat(120), "base"), /not a usable device-mapper name/);
});

test("a control node alone is not device-mapper: the kernel must answer it (dmsetup makes the node where the driver is missing)", { skip: process.getuid?.() !== 0 && "mknod needs root" }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "imgcreate-test-dmnode-"));
  try {
    const node = join(dir, "control");
    execFileSync("mknod", ["-m", "600", node, "c", "10", "236"]);
    assert.equal(dm.available(node), existsSync("/sys/class/misc/device-mapper"), "available exactly when the kernel has the driver");
    assert.equal(dm.available(join(dir, "missing")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
