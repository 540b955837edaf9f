// The cache of installed roots, with real installs: a second build of the same package set starts from
// the cached root (the job's log says so) and ends with the same packages as the cold one (dpkg's view
// compared), with its own %post and none of the first build's; the image it packages is a clean
// filesystem; an update of one repository (a new signed index) misses. Then prune empties the cache.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { hostCodename } from "../../daemon/creator/packages/apt-sources.js";
import { RootCache } from "../../daemon/creator/root-cache.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { hostDebianUri } from "../helpers/host-apt.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { localDebRepo, type LocalDebRepo } from "../helpers/local-deb-repo.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES } from "./fixtures/engine-kickstart.js";

let tmp = "";
let repo: LocalDebRepo | undefined;
const creators: LoopImageCreator[] = [];
before(async () => {
  tmp = await makeTmp("root-cache");
  await chmod(tmp, 0o755);
});
after(async () => {
  for (const c of creators) await c.cleanup();
  repo?.close();
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

const HELLO = { name: "imgcreate-hello", version: "1.0", files: { "usr/share/imgcreate-hello/hello": "hello\n" } };

/** A creator for the minimal kickstart plus the local repository, imgcreate-hello and a %post writing `post`. */
function creatorFor(name: string, post: string, codename: string, keyPath: string, key: string): { creator: LoopImageCreator; log: string[] } {
  const ksPath = join(FIXTURES, "engine-minimal.ks");
  const text =
    `repo --name=debian --baseurl=${hostDebianUri(codename)}\nrepo --name=mine --baseurl=file://${repo!.dir}\n` +
    readFileSync(ksPath, "utf8")
      .replace("%addon org_imgcreate --variant=minbase", `%addon org_imgcreate --variant=minbase --repo-key=mine:${keyPath}`)
      .replace("%packages --excludedocs\n", "%packages --excludedocs\nimgcreate-hello\n") +
    `%post\necho ${post} > /etc/imgcreate-post\n%end\n`;
  const { model, diagnostics } = parseKickstart(ksPath, { readFile: mapReader({ [ksPath]: text, [keyPath]: key }), cwd: FIXTURES });
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  const creator = new LoopImageCreator(model, name, {
    workDir: join(tmp, name),
    rootCache: { dir: join(tmp, "roots"), maxBytes: 8 * 2 ** 30 },
  });
  creators.push(creator);
  const log: string[] = [];
  creator.on("log", (e) => log.push(e.line));
  return { creator, log };
}

/** What dpkg says is installed in the root: name, version and state of every package. */
function dpkgList(root: string): string {
  return execFileSync("dpkg-query", [`--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${Package} ${Version} ${Status}\n"], { encoding: "utf8" });
}

test("a second build of the same packages starts from the cached installed root; a repository update misses", { timeout: 20 * 60_000 }, async () => {
  const codename = await hostCodename();
  repo = await localDebRepo(join(tmp, "repo"), tmp, codename);
  await repo.publish([HELLO]);
  const keyPath = join(tmp, "mine.asc");
  const cache = new RootCache(join(tmp, "roots"), 8 * 2 ** 30);

  // Cold: installs, keeps the root.
  const a = creatorFor("first", "A", codename, keyPath, repo.key);
  await a.creator.mount();
  await a.creator.install();
  assert.ok(a.log.some((l) => /installed root kept in the cache/.test(l)), a.log.slice(-5).join("\n"));
  assert.ok(!a.log.some((l) => /cache hit/.test(l)));
  const cold = dpkgList(a.creator.instroot);
  assert.match(cold, /^imgcreate-hello 1\.0 install ok installed$/m);
  await a.creator.configure();
  assert.equal(readFileSync(join(a.creator.instroot, "etc/imgcreate-post"), "utf8"), "A\n");
  await a.creator.cleanup();
  const entries = await cache.list();
  assert.equal(entries.length, 1);
  assert.equal(readdirSync(join(tmp, "roots")).filter((n) => !n.startsWith(".")).length, 1, "nothing half-stored is left");

  // Warm, another %post: a hit, the same packages, none of the first build's %post.
  const b = creatorFor("second", "B", codename, keyPath, repo.key);
  await b.creator.mount();
  await b.creator.install();
  assert.ok(b.log.some((l) => new RegExp(`cache hit ${entries[0]!.key.slice(0, 12)}`).test(l)), b.log.slice(-5).join("\n"));
  assert.equal(dpkgList(b.creator.instroot), cold);
  assert.ok(!existsSync(join(b.creator.instroot, "etc/imgcreate-post")), "the cached root holds no %post output");
  await b.creator.configure();
  assert.equal(readFileSync(join(b.creator.instroot, "etc/imgcreate-post"), "utf8"), "B\n");
  await b.creator.unmount();
  const [img] = await b.creator.package(join(tmp, "out"));
  execFileSync("e2fsck", ["-fn", img!], { stdio: "pipe" }); // a copy made while frozen is a clean filesystem
  const blkid = (f: string, tag: string) => execFileSync("blkid", ["-o", "value", "-s", tag, f], { encoding: "utf8" }).trim();
  assert.equal(blkid(img!, "LABEL"), "second", "the copy carries this image's own label");
  assert.notEqual(blkid(img!, "UUID"), blkid(entries[0]!.image, "UUID"), "and a UUID of its own");
  await b.creator.cleanup();

  // The user's repository publishes a new index (one more package, not installed): a miss.
  await repo.publish([HELLO, { name: "imgcreate-other", version: "1.0", files: { "usr/share/imgcreate-other/x": "x\n" } }]);
  const c = creatorFor("third", "C", codename, keyPath, repo.key);
  await c.creator.mount();
  await c.creator.install();
  assert.ok(!c.log.some((l) => /cache hit/.test(l)), "a changed repository must not hit");
  assert.ok(c.log.some((l) => /installed root kept in the cache/.test(l)));
  await c.creator.cleanup();
  assert.equal((await cache.list()).length, 2);

  const evicted = await cache.prune(0);
  assert.equal(evicted.length, 2);
  assert.deepEqual(readdirSync(join(tmp, "roots")), []);
});
