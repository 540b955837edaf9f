// The dnf backend against real RPM repositories made here: packages built with rpmbuild from spec
// files this test writes (dependencies, a weak dependency, a doc file, translations, a file owned by
// a user of the image, a %post scriptlet that records who it ran as), a comps file with groups and an
// environment, createrepo_c; one repository served over HTTP, a second one signed with a key made
// here and read from file://. A loop image is installed from them through a kickstart and looked at.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { chmod, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { basename, join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import type { LocalRpmRepo } from "../helpers/local-rpm-repo.js";
import { TUSER, modularRpmRepo, testRpmRepos } from "../helpers/rpm-fixtures.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";


let tmp = "";
let signed: LocalRpmRepo | undefined;
let server: Server | undefined;
let port = 0;
/** Every path the HTTP repository was asked for, in order. */
const requests: string[] = [];
const creators: LoopImageCreator[] = [];
// dnf's history (installed groups), rpm's database and libdnf's logs are the image's or the build's,
// never the host's: what is there, and when it last changed.
const hostDnfState = () =>
  ["/var/lib/dnf", "/var/lib/rpm", "/var/log"].flatMap((d) =>
    (existsSync(d) ? readdirSync(d) : []).filter((f) => d !== "/var/log" || /hawkey|dnf/.test(f)).map((f) => `${join(d, f)} ${statSync(join(d, f)).mtimeMs}`));
const hostDnfBefore = hostDnfState();

