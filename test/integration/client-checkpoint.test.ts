// Checkpoints and clones through the client and the real daemon, as alice: try something in the shell
// and go back (`session checkpoint` / `rollback`), branch the session (`session clone`) and package the
// branch while the source stays installed; the session log names how the image was copied. bob (not
// in imgbuilders) may neither clone nor roll back alice's session. kill -9 of the daemon in the middle of
// a clone of a packaged session: the source keeps its resting image, the clone is interrupted or done.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { imgcreateAs, jsonLines, ourProgram, userDir, writeSmallKs } from "./client-cli.js";

let h: Harness;
let home: string;

before(async () => {
  h = await startHarness({ daemon: true });
  home = userDir(h, "alice", "alice");
  writeSmallKs(home, "small.ks");
});

after(async () => {
  await h?.stop({ assertNoLeaks: true });
});

const alice = (args: string[], timeout?: number) => imgcreateAs(h, "alice", args, home, timeout);
const ok = async (args: string[], timeout?: number) => {
  const r = await alice(args, timeout);
  assert.equal(r.exitCode, 0, `imgcreate ${args.join(" ")}: ${r.stderr}${r.stdout.slice(-1500)}`);
  return r.stdout;
};
const state = async (id: string) => jsonLines(await ok(["--json", "session", "show", id]))[0]!["state"];

test("checkpoint, try something in the shell, roll back; clone and package the clone; the source stays", { timeout: 1_200_000 }, async () => {
  const id = (await ok(["session", "create", "--type", "loop", "--name", "branch", "small.ks"])).trim();
  await ok(["session", "mount", id], 300_000);
  await ok(["session", "install", id], 900_000);

  await ok(["session", "checkpoint", id, "clean"]);
  await ok(["shell", id, "--", "sh", "-c", "echo tried > /etc/tried && rm /bin/hostname"]);
  await ok(["--transport", "socket", "--socket", h.socketPath, "session", "rollback", id, "clean"]);
  assert.equal(await state(id), "installed");
  const gone = await alice(["shell", id, "--", "sh", "-c", "test ! -e /etc/tried && test -x /bin/hostname"]);
  assert.equal(gone.exitCode, 0, "the image is back as it was at the checkpoint");
  const listed = jsonLines(await ok(["--json", "session", "checkpoints", id]));
  assert.deepEqual(listed.map((c) => c["checkpoint"]), ["clean"]);
  assert.ok(Number(listed[0]!["bytes"]) > 0, "CheckpointUsage says what the checkpoint takes");
  assert.match(await ok(["session", "checkpoints", id]), /^CHECKPOINT\s+SIZE\nclean\s+\d/);

  const dup = await alice(["session", "checkpoint", id, "clean"]);
  assert.equal(dup.exitCode, 2, "a name in use is a usage error");
  assert.match(dup.stderr, /already has a checkpoint named "clean"/);
  const bob = await imgcreateAs(h, "bob", ["session", "clone", id], home);
  assert.equal(bob.exitCode, 3, "bob may not clone alice's session");
  assert.equal((await imgcreateAs(h, "bob", ["session", "rollback", id, "clean"], home)).exitCode, 3);

  const cloned = jsonLines(await ok(["--json", "session", "clone", id, "--name", "branch2"]))[0]!;
  const clone = String(cloned["session"]);
  assert.notEqual(clone, id);
  const shown = jsonLines(await ok(["--json", "session", "show", clone]))[0]!;
  assert.equal(shown["state"], "installed", "the clone is at the source's state");
  assert.equal(shown["owner"], h.users.alice.uid);
  assert.equal(shown["name"], "branch2");
  await ok(["shell", clone, "--", "sh", "-c", "echo branch > /etc/branch"]);
  await ok(["session", "configure", clone], 300_000);
  await ok(["session", "unmount", clone], 120_000);
  const out = userDir(h, "alice", "out-branch");
  await ok(["session", "package", clone, "-o", out], 300_000);
  assert.equal(statSync(join(out, "branch2.img")).uid, h.users.alice.uid);

  assert.equal(await state(id), "installed", "the source is untouched by its clone");
  const notThere = await alice(["shell", id, "--", "test", "!", "-e", "/etc/branch"]);
  assert.equal(notThere.exitCode, 0);
  const log = await ok(["session", "logs", clone]);
  assert.match(log, /cloned from session \w+ \((reflink|sparse copy)\)/);
  assert.match(await ok(["session", "logs", id]), /checkpoint clean taken \((reflink|sparse copy)\)/);

  await ok(["session", "drop-checkpoint", id, "clean"]);
  assert.equal((await ok(["session", "checkpoints", id])).trim(), "no checkpoints");
  await ok(["session", "close", clone], 120_000);
  await ok(["session", "close", id], 120_000);
});

test("kill -9 of the daemon while it clones a packaged session: after the restart the source keeps its image; nothing leaks", { timeout: 1_200_000 }, async () => {
  const id = (await ok(["session", "create", "--type", "loop", "--name", "kept", "small.ks"])).trim();
  await ok(["build", "--session", id, "-o", userDir(h, "alice", "out-kept")], 900_000);
  assert.equal(await state(id), "packaged");

  const [cmd, ...pre] = ourProgram("imgcreate");
  const child = h.spawnAs("alice", cmd!, [...pre, "session", "clone", id], { cwd: home });
  const exited = new Promise((r) => child.once("exit", r));
  // The clone copies and checks a 1 GiB image: a moment in, the daemon dies.
  await new Promise((r) => setTimeout(r, 1500));
  await h.stopDaemon("SIGKILL");
  await exited;
  await h.restartDaemon();

  const sessions = jsonLines(await ok(["--json", "session", "list"]));
  const byId = new Map(sessions.map((s) => [String(s["id"]), String(s["state"])]));
  assert.equal(byId.get(id), "packaged", "the source's resting image survives the crash");
  for (const [other, st] of byId) if (other !== id) assert.match(st, /^(interrupted|packaged)$/, `the clone ${other} is ${st}`);
  assert.doesNotMatch(execFileSync("losetup", ["-a"], { encoding: "utf8" }), new RegExp(h.dir.replaceAll("/", "\\/")));

  await ok(["session", "mount", id], 300_000);
  assert.doesNotMatch(await ok(["session", "logs", id]), /building it anew/, "Mount re-opens the kept image");
  for (const other of byId.keys()) await ok(["session", "close", other], 120_000);
});
