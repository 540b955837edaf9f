// The loop a user iterates in, through the client and the real daemon: a kept session is built,
// its kickstart replaced (`session edit`, over the socket here), and `build --session` rebuilds it from
// its own image: only the package difference is installed, the new %post runs, a new artifact is
// written as alice; the session stays open. A mounted session's kickstart cannot be replaced. Between the
// builds imgcreated is restarted: a packaged session's image rests on disk and survives it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { imgcreateAs, jsonLines, userDir, writeSmallKs, writeUserFile } from "./client-cli.js";

let h: Harness;
let home: string;

before(async () => {
  h = await startHarness({ daemon: true });
  home = userDir(h, "alice", "alice");
  const ks = readFileSync(writeSmallKs(home, "small.ks"), "utf8");
  writeUserFile(join(home, "more.ks"), ks.replace("%packages\n", "%packages\ntree\n").replace("echo client-test-marker", "echo edited"));
  writeUserFile(join(home, "bad.ks"), ks + "frobnicate --now\n");
});

after(async () => {
  await h?.stop({ assertNoLeaks: true });
});

/** A file's existence inside an ext4 image, read with debugfs (no mount). */
function inImage(img: string, path: string): boolean {
  const out = execFileSync("debugfs", ["-R", `stat ${path}`, img], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return /Inode: \d+/.test(out);
}

test("session edit + build --session rebuild a kept session from its own image with the package difference", { timeout: 1_200_000 }, async () => {
  const created = await imgcreateAs(h, "alice", ["session", "create", "--type", "loop", "--name", "iter", "small.ks"], home);
  assert.equal(created.exitCode, 0, created.stderr);
  const id = created.stdout.trim();
  const out1 = userDir(h, "alice", "out1");
  const first = await imgcreateAs(h, "alice", ["build", "--session", id, "-o", out1], home, 900_000);
  assert.equal(first.exitCode, 0, first.stderr + first.stdout.slice(-1500));
  assert.ok(!inImage(join(out1, "iter.img"), "/usr/bin/tree"));

  await h.restartDaemon();
  const after = await imgcreateAs(h, "alice", ["--json", "session", "show", id], home);
  assert.equal(jsonLines(after.stdout)[0]!["state"], "packaged", "a resting session is not interrupted by a restart");

  const bad = await imgcreateAs(h, "alice", ["session", "edit", id, "bad.ks"], home);
  assert.equal(bad.exitCode, 2, bad.stderr);
  assert.match(bad.stderr, /bad\.ks:\d+: error: .*frobnicate/);

  const edit = await imgcreateAs(h, "alice", ["--transport", "socket", "--socket", h.socketPath, "session", "edit", id, "more.ks"], home);
  assert.equal(edit.exitCode, 0, edit.stderr);

  const out2 = userDir(h, "alice", "out2");
  const second = await imgcreateAs(h, "alice", ["--json", "build", "--session", id, "-o", out2], home, 900_000);
  assert.equal(second.exitCode, 0, second.stderr + second.stdout.slice(-1500));
  const events = jsonLines(second.stdout.split("\n").filter((l) => l.startsWith("{")).join("\n"));
  const log = events.filter((e) => e["event"] === "log").map((e) => String(e["line"]));
  assert.ok(log.some((l) => /package changes: add tree; nothing to remove/.test(l)), log.filter((l) => /package/.test(l)).join("\n"));
  assert.deepEqual(events.filter((e) => e["event"] === "stage-end").map((e) => e["stage"]), ["mount", "install", "configure", "unmount", "package"]);
  const img = join(out2, "iter.img");
  assert.equal(statSync(img).uid, h.users.alice.uid);
  assert.ok(inImage(img, "/usr/bin/tree"), "the added package is in the rebuilt image");
  assert.ok(inImage(img, "/etc/imgcreate-client-marker"), "what the first build made is still there");

  const show = await imgcreateAs(h, "alice", ["--json", "session", "show", id], home);
  assert.equal(jsonLines(show.stdout)[0]!["state"], "packaged", "the session stays open");
  const mount = await imgcreateAs(h, "alice", ["session", "mount", id], home, 300_000);
  assert.equal(mount.exitCode, 0, mount.stderr);
  const refused = await imgcreateAs(h, "alice", ["session", "edit", id, "small.ks"], home);
  assert.equal(refused.exitCode, 1, refused.stderr);
  assert.match(refused.stderr, /cannot SetKickstart a session that is mounted/);
  const close = await imgcreateAs(h, "alice", ["session", "close", id], home, 120_000);
  assert.equal(close.exitCode, 0, close.stderr);
});
