// The cache of installed roots through the daemon, as its users meet it: alice builds the same small
// image twice with a different %post and the second build's log says it started from the cached root;
// only an administrator lists and empties the cache (org.imgcreate.manage-cache), over D-Bus and the
// socket alike. The daemon's cache is <cache-dir>/roots of the harness's shared package cache, so the
// test empties it first and last.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { imgcreateAs, jsonLines, ourProgram, userDir, writeSmallKs, writeUserFile } from "./client-cli.js";

let h: Harness;
let home: string;

function asRoot(args: string[]) {
  const [cmd, ...pre] = ourProgram("imgcreate");
  return h.runAs("root", cmd!, [...pre, ...args], { cwd: h.dir, timeoutMs: 60_000 });
}

before(async () => {
  h = await startHarness({ daemon: true, daemonArgs: ["--root-cache-size", "8192"] });
  home = userDir(h, "alice", "alice");
  const ks = readFileSync(writeSmallKs(home, "small.ks"), "utf8");
  writeUserFile(join(home, "again.ks"), ks.replace("echo client-test-marker", "echo second-build"));
  const pruned = await asRoot(["cache", "prune"]);
  assert.equal(pruned.exitCode, 0, pruned.stderr);
});

after(async () => {
  if (h) await asRoot(["cache", "prune"]);
  await h?.stop({ assertNoLeaks: true });
});

test("the second build of the same packages starts from the cached root; only an administrator lists and prunes the cache", { timeout: 1_200_000 }, async () => {
  const out = userDir(h, "alice", "out");
  const first = await imgcreateAs(h, "alice", ["--json", "build", "--type", "loop", "--name", "first", "-o", out, "small.ks"], home, 900_000);
  assert.equal(first.exitCode, 0, first.stderr + first.stdout.slice(-2000));
  const logOf = (stdout: string) => jsonLines(stdout.split("\n").filter((l) => l.startsWith("{")).join("\n")).filter((e) => e["event"] === "log").map((e) => String(e["line"]));
  assert.ok(logOf(first.stdout).some((l) => /installed root kept in the cache/.test(l)), logOf(first.stdout).filter((l) => /cache|install/i.test(l)).slice(-15).join("\n"));

  const second = await imgcreateAs(h, "alice", ["--json", "build", "--type", "loop", "--name", "second", "-o", out, "again.ks"], home, 900_000);
  assert.equal(second.exitCode, 0, second.stderr + second.stdout.slice(-2000));
  assert.ok(logOf(second.stdout).some((l) => /installed root cache hit [0-9a-f]{12}/.test(l)), logOf(second.stdout).slice(-10).join("\n"));
  assert.equal(statSync(join(out, "second.img")).uid, h.users.alice.uid);

  const refused = await imgcreateAs(h, "alice", ["cache", "list"], home);
  assert.equal(refused.exitCode, 3, refused.stderr);
  assert.match(refused.stderr, /^imgcreate: not authorized: .*org\.imgcreate\.manage-cache/);
  assert.doesNotMatch(refused.stderr, /\n\s+at /);

  for (const transport of [[], ["--transport", "socket", "--socket", h.socketPath]]) {
    const list = await asRoot([...transport, "--json", "cache", "list"]);
    assert.equal(list.exitCode, 0, list.stderr);
    const entries = jsonLines(list.stdout);
    assert.equal(entries.length, 1, list.stdout);
    assert.match(String(entries[0]!["summary"]), /ext4 1024 MiB/);
    assert.ok(Number(entries[0]!["bytes"]) > 50 * 2 ** 20);
  }
  const table = await asRoot(["cache", "list"]);
  assert.match(table.stdout, /^KEY\s+SIZE\s+LAST USED\s+CONTENT\n[0-9a-f]{12}\s/);

  const pruned = await asRoot(["--json", "cache", "prune"]);
  assert.equal(pruned.exitCode, 0, pruned.stderr);
  assert.ok(Number(jsonLines(pruned.stdout)[0]!["freed"]) > 50 * 2 ** 20);
  const empty = await asRoot(["cache", "list"]);
  assert.equal(empty.stdout, "the cache of installed roots is empty\n");
});
