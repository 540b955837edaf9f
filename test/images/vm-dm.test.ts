// The device-mapper path, proved where device-mapper exists: this host's kernel has none, so the tests
// under test/vm/inside run in a qemu guest booting Debian's own kernel (test/vm/run.ts), with this tree
// shared read-only: the dm primitives, a loop creator whose checkpoints are dm snapshots, and the daemon
// itself killed in the middle of a clone and while a clone copies itself. Skipped, saying why, when qemu is not installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runInVm } from "../vm/run.js";
import { PROJECT_ROOT } from "../helpers/harness.js";

const qemu = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"].some(existsSync);

test("in a VM with Debian's kernel: dm snapshots keep their bytes; checkpoints are snapshots that rollback merges back; kill -9 of imgcreated mid-clone leaves no table or loop device", { skip: !qemu && "qemu-system-x86_64 is not installed", timeout: 20 * 60_000 }, async (t) => {
  const files = ["smoke", "dm", "creator", "daemon"].map((f) => join(PROJECT_ROOT, "dist/test/vm/inside", `${f}.test.js`));
  const r = await runInVm(files, { timeoutMs: 15 * 60_000 });
  const tail = r.output.split("\n").filter((l) => !/^\[\s*\d+\.\d+\]/.test(l)).slice(-40).join("\n");
  for (const l of r.output.split("\n").filter((l) => /^[✔✖]|TCG guest/.test(l.trim()))) t.diagnostic(l.trim());
  assert.equal(r.status, 0, tail);
  assert.match(r.output, /\bpass 11$/m, tail);
  assert.match(r.output, /\bfail 0$/m, tail);
});
