// Who is calling: the start time polkit compares, and the cache keys.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { callerKey, primaryGid, processStartTime } from "../../daemon/auth/caller.js";
import { Polkit } from "../../daemon/auth/polkit.js";
import { ImgcreateError } from "../../daemon/errors.js";

describe("caller identity", () => {
  it("reads a process's start time as ps does, even with spaces and parentheses in its name", async () => {
    const child = spawn("/bin/bash", ["-c", "exec -a 'odd (name) x' sleep 5"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const t = processStartTime(child.pid!);
      const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
      assert.ok(stat.includes(` ${t} `));
      assert.ok(t > 0n);
    } finally {
      child.kill();
    }
  });

  it("says NotAuthorized for a process that is gone", () => {
    assert.throws(() => processStartTime(2 ** 22 + 17), (e: unknown) => e instanceof ImgcreateError && e.code === "NotAuthorized");
  });

  it("keys callers per bus connection or per process incarnation", () => {
    assert.equal(callerKey({ kind: "dbus", busName: ":1.5", uid: 1, pid: 2 }), "dbus::1.5");
    assert.notEqual(
      callerKey({ kind: "unix", pid: 9, uid: 1, gid: 1, startTime: 10n, connection: 1 }),
      callerKey({ kind: "unix", pid: 9, uid: 1, gid: 1, startTime: 11n, connection: 1 }),
    );
  });

  it("finds root's primary group in the user database", async () => {
    assert.equal(await primaryGid(0), 0);
  });
});

describe("Polkit without a bus", () => {
  it("lets root through and refuses others with a sentence", async () => {
    const p = new Polkit(null);
    await p.check({ kind: "dbus", busName: ":1.1", uid: 0, pid: 1 }, "org.imgcreate.build", {}, false);
    await assert.rejects(
      p.check({ kind: "dbus", busName: ":1.2", uid: 1000, pid: 1 }, "org.imgcreate.build", {}, false),
      (e: unknown) => e instanceof ImgcreateError && e.code === "NotAuthorized" && /polkit/.test(e.message),
    );
  });
});