before(async () => {
  tmp = await makeTmp("dnf");
  await chmod(tmp, 0o755);
  signed = await testRpmRepos(tmp);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    if (path === "/mirrorlist") return res.end(`# the repository's mirrors\nhttp://127.0.0.1:${port}/\n`);
    readFile(join(tmp, "repo", path.replace(/\.\.+/g, ""))).then(
      (body) => res.end(body),
      () => { res.statusCode = 404; res.end(); },
    );
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  for (const c of creators) await c.cleanup();
  signed?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

function kickstart(packagesSection: string, extraRepos = "", local = `repo --name=local --baseurl=http://127.0.0.1:${port}/`): { model: ReturnType<typeof parseKickstart>["model"]; ks: string } {
  const ks = join(tmp, "dnf.ks");
  const keyPath = join(tmp, "signed.asc"); // as the client sends it: the daemon never opens it
  const text = [
    "part / --size=256",
    local,
    `repo --name=signed --baseurl=file://${join(tmp, "signed")} --install`,
    extraRepos,
    `%addon org_imgcreate --backend=dnf --repo-key=signed:${keyPath}`,
    "%end",
    packagesSection,
  ].join("\n") + "\n";
  const { model, diagnostics } = parseKickstart(ks, { readFile: mapReader({ [ks]: text, [keyPath]: signed!.key! }), cwd: tmp });
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);
  return { model, ks };
}

const PACKAGES = [
  "%packages --excludedocs --inst-langs=de",
  "@^base-env",
  "-@extras",
  "@tools --optional",
  "-tdefault",
  "tapp",
  "tsigned",
  "%end",
].join("\n");

function creator(model: ReturnType<typeof kickstart>["model"], name: string): LoopImageCreator {
  const c = new LoopImageCreator(model, name, { workDir: join(tmp, `work-${name}`), cacheDir: join(tmp, "cache") });
  creators.push(c);
  return c;
}

const installed = (root: string) =>
  execFileSync("rpm", ["--root", root, "--dbpath", "/var/lib/rpm", "-qa", "--qf", "%{NAME}\n"], { encoding: "utf8" }).trim().split("\n").sort();

test("a loop image from an HTTP and a signed file:// repository: groups, an environment, excludes, nodocs, languages", { timeout: 10 * 60_000 }, async () => {
  const { model } = kickstart(PACKAGES);
  const c = creator(model, "dnf-one");
  await c.mount();
  await c.install();
  const root = c.instroot;
  assert.deepEqual(
    installed(root).filter((n) => n !== "gpg-pubkey"),
    ["tapp", "tbase", "tenv", "topt", "tsigned", "ttool", "tweak"],
    "core, the environment without -@extras, @tools with its optional package but not -tdefault, the weak dependency and the signed package",
  );
  assert.ok(installed(root).includes("gpg-pubkey"), "the signed repository's key was imported into the image's rpm database");
  assert.ok(!existsSync(join(root, "usr/share/doc/tapp/README")), "--excludedocs");
  assert.ok(existsSync(join(root, "usr/share/locale/de/tapp.mo")), "--inst-langs=de keeps German");
  assert.ok(!existsSync(join(root, "usr/share/locale/fr/tapp.mo")), "--inst-langs=de drops French");
  const conf = statSync(join(root, "etc/tapp.conf"));
  assert.equal(conf.uid, TUSER, "a file owned by the image's user has that owner on disk");
  assert.equal(conf.mode & 0o777, 0o640);
  const [uid, map] = readFileSync(join(root, "var/lib/tapp/post"), "utf8").split("\n");
  assert.equal(uid, "0", "the scriptlet ran as root of its sandbox");
  assert.doesNotMatch(map!, /^\s*0\s+0\s+4294967295/, `but not as the host's root: its uid_map is "${map}"`);
  assert.match(readFileSync(join(root, "etc/yum.repos.d/signed.repo"), "utf8"), /gpgcheck=1\ngpgkey=file:\/\/\/etc\/pki\/rpm-gpg\/imgcreate-signed.asc/);
  assert.ok(!existsSync(join(root, "etc/yum.repos.d/local.repo")), "only repo --install repositories stay in the image");
  assert.ok(requests.some((p) => p.endsWith(".rpm")), "packages came over HTTP");
  await c.unmount();
});

test("a warm second build downloads no package", { timeout: 10 * 60_000 }, async () => {
  const before = requests.length;
  const c = creator(kickstart(PACKAGES).model, "dnf-two");
  await c.mount();
  await c.install();
  const asked = requests.slice(before);
  assert.deepEqual(asked.filter((p) => p.endsWith(".rpm")), [], `the second build asked for ${asked.join(" ")}`);
  assert.ok(installed(c.instroot).includes("tapp"));
  await c.cleanup();
});

test("a package and a group no repository has are named at their kickstart lines", { timeout: 5 * 60_000 }, async () => {
  const { model, ks } = kickstart("%packages\ntapp\nno-such-package\n@no-such-group\n%end");
  const c = creator(model, "dnf-missing");
  await c.mount();
  await assert.rejects(c.install(), (err: ImgcreateError) => {
    assert.ok(err instanceof ImgcreateError);
    assert.equal(err.code, "InvalidArgs");
    assert.match(err.message, new RegExp(`^${basename(ks)}:9: no package or group "no-such-package".*; ${basename(ks)}:10: no package or group "no-such-group"`));
    return true;
  });
  await c.cleanup();
});

test("an unreachable repository is named with its URL", { timeout: 5 * 60_000 }, async () => {
  const { model } = kickstart("%packages\ntapp\n%end", "repo --name=gone --baseurl=http://127.0.0.1:1/gone/");
  const c = creator(model, "dnf-gone");
  await c.mount();
  await assert.rejects(c.install(), / dnf\.ks:4: repository gone \(http:\/\/127\.0\.0\.1:1\/gone\/\) cannot be read: .*check the URL/);
  await c.cleanup();
});

test("a re-opened dnf image installs what the new kickstart adds and removes what it drops, then configures and packages", { timeout: 10 * 60_000 }, async () => {
  const c = creator(kickstart(PACKAGES).model, "dnf-reopen");
  await c.mount();
  await c.install();
  assert.ok(installed(c.instroot).includes("topt"), "the tools group, with its optional package");
  assert.ok(existsSync(join(c.instroot, "var/lib/dnf/history.sqlite")), "dnf's history (its installed groups) is the image's");
  await c.unmount();
  // -@extras, @tools and tsigned gone: the environment's extras group comes in, tsigned and the tools
  // group's packages go.
  const logs: string[] = [];
  c.on("log", (e: { line: string }) => logs.push(e.line));
  c.setKickstart(kickstart("%packages --excludedocs\n@^base-env\ntapp\n%end").model);
  await c.mount();
  await c.install();
  const names = installed(c.instroot);
  assert.ok(names.includes("textra"), `textra added: ${names.join(" ")}`);
  assert.ok(!names.includes("tsigned"), `tsigned removed: ${names.join(" ")}`);
  assert.ok(!names.includes("ttool") && !names.includes("topt"), `the dropped group's packages removed: ${names.join(" ")}\n${logs.filter((l) => /package changes|group/.test(l)).join("\n")}`);
  assert.ok(names.includes("tapp") && names.includes("tenv"), `what is still asked for stays: ${names.join(" ")}`);
  assert.ok(!existsSync(join(c.instroot, "usr/share/tsigned")));
  assert.match(logs.join("\n"), /package changes: .*remove tsigned @tools/);
  await c.configure();
  await c.unmount();
  await c.package(join(tmp, "out-reopen"));
  const image = join(tmp, "out-reopen", "dnf-reopen.img");
  assert.ok(statSync(image).size > 0, "the image file is written");
  await c.cleanup();
});

test("a dependency problem shows dnf's explanation; a package signed with another key is refused", { timeout: 5 * 60_000 }, async () => {
  const c = creator(kickstart("%packages --nocore\ntapp\n-tbase\n%end").model, "dnf-deps");
  await c.mount();
  await assert.rejects(c.install(), (err: ImgcreateError) => {
    assert.equal(err.code, "InvalidArgs");
    assert.match(err.message, /dnf cannot install what %packages asks for: .*tbase.*tapp|tapp.*tbase/s);
    return true;
  });
  await c.cleanup();
  // The signed repository with an unrelated key (the apt test repository's kind: made here, signs nothing).
  const other = join(tmp, "gnupg-other");
  execFileSync("mkdir", ["-p", "-m", "700", other]);
  const gpg = (...a: string[]) => execFileSync("gpg", ["--batch", "--quiet", "--homedir", other, ...a], { encoding: "utf8" });
  gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "someone else <x@example.invalid>", "rsa2048", "sign", "never");
  const wrongKey = gpg("--armor", "--export");
  execFileSync("gpgconf", ["--homedir", other, "--kill", "gpg-agent"], { stdio: "ignore" });
  const ks = join(tmp, "wrong.ks");
  const keyPath = join(tmp, "wrong.asc");
  const text = `part / --size=256\nrepo --name=local --baseurl=http://127.0.0.1:${port}/\nrepo --name=signed --baseurl=file://${join(tmp, "signed")}\n` +
    `%addon org_imgcreate --backend=dnf --repo-key=signed:${keyPath}\n%end\n%packages\ntsigned\n%end\n`;
  const { model } = parseKickstart(ks, { readFile: mapReader({ [ks]: text, [keyPath]: wrongKey }), cwd: tmp });
  const w = creator(model, "dnf-wrong-key");
  await w.mount();
  await assert.rejects(w.install(), /signature check failed: .*--repo-key=REPO:FILE/);
  assert.ok(!existsSync(join(w.instroot, "usr/share/tsigned")), "nothing of the refused package is installed");
  await w.cleanup();
});

