// The repositories a dnf build configures: each kickstart option in dnf's terms, a --repo-key as that
// repository's only signature check, the url command as the first repository, `repo --install` as a
// .repo file the image keeps, and every refusal at the kickstart line with what to change.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { dnfRepos, installedRepoFiles } from "../../daemon/creator/packages/dnf-repos.js";
import { backendFor, checkRepositories, repoConfig } from "../../daemon/creator/repositories.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaaaa\n-----END PGP PUBLIC KEY BLOCK-----\n";
const tmps: string[] = [];
after(async () => {
  for (const t of tmps) await removeTmp(t);
});

function model(ks: string, files: Record<string, string> = {}) {
  const r = parseKickstart("/ks/f.ks", { readFile: mapReader({ "/ks/f.ks": ks, ...files }), cwd: "/ks" });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  return r.model;
}

const refusedAt = (line: number, text: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ImgcreateError);
  assert.equal(err.code, "InvalidArgs");
  assert.match(err.message, new RegExp(`^f\\.ks:${line}: `));
  assert.match(err.message, text);
  return true;
};

test("every repo option reaches dnf; the url command comes first; a --repo-key is that repository's check", async () => {
  const m = model(`url --url=https://example.invalid/os/
repo --name=updates --baseurl=https://example.invalid/updates/$basearch/ --cost=50 --includepkgs=a,b* --excludepkgs=c --proxy=http://proxy.invalid:3128 --noverifyssl
repo --name=mirrored --mirrorlist=https://example.invalid/mirrorlist?arch=$basearch
%addon org_imgcreate --repo-key=updates:u.asc
%end
`, { "/ks/u.asc": KEY });
  assert.equal(backendFor(m).name, "dnf");
  const r = await dnfRepos(repoConfig(m));
  assert.deepEqual(r.repos.map((x) => x.id), ["anaconda", "updates", "mirrored"]);
  assert.deepEqual(r.repos[1], {
    id: "updates", baseurl: "https://example.invalid/updates/$basearch/", cost: 50, includepkgs: ["a", "b*"], excludepkgs: ["c"],
    proxy: "http://proxy.invalid:3128", sslverify: false, where: "f.ks:2",
  });
  assert.equal(r.repos[2]!.mirrorlist, "https://example.invalid/mirrorlist?arch=$basearch");
  assert.deepEqual([...r.keys.keys()], ["updates"]);
  assert.deepEqual(r.localDirs, []);
});

test("$releasever needs --releasever; a repository needs a URL dnf can fetch", async () => {
  const rel = model("repo --name=fedora --baseurl=https://example.invalid/releases/$releasever/os/\n");
  await assert.rejects(dnfRepos(repoConfig(rel)), refusedAt(1, /uses \$releasever .*give the release with --releasever/));
  assert.equal((await dnfRepos(repoConfig(rel, "40"))).repos.length, 1);
  const scheme = model("repo --name=odd --baseurl=nfs://server/export\n%addon org_imgcreate --backend=dnf\n%end\n");
  await assert.rejects(dnfRepos(repoConfig(scheme)), refusedAt(1, /dnf takes http:\/\/, https:\/\/, ftp:\/\/ or file:\/\/\/DIR/));
  await assert.rejects(dnfRepos(repoConfig(model("%addon org_imgcreate --backend=dnf\n%end\n"))), /a dnf build needs repositories/);
});

test("a local repository is taken only when the daemon may read it, as for apt", { skip: process.getuid?.() !== 0 ? "needs root" : false }, async () => {
  const t = await makeTmp("dnf-repos");
  tmps.push(t);
  await chmod(t, 0o755);
  const open = join(t, "open");
  const closed = join(t, "closed");
  await mkdir(open);
  await mkdir(closed, { mode: 0o700 });
  await chmod(closed, 0o700);
  const ok = model(`repo --name=mine --baseurl=file://${open}\n%addon org_imgcreate --backend=dnf\n%end\n`);
  assert.deepEqual((await dnfRepos(repoConfig(ok))).localDirs, [open]);
  const bad = model(`repo --name=mine --baseurl=file://${closed}\n%addon org_imgcreate --backend=dnf\n%end\n`);
  await assert.rejects(checkRepositories(bad), refusedAt(1, /repo "mine" at .*closed cannot be used: .*chmod/));
});

test("repo --install leaves a .repo file (and its key) in the image; the others leave nothing", () => {
  const m = model(`repo --name=kept --baseurl=https://example.invalid/kept/$releasever/ --install
repo --name=signedkept --baseurl=https://example.invalid/s/ --install --excludepkgs=x
repo --name=build-only --baseurl=https://example.invalid/b/
%addon org_imgcreate --backend=dnf --repo-key=signedkept:s.asc
%end
`, { "/ks/s.asc": KEY });
  const files = installedRepoFiles(repoConfig(m));
  assert.deepEqual(Object.keys(files).sort(), ["/etc/pki/rpm-gpg/imgcreate-signedkept.asc", "/etc/yum.repos.d/kept.repo", "/etc/yum.repos.d/signedkept.repo"]);
  assert.equal(files["/etc/yum.repos.d/kept.repo"], "[kept]\nname=kept\nbaseurl=https://example.invalid/kept/$releasever/\ngpgcheck=0\n");
  assert.match(files["/etc/yum.repos.d/signedkept.repo"]!, /excludepkgs=x\ngpgcheck=1\ngpgkey=file:\/\/\/etc\/pki\/rpm-gpg\/imgcreate-signedkept\.asc\n$/);
  assert.equal(files["/etc/pki/rpm-gpg/imgcreate-signedkept.asc"], KEY);
});
