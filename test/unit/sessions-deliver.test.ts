// Artifacts reach the caller with the caller's rights (as root, with the real user "nobody"): the file is
// the caller's, a destdir the caller cannot write is refused, and a symlink planted in destdir cannot make
// root write elsewhere.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImgcreateError } from "../../daemon/errors.js";
import { checkDestdir, deliver } from "../../daemon/sessions/deliver.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const NOBODY = { uid: 65534, gid: 65534 };
const root = process.getuid?.() === 0;

describe("delivering artifacts as the caller", { skip: !root && "needs root" }, () => {
  let dir = "";
  let artifact = "";
  let dest = "";
  before(async () => {
    dir = await makeTmp("deliver-unit");
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "state"), { mode: 0o700 });
    artifact = join(dir, "state", "image.img");
    writeFileSync(artifact, "image bytes\n");
    dest = join(dir, "dest");
    mkdirSync(dest);
    chownSync(dest, NOBODY.uid, NOBODY.gid);
  });
  after(async () => removeTmp(dir));

  it("writes the file into destdir owned by the caller, from a file the caller could not read", async () => {
    await checkDestdir(NOBODY, dest);
    const out = await deliver(NOBODY, artifact, dest);
    assert.equal(out, join(dest, "image.img"));
    assert.equal(statSync(out).uid, NOBODY.uid);
    assert.equal(readFileSync(out, "utf8"), "image bytes\n");
  });

  it("refuses a destdir the caller cannot write, and one that is not a directory", async () => {
    const isInvalid = (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs";
    await assert.rejects(checkDestdir(NOBODY, join(dir, "state")), isInvalid);
    await assert.rejects(checkDestdir(NOBODY, "/root"), isInvalid);
    await assert.rejects(checkDestdir(NOBODY, artifact), isInvalid);
    await assert.rejects(checkDestdir(NOBODY, join(dir, "missing")), isInvalid);
  });

  it("a symlink in destdir named like the artifact does not redirect the write", async () => {
    const victim = join(dir, "state", "victim");
    const d2 = join(dir, "dest2");
    mkdirSync(d2);
    chownSync(d2, NOBODY.uid, NOBODY.gid);
    symlinkSync(victim, join(d2, "image.img"));
    await assert.rejects(deliver(NOBODY, artifact, d2), (e: unknown) => e instanceof ImgcreateError && e.code === "Failed" && /could not write/.test(e.message));
    assert.equal(existsSync(victim), false);
    assert.ok(lstatSync(join(d2, "image.img")).isSymbolicLink());
  });

  it("a destdir that is a symlink to a root-only place is refused", async () => {
    const link = join(dir, "dest-link");
    symlinkSync("/root", link);
    await assert.rejects(checkDestdir(NOBODY, link), (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs");
  });
});
