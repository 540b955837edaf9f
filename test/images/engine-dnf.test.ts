// The dnf backend against real RPM repositories made here: packages built with rpmbuild from spec
// files this test writes (dependencies, a weak dependency, a doc file, translations, a file owned by
// a user of the image, a %post scriptlet that records who it ran as), a comps file with groups and an
// environment, createrepo_c; one repository served over HTTP, a second one signed with a key made
// here and read from file://. A loop image is installed from them through a kickstart and looked at.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { chmod, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { basename, join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { debianPackage } from "../helpers/debian-package.js";
import { localRpmRepo, type LocalRpmRepo, type RpmSpec } from "../helpers/local-rpm-repo.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const BUSYBOX_CACHE = "/var/cache/imgcreated/test-debs";
const TUSER = 1234;

let tmp = "";
let signed: LocalRpmRepo | undefined;
let server: Server | undefined;
let port = 0;
/** Every path the HTTP repository was asked for, in order. */
const requests: string[] = [];
const creators: LoopImageCreator[] = [];

function packages(busybox: string): RpmSpec[] {
  const simple = (name: string, extra: Partial<RpmSpec> = {}): RpmSpec => ({
    name, install: [`mkdir -p $RPM_BUILD_ROOT/usr/share/${name}`, `echo ${name} > $RPM_BUILD_ROOT/usr/share/${name}/here`], files: [`/usr/share/${name}`], ...extra,
  });
  return [
    {
      // The image's shell and its users, as Fedora's filesystem/setup/bash packages give them.
      name: "tbase", arch: "x86_64", tags: ["Provides: /bin/sh"],
      install: [
        "mkdir -p $RPM_BUILD_ROOT/usr/bin $RPM_BUILD_ROOT/bin $RPM_BUILD_ROOT/etc",
        `cp ${busybox} $RPM_BUILD_ROOT/usr/bin/busybox`,
        "ln -s ../usr/bin/busybox $RPM_BUILD_ROOT/bin/sh",
        "for a in id cat mkdir; do ln -s busybox $RPM_BUILD_ROOT/usr/bin/$a; done",
        `printf 'root:x:0:0:root:/root:/bin/sh\\ntuser:x:${TUSER}:${TUSER}::/:/bin/sh\\n' > $RPM_BUILD_ROOT/etc/passwd`,
        `printf 'root:x:0:\\ntuser:x:${TUSER}:\\n' > $RPM_BUILD_ROOT/etc/group`,
      ],
      files: ["/usr/bin/*", "/bin/sh", "/etc/passwd", "/etc/group"],
    },
    {
      name: "tapp", tags: ["Requires: tbase", "Requires(post): tbase", "Recommends: tweak"],
      install: [
        "mkdir -p $RPM_BUILD_ROOT/usr/share/doc/tapp $RPM_BUILD_ROOT/etc $RPM_BUILD_ROOT/usr/share/locale/de $RPM_BUILD_ROOT/usr/share/locale/fr",
        "echo doc > $RPM_BUILD_ROOT/usr/share/doc/tapp/README",
        "echo conf > $RPM_BUILD_ROOT/etc/tapp.conf",
        "echo de > $RPM_BUILD_ROOT/usr/share/locale/de/tapp.mo",
        "echo fr > $RPM_BUILD_ROOT/usr/share/locale/fr/tapp.mo",
      ],
      files: [
        "%doc /usr/share/doc/tapp/README", `%attr(0640,tuser,tuser) /etc/tapp.conf`,
        "%lang(de) /usr/share/locale/de/tapp.mo", "%lang(fr) /usr/share/locale/fr/tapp.mo",
      ],
      // Who the scriptlet ran as: its uid, and the user namespace's map (the host's root has "0 0 4294967295").
      post: ["mkdir -p /var/lib/tapp", "id -u > /var/lib/tapp/post", "cat /proc/self/uid_map >> /var/lib/tapp/post"],
    },
    simple("tweak"), simple("ttool"), simple("tdefault"), simple("topt"), simple("textra"), simple("tenv"),
  ];
}

const COMPS = {
  groups: [
    { id: "core", mandatory: ["tbase"] },
    { id: "tools", mandatory: ["ttool"], default: ["tdefault"], optional: ["topt"] },
    { id: "extras", default: ["textra"] },
    { id: "envbase", mandatory: ["tenv"] },
  ],
  environments: [{ id: "base-env", groups: ["envbase", "extras"] }],
};

before(async () => {
  tmp = await makeTmp("dnf");
  await chmod(tmp, 0o755);
  const busybox = join(debianPackage(BUSYBOX_CACHE, "busybox-static"), "bin/busybox");
  await localRpmRepo(join(tmp, "repo"), tmp, packages(busybox), COMPS);
  signed = await localRpmRepo(join(tmp, "signed"), tmp, [
    { name: "tsigned", install: ["mkdir -p $RPM_BUILD_ROOT/usr/share/tsigned", "echo signed > $RPM_BUILD_ROOT/usr/share/tsigned/here"], files: ["/usr/share/tsigned"] },
  ], undefined, true);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
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

function kickstart(packagesSection: string, extraRepos = ""): { model: ReturnType<typeof parseKickstart>["model"]; ks: string } {
  const ks = join(tmp, "dnf.ks");
  const keyPath = join(tmp, "signed.asc"); // as the client sends it: the daemon never opens it
  const text = [
    "part / --size=256",
    `repo --name=local --baseurl=http://127.0.0.1:${port}/`,
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
  await assert.rejects(c.install(), /repository gone \(http:\/\/127\.0\.0\.1:1\/gone\/\) cannot be read: .*check the URL/);
  await c.cleanup();
});
