// Runs inside the test VM: imgcreated itself (root over its socket; no bus, and polkit is not asked for
// root) where the kernel has device-mapper. A mounted session's root is a table named after the session,
// a checkpoint is a snapshot (the session log says so), rollback works; then kill -9 of the daemon in the
// middle of a clone, and a restart: `dmsetup ls` and `losetup -a` are clean and the sessions interrupted.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import * as dm from "../../../daemon/creator/system/dm.js";
import { holdMirrorCopies } from "./copy-throttle.js";

const pexec = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../../..", import.meta.url)).replace(/\/dist\/$/, "/");
const tmp = mkdtempSync("/tmp/imgcreate-vmd-");
chmodSync(tmp, 0o711);
const sock = join(tmp, "api.sock");
let daemon: ChildProcess | undefined;

function startDaemon(): Promise<void> {
  rmSync(sock, { force: true });
  const args = [join(ROOT, "bin/imgcreated"), "--bus", "none", "--socket", sock, "--state-dir", join(tmp, "state"), "--cache-dir", join(tmp, "cache"), "--root-cache-size", "0"];
  daemon = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((resolve, reject) => {
    const t = setInterval(() => existsSync(sock) && (clearInterval(t), resolve()), 100);
    daemon!.once("exit", (code) => (clearInterval(t), reject(new Error(`imgcreated exited (${code})`))));
  });
}

async function stopDaemon(signal: NodeJS.Signals): Promise<void> {
  const d = daemon;
  if (!d || d.exitCode !== null) return;
  const gone = new Promise((r) => d.once("exit", r));
  d.kill(signal);
  await gone;
}

after(async () => {
  await stopDaemon("SIGTERM");
  rmSync(tmp, { recursive: true, force: true });
});

const imgcreate = async (...args: string[]) =>
  (await pexec(process.execPath, [join(ROOT, "bin/imgcreate"), "--transport", "socket", "--socket", sock, ...args], { cwd: tmp, timeout: 300_000 })).stdout;

test("the daemon's sessions use dm tables; kill -9 mid-clone, restart: no table or loop device left, sessions interrupted", async () => {
  writeFileSync(join(tmp, "vm.ks"), readFileSync(join(ROOT, "test/images/fixtures/engine-minimal.ks"), "utf8"));
  await startDaemon();
  const id = (await imgcreate("session", "create", "--type", "loop", "--name", "vmd", "vm.ks")).trim();
  await imgcreate("session", "mount", id);
  assert.deepEqual(await dm.list(), [`imgcreate-${id}-root`]);
  await imgcreate("session", "checkpoint", id, "c1");
  assert.match(await imgcreate("session", "logs", id), /checkpoint c1 taken \(device-mapper snapshot\)/);
  assert.match(await imgcreate("session", "checkpoints", id), /^c1\s+\d/m);
  await imgcreate("session", "rollback", id, "c1");
  assert.match(await imgcreate("session", "logs", id), /rolled back to checkpoint c1 \(device-mapper merge\)/);

  // Kill as soon as the clone's image is being copied (its session record is written before that).
  const sessions = join(tmp, "state", "sessions");
  const clone = imgcreate("session", "clone", id).catch((e: Error) => e);
  const copying = () => readdirSync(sessions).some((d) => d !== id && existsSync(join(sessions, d, "work", "rootfs.img")));
  while (!copying()) await new Promise((r) => setTimeout(r, 10));
  await stopDaemon("SIGKILL");
  assert.ok((await clone) instanceof Error, "the clone did not finish before the daemon died");
  await restartAfterKill();
});

/** Starts the killed daemon again: the source and its clone are interrupted, no table or loop device of ours is left; both are closed. */
async function restartAfterKill(): Promise<void> {
  await startDaemon();
  const list = (await imgcreate("--json", "session", "list")).trim().split("\n").map((l) => JSON.parse(l) as { id: string; state: string });
  assert.equal(list.length, 2, "the source and the clone cut short");
  for (const s of list) assert.equal(s.state, "interrupted", `session ${s.id}`);
  assert.deepEqual(await dm.list(), [], "no table of ours is left (a clone's snapshot holds its source's loop device)");
  assert.doesNotMatch(execFileSync("losetup", ["-a"], { encoding: "utf8" }), /imgcreate-vmd-/, "no loop device of ours is left");
  for (const s of list) await imgcreate("session", "close", s.id);
}

/** A mounted session named name and a clone of it (its id). */
async function mountedWithClone(name: string): Promise<{ id: string; cloneId: string }> {
  const id = (await imgcreate("session", "create", "--type", "loop", "--name", name, "vm.ks")).trim();
  await imgcreate("session", "mount", id);
  return { id, cloneId: (await imgcreate("session", "clone", id)).trim().split("/").pop()! };
}

test("a clone of a mounted session is ready at once; kill -9 while it copies, restart: no table or loop device left", async () => {
  const release = holdMirrorCopies();
  try {
    const { cloneId } = await mountedWithClone("vmd2");
    const tables = await dm.list();
    assert.ok(tables.includes(`imgcreate-${cloneId}-source`), `the clone still reads its source: ${tables.join(" ")}`);
    assert.match(await imgcreate("session", "logs", cloneId), /cloned from session \S+ \(device-mapper snapshot; its own image is copied in the background\)/);
    await stopDaemon("SIGKILL");
  } finally {
    release();
  }
  await restartAfterKill();
});

test("closing the source waits for its clone's copy; the clone then stands alone", async () => {
  const { id, cloneId } = await mountedWithClone("vmd3");
  await imgcreate("session", "close", id);
  assert.match(await imgcreate("session", "logs", cloneId), /the clone's image is its own now/);
  assert.deepEqual((await dm.list()).sort(), [`imgcreate-${cloneId}-base`, `imgcreate-${cloneId}-root`], "the clone reads only its own image");
  await imgcreate("session", "checkpoint", cloneId, "k");
  await imgcreate("session", "close", cloneId);
  assert.deepEqual(await dm.list(), []);
  assert.doesNotMatch(execFileSync("losetup", ["-a"], { encoding: "utf8" }), /imgcreate-vmd-/);
});
