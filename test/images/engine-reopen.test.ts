// A session's image is kept and re-opened: build and package it, change the kickstart (one package
// added, one dropped, another %post), mount the same image again, and Install brings only the
// difference (apt-get in the sandbox) while everything else of the first build is still there;
// Configure runs the new %post; packaging again leaves the session's image usable once more. Between
// the builds the image rests: a new creator (as in a restarted daemon, after its recovery) resumes it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ImageCreator, LoopImageCreator, recover } from "../../daemon/creator/index.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import type { KickstartModel } from "../../daemon/kickstart/model.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES } from "./fixtures/engine-kickstart.js";

let tmp = "";
let creator: LoopImageCreator | undefined;
before(async () => (tmp = await makeTmp("reopen")));
after(async () => {
  await creator?.cleanup();
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

function model(pkg: string, post: string): KickstartModel {
  const ksPath = join(FIXTURES, "engine-minimal.ks");
  const text = readFileSync(ksPath, "utf8").replace("%packages --excludedocs\n", `%packages --excludedocs\n${pkg}\n`) + `%post\necho ${post} > /etc/${post}\n%end\n`;
  const { model, diagnostics } = parseKickstart(ksPath, { readFile: mapReader({ [ksPath]: text }), cwd: FIXTURES });
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  return model;
}

const installed = (root: string) =>
  execFileSync("dpkg-query", [`--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${Package} ${db:Status-Abbrev}\n"], { encoding: "utf8" });

test("a packaged image is mounted again, gets the new kickstart's package difference and %post, and packages again", { timeout: 15 * 60_000 }, async () => {
  creator = new LoopImageCreator(model("hello", "post-one"), "reopen", { workDir: join(tmp, "work") });
  const log: string[] = [];
  creator.on("log", (e) => log.push(e.line));
  await creator.mount();
  await creator.install();
  assert.match(installed(creator.instroot), /^hello ii/m);
  await creator.configure();
  await creator.unmount();
  const [first] = await creator.package(join(tmp, "out1"));
  assert.ok(existsSync(first!));
  assert.ok(existsSync(join(tmp, "work", "rootfs.img")), "the session keeps its image after packaging");

  // At rest only files are left, which the journal no longer names: recovery keeps them.
  await creator.rest();
  await recover(join(tmp, "work"));
  assert.ok(existsSync(join(tmp, "work", "rootfs.img")), "recovery keeps a resting image");
  creator = new LoopImageCreator(model("tree", "post-two"), "reopen", { workDir: join(tmp, "work") });
  creator.on("log", (e) => log.push(e.line));
  await creator.resume();
  assert.equal(creator.state, "packaged");
  // Resumed but not yet written: a crash now (recovery of its journal) still keeps the image.
  await recover(join(tmp, "work"));
  assert.ok(await ImageCreator.canResume(join(tmp, "work")), "a resumed image that was only read survives a crash");
  await creator.mount();
  assert.ok(existsSync(join(creator.instroot, "etc/post-one")), "the same image, as it was left");
  await creator.install();
  assert.ok(log.some((l) => /package changes: add tree; remove hello/.test(l)), log.filter((l) => /package changes/.test(l)).join("\n"));
  const now = installed(creator.instroot);
  assert.match(now, /^tree ii/m);
  assert.doesNotMatch(now, /^hello /m, "the dropped package is purged");
  await creator.configure();
  assert.ok(existsSync(join(creator.instroot, "etc/post-two")));
  await creator.unmount();
  const [second] = await creator.package(join(tmp, "out2"));
  execFileSync("e2fsck", ["-fn", second!], { stdio: "pipe" });
  // The first artifact is untouched by the second build.
  execFileSync("e2fsck", ["-fn", first!], { stdio: "pipe" });
  assert.equal(creator.state, "packaged");
});