test("a live image from RPM repositories is refused before anything is taken, saying what to build instead", async () => {
  const { LiveImageCreator } = await import("../../daemon/creator/live.js");
  assert.throws(() => new LiveImageCreator(kickstart(PACKAGES).model, "dnf-live", { workDir: join(tmp, "work-dnf-live"), cacheDir: join(tmp, "cache") }), (err: ImgcreateError) => {
    assert.equal(err.code, "InvalidArgs");
    assert.match(err.message, /live images from RPM repositories .* are not built yet: build a loop image \(--type loop\)/);
    return true;
  });
  assert.ok(!existsSync(join(tmp, "work-dnf-live")), "nothing was made");
});

test("a module stream: its package is hidden until %packages asks for @module:stream/profile, which installs that profile", { timeout: 5 * 60_000 }, async () => {
  await modularRpmRepo(tmp);
  const modular = `repo --name=modular --baseurl=file://${join(tmp, "modular")}`;
  const hidden = creator(kickstart("%packages\ntapp\ntmodpkg\n%end", modular).model, "dnf-nomodule");
  await hidden.mount();
  await assert.rejects(hidden.install(), /dnf\.ks:9: no package or group "tmodpkg"/);
  await hidden.cleanup();
  const c = creator(kickstart("%packages\ntapp\n@tmod:1/default\n%end", modular).model, "dnf-module");
  await c.mount();
  await c.install();
  assert.ok(installed(c.instroot).includes("tmodpkg"), "the profile's package was installed");
  await c.cleanup();
});

