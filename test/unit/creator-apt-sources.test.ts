// The apt sources a build writes: a repository's own key (--repo-key) is the only keyring for that
// repository, the cache key follows the key, and a local repository the daemon must not read is
// refused at its kickstart line before apt runs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { prepareSources } from "../../daemon/creator/packages/apt-sources.js";
import { checkRepositories } from "../../daemon/creator/index.js";
import { repoConfig } from "../../daemon/creator/repositories.js";
import { hookScript } from "../../daemon/creator/packages/apt-hook.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const asRoot = { skip: process.getuid?.() !== 0 ? "needs root: the rule is about root-owned trees" : false };
const KEY_A = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaaaa\n-----END PGP PUBLIC KEY BLOCK-----\n";
const KEY_B = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEbbbb\n-----END PGP PUBLIC KEY BLOCK-----\n";
const tmps: string[] = [];
after(async () => {
  for (const t of tmps) await removeTmp(t);
});

async function tmp(): Promise<string> {
  const t = await makeTmp("apt-sources");
  tmps.push(t);
  await chmod(t, 0o755); // apt's _apt user must reach the keys below it
  return t;
}

function model(ks: string, files: Record<string, string> = {}) {
  const r = parseKickstart("/ks/a.ks", { readFile: mapReader({ "/ks/a.ks": ks, ...files }), cwd: "/ks" });
  assert.deepEqual(r.diagnostics, []);
  return r.model;
}

const TWO_REPOS = `repo --name=mine --baseurl=https://mine.example.invalid/debian
repo --name=other --baseurl=https://other.example.invalid/debian
%addon org_imgcreate --suite=bookworm --repo-key=mine:mine.asc
%end
`;

/** The deb822 stanzas of the written sources, by URI. */
async function stanzas(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, "utf8");
  return new Map(text.split("\n\n").map((s) => [/^URIs: (\S+)$/m.exec(s)![1]!, s]));
}

test("--repo-key: Signed-By of that repository names the written key and only that; the other keeps the host's", async () => {
  const t = await tmp();
  const keyDir = join(t, "cache", "apt", "keys");
  const s = await prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": KEY_A })), join(t, "s1"), "amd64", keyDir);
  const by = await stanzas(s.files[0]!);
  const keyFile = /^Signed-By: (\S+)$/m.exec(by.get("https://mine.example.invalid/debian")!)![1]!;
  assert.ok(keyFile.startsWith(keyDir + "/") && keyFile.endsWith(".asc"), keyFile);
  assert.equal(await readFile(keyFile, "utf8"), KEY_A);
  assert.equal((await stat(keyFile)).mode & 0o777, 0o644); // apt's gpgv runs as _apt
  const other = by.get("https://other.example.invalid/debian")!;
  assert.doesNotMatch(other, new RegExp(keyFile));
  assert.doesNotMatch(other, /Signed-By: .*\.asc/);
});

test("the cache key follows the key: same key in another session shares it, another key does not", async () => {
  const t = await tmp();
  const keyDir = join(t, "keys");
  const prep = (key: string, dir: string) => prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": key })), join(t, dir), "amd64", keyDir);
  const a1 = await prep(KEY_A, "s1");
  const a2 = await prep(KEY_A, "s2");
  const b = await prep(KEY_B, "s3");
  assert.equal(a1.key, a2.key);
  assert.notEqual(a1.key, b.key);
});

test("a key directory apt's _apt user cannot reach is a clear failure, not apt's NO_PUBKEY", async () => {
  const t = await tmp();
  await mkdir(join(t, "closed"), { mode: 0o700 });
  await assert.rejects(
    prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": KEY_A })), join(t, "s"), "amd64", join(t, "closed", "keys")),
    (e: ImgcreateError) => e.code === "Failed" && e.message.includes(`${join(t, "closed")} is mode 0700: not searchable by every user`),
  );
});

test("a file:// repository in a 0700 directory is refused at its repo line saying why and what to change", asRoot, async () => {
  const t = await tmp();
  const dir = join(t, "repo");
  await mkdir(dir, { mode: 0o700 });
  const ks = model(`lang C\nrepo --name=local --baseurl=file://${dir}\n`);
  const expected = (e: ImgcreateError) => {
    assert.equal(e.code, "InvalidArgs");
    assert.equal(
      e.message,
      `a.ks:2: repo "local": imgcreated reads file://${dir} as root, so it takes a local repository only when every user can read all ` +
        `of it and only root can change it or any directory above it: ${dir} is mode 0700: not readable by every user. ` +
        `Fix: chmod a+rX ${dir} (the whole repository root-owned and world-readable), or serve it over http(s)`,
    );
    return true;
  };
  // The engine's early check (session creation) and the install's own, before apt runs.
  await assert.rejects(checkRepositories(ks), expected);
  await assert.rejects(prepareSources(repoConfig(ks), join(t, "s"), "amd64", join(t, "keys")), expected);
  await chmod(dir, 0o755);
  await checkRepositories(ks);
});

test("the image keeps its own copy of a repository's key, and its sources point there", async () => {
  const t = await tmp();
  const keyDir = join(t, "cache", "apt", "keys");
  const s = await prepareSources(repoConfig(model(TWO_REPOS, { "/ks/mine.asc": KEY_A })), join(t, "s"), "amd64", keyDir);
  const root = join(t, "root");
  await mkdir(join(root, "etc/apt/sources.list.d"), { recursive: true });
  const imageSources = join(root, "etc/apt/sources.list.d/0000imgcreate.sources"); // where mmdebstrap puts them
  await writeFile(imageSources, await readFile(s.files[0]!));
  const hook = join(t, "hook.sh");
  await writeFile(hook, hookScript({ cache: { lists: "/l", archives: "/a", lock: "/k" }, stage: "/s", excludes: "/e", debs: "/d", keys: keyDir }));
  execFileSync("sh", [hook, "keys", root]);
  const text = await readFile(imageSources, "utf8");
  const inImage = /^Signed-By: (\/etc\/apt\/keyrings\/imgcreate-[0-9a-f]+\.asc)$/m.exec(text)?.[1];
  assert.ok(inImage, text);
  assert.equal(await readFile(join(root, inImage), "utf8"), KEY_A);
  assert.doesNotMatch(text, new RegExp(keyDir));
});
