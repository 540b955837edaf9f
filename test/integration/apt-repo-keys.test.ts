// A user's own signed repository, end to end through the real apt: a tiny repository signed with a
// fresh gpg key, served from a world-readable, root-owned directory by file://, its key named with
// `%addon org_imgcreate --repo-key` and read by the client as the user. apt-get update with the sources
// the engine writes accepts it with that key, and refuses it without the key, with another key, and
// for a second repository the key was not given for. No daemon: about a second.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { readKickstart } from "../../client/kickstart.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { prepareSources } from "../../daemon/creator/packages/apt-sources.js";
import { availableNames, privateAptOptions, repoCache, updateLists } from "../../daemon/creator/packages/apt-cache.js";
import { repoConfig } from "../../daemon/creator/repositories.js";
import { CommandError } from "../../daemon/creator/system/exec.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const hasGpg = (() => {
  try {
    execFileSync("gpg", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const needs = { skip: process.getuid?.() !== 0 ? "needs root (apt-get update)" : !hasGpg ? "needs gpg (scripts/debian-packages.txt)" : false };

let top = "";
const homes: string[] = [];
before(async () => {
  if (needs.skip) return;
  top = await makeTmp("repo-keys");
  await chmod(top, 0o755); // the repositories below must be reachable by every user
  await mkdir(join(top, "private"), { mode: 0o700 });
});
after(async () => {
  // gpg started an agent per home: stop each (they are no children of ours to reap).
  for (const h of homes) execFileSync("gpgconf", ["--homedir", h, "--kill", "gpg-agent"], { stdio: "ignore" });
  if (top) await removeTmp(top);
});

/** A new signing key in its own GNUPGHOME; returns that home and the armored public key. */
function newKey(name: string): { home: string; armored: string } {
  const home = join(top, "gnupg-" + name);
  execFileSync("mkdir", ["-m", "700", home]);
  homes.push(home);
  const gpg = (...a: string[]) => execFileSync("gpg", ["--batch", "--quiet", "--homedir", home, ...a], { encoding: "utf8" });
  gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", `imgcreate ${name} <${name}@example.invalid>`, "ed25519", "sign", "never");
  return { home, armored: gpg("--armor", "--export") };
}

/** dists/testing with one package index (no .deb: apt-get update reads only the indexes), InRelease signed by home. */
async function signedRepo(name: string, home: string): Promise<string> {
  const dir = join(top, name);
  const index = join(dir, "dists/testing/main/binary-amd64");
  await mkdir(index, { recursive: true });
  const packages = `Package: imgcreate-${name}\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\n` +
    `Filename: pool/imgcreate-${name}_1.0_all.deb\nSize: 1\nSHA256: ${"0".repeat(64)}\nDescription: test\n\n`;
  await writeFile(join(index, "Packages"), packages);
  const sha = createHash("sha256").update(packages).digest("hex");
  const release = `Suite: testing\nCodename: testing\nComponents: main\nArchitectures: amd64\nDate: ${new Date().toUTCString()}\n` +
    `SHA256:\n ${sha} ${Buffer.byteLength(packages)} main/binary-amd64/Packages\n`;
  await writeFile(join(dir, "dists/testing/Release"), release);
  execFileSync("gpg", ["--batch", "--quiet", "--homedir", home, "--yes", "--clearsign", "-o", join(dir, "dists/testing/InRelease"), join(dir, "dists/testing/Release")]);
  execFileSync("chmod", ["-R", "a+rX,go-w", dir]);
  return dir;
}

/** The client reads the kickstart and key as the user; the engine writes sources from what was sent; apt-get update. */
async function update(tag: string, ks: string, keyText?: string): Promise<Set<string>> {
  const ksDir = join(top, "ks-" + tag);
  await mkdir(ksDir);
  if (keyText !== undefined) await writeFile(join(ksDir, "key.asc"), keyText);
  await writeFile(join(ksDir, "a.ks"), ks);
  const sent = readKickstart(join(ksDir, "a.ks"));
  const where = sent.where;
  const parsed = parseKickstart(where["kickstart-path"], { readFile: mapReader(sent.includes), cwd: where.cwd });
  assert.deepEqual(parsed.diagnostics, []);
  // The daemon's state and cache dirs are 0700 (the unit's StateDirectoryMode/CacheDirectoryMode).
  const work = join(top, "private", "work-" + tag);
  const cacheDir = join(top, "private", "cache");
  const sources = await prepareSources(repoConfig(parsed.model), join(work, "sources"), "amd64");
  const cache = await repoCache(cacheDir, sources.key);
  await mkdir(join(work, "scratch", "none"), { recursive: true });
  const opts = privateAptOptions(sources.dir, cache, join(work, "scratch"));
  await updateLists(opts, cache, {});
  return availableNames(opts, cache, {});
}

/** apt-get update's complaint, or a failure of the test when it accepted. */
async function refused(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => assert.fail("apt-get update accepted the repository"), (err: unknown) => err);
  assert.ok(e instanceof CommandError, String(e));
  return e.result.stdout + e.result.stderr;
}

const repoLine = (name: string, dir: string) => `repo --name=${name} --baseurl=file://${dir}\n`;
const addon = (extra = "") => `%addon org_imgcreate --suite=testing --components=main ${extra}\n%end\n`;

test("a file:// repository signed with the user's key: apt accepts it with --repo-key, refuses it without or with another key", needs, async () => {
  const signer = newKey("signer");
  const stranger = newKey("stranger");
  const mine = await signedRepo("mine", signer.home);

  const names = await update("with-key", repoLine("mine", mine) + addon("--repo-key=mine:key.asc"), signer.armored);
  assert.ok(names.has("imgcreate-mine"), [...names].join(" "));

  assert.match(await refused(update("no-key", repoLine("mine", mine) + addon())), /NO_PUBKEY|not signed/);
  assert.match(await refused(update("other-key", repoLine("mine", mine) + addon("--repo-key=mine:key.asc"), stranger.armored)), /NO_PUBKEY|not signed/);
});

test("the key is trusted for its repository only: a second repository signed by the same key is refused", needs, async () => {
  const signer = newKey("shared");
  const a = await signedRepo("keyed", signer.home);
  const b = await signedRepo("unkeyed", signer.home);
  const out = await refused(update("scoped", repoLine("keyed", a) + repoLine("unkeyed", b) + addon("--repo-key=keyed:key.asc"), signer.armored));
  assert.match(out, new RegExp(`repository 'file:${b} testing InRelease' is not signed`));
  assert.doesNotMatch(out, new RegExp(`'file:${a} `));
});
