// What goes wrong, as a user meets it: a missing package, an excluded package something needs, a
// failing %post --erroronfail, a cancel mid-install, and the engine's process killed with SIGKILL
// mid-install followed by recover(). Each ends with nothing of ours left.
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LoopImageCreator, outstanding, recover } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { loadKickstart } from "./fixtures/engine-kickstart.js";

const isCode = (code: string, re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ImgcreateError, `an ImgcreateError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

describe("engine failure paths", { timeout: 15 * 60_000 }, () => {
  let tmp = "";
  let n = 0;
  let creator: LoopImageCreator | undefined;
  const workDir = () => join(tmp, `work-${n}`);
  const make = (edit: (t: string) => string) => {
    n++;
    creator = new LoopImageCreator(loadKickstart("engine-minimal.ks", edit), `fail${n}`, { workDir: workDir() });
    return creator;
  };

  before(async () => {
    tmp = await makeTmp("engine-fail");
  });
  afterEach(async () => {
    await creator?.cleanup();
    creator = undefined;
    assertNoLeaks({ tmp: false });
  });
  after(async () => {
    await removeTmp(tmp);
    assertNoLeaks({ tmp: false });
  });

  test("a missing package is refused naming its %packages line; a busy root is not unmounted until its holder is gone", async () => {
    const c = make((t) => t.replace("%packages --excludedocs\n", "%packages --excludedocs\nprocps\nno-such-package-imgcreate\n"));
    await c.mount();
    await assert.rejects(c.install(), isCode("InvalidArgs", /engine-minimal\.ks:7: no package or group "no-such-package-imgcreate"/));
    assert.equal(c.state, "failed");
    // While a process sits in the root, unmount is refused naming it (never a lazy umount) ...
    const holder = spawn("sleep", ["600"], { cwd: c.instroot, stdio: "ignore" });
    const gone = new Promise((r) => holder.once("exit", r));
    try {
      await assert.rejects(c.unmount(), isCode("Busy", new RegExp(`cannot unmount .*held by sleep \\(pid ${holder.pid}\\)`)));
    } finally {
      holder.kill("SIGKILL");
      await gone;
    }
    // ... and works once it is gone.
    await c.unmount();
    assert.equal(c.state, "unmounted");
  });

  test("part / --size=0 is refused before any resource is taken", async () => {
    const c = make((t) => t.replace("part / --size=768", "part / --size=0"));
    await assert.rejects(c.mount(), isCode("InvalidArgs", /engine-minimal\.ks:2: part \/ --size must be a positive/));
    assert.ok(!existsSync(join(workDir(), "journal.jsonl")), "no journal: nothing was taken");
  });

  test("an excluded package that another one requires is an error naming both", async () => {
    const c = make((t) => t.replace("%packages --excludedocs\n", "%packages --excludedocs\nprocps\n-libproc2-0\n"));
    await c.mount();
    await assert.rejects(c.install(), isCode("InvalidArgs", /engine-minimal\.ks:7: package libproc2-0 is excluded .* procps requires it/));
  });

  test("--ignoremissing skips what is missing with a warning; %post --erroronfail fails configure with its FILE:LINE and last output", async () => {
    const c = make(
      (t) =>
        t.replace("%packages --excludedocs\n", "%packages --excludedocs --ignoremissing\nno-such-package-imgcreate\n@no-such-group\n%end\n").replace(/%end\n$/, "") +
        `%post --erroronfail\necho "about to fail"\nexit 3\n%end\n%post\ntouch /should-not-run\n%end\n`,
    );
    const logs: string[] = [];
    const warnings: string[] = [];
    c.on("log", (l) => {
      logs.push(l.line);
      if (l.priority === "warning") warnings.push(l.line);
    });
    await c.mount();
    await c.install();
    assert.ok(warnings.some((w) => /engine-minimal\.ks:6: skipping missing package or group "no-such-package-imgcreate"/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /engine-minimal\.ks:7: skipping missing package or group "no-such-group"/.test(w)));
    await assert.rejects(c.configure(), isCode("Failed", /engine-minimal\.ks:9: %post failed with exit status 3 \(--erroronfail\); last output: about to fail/));
    assert.ok(logs.includes("about to fail"));
    assert.ok(!existsSync(join(c.instroot, "should-not-run")), "later %post scripts do not run");
    // A shell into the failed, still mounted root (what the daemon's OpenShell uses), sandboxed.
    const sh = c.spawnInRoot(["/bin/sh", "-c", "echo in-root; ls /proc | grep -c '^[0-9]*$'"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    sh.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    assert.equal(await new Promise((r) => sh.once("close", r)), 0);
    assert.match(out, /^in-root\n[1-4]\n$/);
    await c.unmount();
  });

  test("a root too small for its packages says that the image's root filesystem is full", async () => {
    const c = make((t) => t.replace("part / --size=768", "part / --size=64"));
    await c.mount();
    await assert.rejects(c.install(), isCode("Failed", /install root filesystem at .* is full: give it more room with a larger `part \/ --size`/));
  });

  test("cancelling install with its AbortSignal stops mmdebstrap and leaves nothing after cleanup", async () => {
    const c = make((t) => t.replace("%packages --excludedocs\n", "%packages --excludedocs\nprocps\n"));
    const ac = new AbortController();
    c.on("progress", (p) => {
      if (p.stage === "install" && (p.fraction ?? 0) >= 0.3) ac.abort();
    });
    await c.mount();
    await assert.rejects(c.install(ac.signal), isCode("Cancelled"));
    await c.cleanup();
    assert.equal(c.state, "cleaned");
    assert.ok(!existsSync(join(workDir(), "rootfs.img")));
  });

  test("SIGKILL of the engine's process mid-install, then recover(), leaves nothing", async () => {
    n++;
    const dir = workDir();
    const here = fileURLToPath(import.meta.url);
    const child = here.endsWith(".ts")
      ? spawn(process.execPath, ["--import", "tsx", join(here, "../fixtures/engine-child.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] })
      : spawn(process.execPath, [join(here, "../fixtures/engine-child.js"), dir], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((r) => child.once("exit", r));
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("mid-install")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`the engine process ended before mid-install (${code}): ${out}`)));
    });
    child.kill("SIGKILL");
    await exited;
    const held = outstanding(dir).map((h) => h.kind);
    for (const kind of ["file", "loop", "mount"]) assert.ok(held.includes(kind as never), `the journal holds a ${kind}: ${held.join(",")}`);
    const { released } = await recover(dir);
    assert.ok(released >= 4);
    assert.ok(!existsSync(join(dir, "journal.jsonl")));
    assert.ok(!existsSync(join(dir, "rootfs.img")));
    assertNoLeaks({ tmp: false });
    // A second recover finds nothing to do.
    assert.deepEqual(await recover(dir), { released: 0 });
  });
});