test("the cache of installed roots: the same dnf request hits, a changed package set misses", { timeout: 10 * 60_000 }, async () => {
  const build = async (name: string, packagesSection: string) => {
    const c = new LoopImageCreator(kickstart(packagesSection).model, name, {
      workDir: join(tmp, `work-${name}`), cacheDir: join(tmp, "cache"), rootCache: { dir: join(tmp, "roots"), maxBytes: 2 ** 30 },
    });
    creators.push(c);
    const log: string[] = [];
    c.on("log", (e) => log.push(e.line));
    await c.mount();
    await c.install();
    const names = installed(c.instroot);
    await c.cleanup();
    return { hit: log.some((l) => /installed root cache hit/.test(l)), names };
  };
  const first = await build("dnf-cache-1", PACKAGES);
  const second = await build("dnf-cache-2", PACKAGES);
  const other = await build("dnf-cache-3", PACKAGES.replace("tsigned\n", ""));
  assert.deepEqual([first.hit, second.hit, other.hit], [false, true, false]);
  assert.deepEqual(second.names, first.names, "the hit has the cold install's packages");
  assert.ok(!other.names.includes("tsigned"));
});

test("the url command with a mirror list is the first repository; --exclude-weakdeps leaves the weak dependency out", { timeout: 5 * 60_000 }, async () => {
  const before = requests.length;
  const { model } = kickstart("%packages --exclude-weakdeps\ntapp\n%end", "", `url --mirrorlist=http://127.0.0.1:${port}/mirrorlist`);
  const c = creator(model, "dnf-url");
  await c.mount();
  await c.install();
  assert.equal(requests[before], "/mirrorlist", "dnf asked for the mirror list first");
  const names = installed(c.instroot);
  assert.ok(names.includes("tapp") && names.includes("tbase"), names.join(" "));
  assert.ok(!names.includes("tweak"), `no weak dependency: ${names.join(" ")}`);
  await c.cleanup();
});

test("two dnf installs at once share the package cache: both complete with the same packages", { timeout: 10 * 60_000 }, async () => {
  const cache = join(tmp, "cache-concurrent"); // cold: both want to fill it at the same time
  const one = new LoopImageCreator(kickstart(PACKAGES).model, "dnf-par-1", { workDir: join(tmp, "work-dnf-par-1"), cacheDir: cache });
  const two = new LoopImageCreator(kickstart(PACKAGES).model, "dnf-par-2", { workDir: join(tmp, "work-dnf-par-2"), cacheDir: cache });
  creators.push(one, two);
  await Promise.all([one.mount(), two.mount()]);
  await Promise.all([one.install(), two.install()]);
  assert.deepEqual(installed(one.instroot), installed(two.instroot));
  assert.ok(installed(one.instroot).includes("tapp"));
  await Promise.all([one.cleanup(), two.cleanup()]);
});

test("no build wrote dnf's or rpm's state on the host (/var/lib/dnf, /var/lib/rpm, dnf's logs are as they were)", () => {
  assert.deepEqual(hostDnfState(), hostDnfBefore);
});
