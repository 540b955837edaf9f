// The package backend chosen from a kickstart (apt or dnf) and the dry-run transaction request
// (`imgcreate ks plan`): the corpus's Fedora, CentOS and AlmaLinux roots resolve to dnf with their
// repositories as written and their %packages; Debian ones to apt; mixing both is an error at its line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  parseKickstart, mapReader, transactionPlan, chooseBackend, formatDiagnostic, type TransactionPlan,
} from "../../daemon/kickstart/index.js";
import { selectBackend } from "../../daemon/creator/packages/select.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { runKs } from "../../client/commands/ks.js";
import { CORPUS, corpusSkip as skip, corpusManifest as manifest, readCorpusFile as fsRead, repoRoot } from "../helpers/corpus.js";

const ROOT = repoRoot();

function parseFile(file: string, version?: string) {
  return parseKickstart(file, { readFile: fsRead, cwd: path.dirname(file), ...(version ? { version } : {}) });
}

function planOf(file: string, version?: string): TransactionPlan {
  const r = parseFile(file, version);
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  const p = transactionPlan(r.model);
  assert.ok("plan" in p, JSON.stringify(p));
  return p.plan;
}

const corpus = (repo: string, root: string) => path.join(CORPUS, repo, root);

/**
 * A repo or url line's URL as the corpus file writes it, read when the test runs: the plan must keep it
 * exactly (no mirror's name is written into this file).
 */
function asWritten(dir: string, r: { file: string; line: number }): string {
  const line = readFileSync(path.join(dir, r.file), "utf8").split("\n")[r.line - 1] ?? "";
  return /--(?:mirrorlist|metalink|baseurl|url)[= ]"?([^"\s]+)/.exec(line)?.[1] ?? "(none)";
}

/** fedora-container-base.ks names no repository (koji passes them in), so it has no sign of dnf. */
const NO_REPOS = "fedora-container-base.ks";

for (const e of manifest.filter((x) => x.ok)) {
  test(`plan: ${e.repo}/${e.root} at ${e.version} → ${e.root === NO_REPOS ? "apt (no repos)" : "dnf"}, its repos and %packages`, { skip }, () => {
    const p = planOf(corpus(e.repo, e.root), e.version);
    const s = e.summary!;
    if (e.root === NO_REPOS) {
      assert.equal(p.backend, "apt");
      assert.match(p.reason, /no repository needs dnf/);
    } else assert.equal(p.backend, "dnf", p.reason);
    // Every `repo` in the file's order (pykickstart's list), after the `url` one.
    assert.deepEqual(p.repos.filter((r) => r.from === "repo").map((r) => r.name), s.repos);
    assert.equal(p.packages.length, s.packages);
    const env = p.groups.filter((g) => g.startsWith("@^"));
    assert.deepEqual(env, s.env !== null ? [`@^${s.env}`] : []);
    assert.equal(p.groups.length - env.length + p.modules.length, s.groups);
    assert.equal(p.excludes.filter((x) => !x.startsWith("@")).length, s.excluded);
  });
}

test("plan: Fedora live workstation — url and the two mirrorlists as written, groups, environment, excludes", { skip }, () => {
  const p = planOf(corpus("fedora-kickstarts", "fedora-live-workstation.ks"));
  assert.equal(p.backend, "dnf");
  assert.match(p.reason, /repo "fedora" has --mirrorlist .*\(fedora-repo-not-rawhide\.ks:1\)$/);
  assert.equal(p.releasever, null);
  assert.deepEqual(p.repos.map((r) => [r.name, r.baseurl, r.from, r.line]), [
    ["anaconda", undefined, "url", 4],
    ["fedora", undefined, "repo", 1],
    ["updates", undefined, "repo", 2],
  ]);
  const dir = path.join(CORPUS, "fedora-kickstarts");
  for (const r of p.repos) {
    assert.equal(r.mirrorlist, asWritten(dir, r), r.name);
    assert.match(r.mirrorlist ?? "", /\?repo=(fedora|updates-released-f)-?\$releasever&arch=\$basearch$/, "variables kept");
  }
  assert.ok(p.repos.every((r) => r.file === "fedora-repo-not-rawhide.ks" && !r.noverifyssl && r.includepkgs.length === 0));
  assert.deepEqual(p.groups, ["@anaconda-tools", "@^workstation-product-environment"]);
  for (const n of ["kernel", "kernel-modules-extra", "anaconda-live", "dracut-live", "glibc-all-langpacks", "livesys-scripts"]) {
    assert.ok(p.packages.includes(n), n);
  }
  for (const x of ["fcoe-utils", "device-mapper-multipath", "sdubby", "@dial-up", "@input-methods", "@standard"]) {
    assert.ok(p.excludes.includes(x), x);
  }
  assert.equal(p.options.excludedocs, false);
  const r42 = transactionPlan(parseFile(corpus("fedora-kickstarts", "fedora-live-workstation.ks")).model, { releasever: "42" });
  assert.equal("plan" in r42 ? r42.plan.releasever : undefined, "42");
});

test("plan: Fedora container base — %packages options (docs, languages, core, weak deps)", { skip }, () => {
  const p = planOf(corpus("fedora-kickstarts", "fedora-container-base.ks"));
  assert.deepEqual(p.options, { excludedocs: true, instLangs: "en", nocore: true, ignoremissing: false, excludeWeakdeps: true });
  for (const n of ["rootfiles", "tar", "vim-minimal", "dnf5"]) assert.ok(p.packages.includes(n), n);
  for (const n of ["glibc-langpack-en", "langpacks-en"]) assert.ok(p.excludes.includes(n), n);
});

test("plan: AlmaLinux 9 GNOME — url is BaseOS, the four repos with $basearch kept, groups and excludes", { skip }, () => {
  const p = planOf(corpus("almalinux-sig-livemedia", "kickstarts/9/x86_64/almalinux-live-gnome.ks"), "RHEL9");
  assert.equal(p.backend, "dnf");
  assert.deepEqual(p.repos.map((r) => [r.name, r.line]), [["anaconda", 16], ["appstream", 17], ["extras", 18], ["crb", 19], ["epel", 20]]);
  const dir = path.join(CORPUS, "almalinux-sig-livemedia", "kickstarts/9/x86_64");
  for (const r of p.repos) assert.equal(r.baseurl, asWritten(dir, r), r.name);
  assert.deepEqual(p.repos.map((r) => /\/([A-Za-z]+)\/\$basearch\/(os\/)?$/.exec(r.baseurl ?? "")?.[1]), ["BaseOS", "AppStream", "extras", "CRB", "Everything"]);
  assert.deepEqual([...p.groups].sort(), ["@^workstation-product-environment", "@anaconda-tools", "@gnome-apps", "@internet-browser", "@office-suite"]);
  assert.equal(p.packages.length, 29);
  for (const n of ["memtest86+", "epel-release", "NetworkManager-openvpn-gnome", "python3-dnf-plugin-system-upgrade"]) assert.ok(p.packages.includes(n), n);
  assert.deepEqual([...p.excludes].sort(), ["fcoe-utils", "gfs2-utils", "hplip", "reiserfs-utils", "sdubby"]);
});

test("plan: CentOS 7 — plain baseurls with /centos/ in their path choose dnf; includepkgs/excludepkgs kept", { skip }, () => {
  const p = planOf(corpus("centos-sig-core-livemedia", "kickstarts/centos-7-livecd.cfg"), "RHEL7");
  assert.equal(p.backend, "dnf");
  assert.match(p.reason, /repo "base" has a Fedora\/RHEL-family URL/);
  assert.deepEqual(p.repos.map((r) => [r.name, r.includepkgs, r.excludepkgs]), [
    ["base", [], ["grubby"]],
    ["grubby", ["grubby"], []],
  ]);
  const dir = path.join(CORPUS, "centos-sig-core-livemedia", "kickstarts");
  for (const r of p.repos) assert.equal(r.baseurl, asWritten(dir, r), r.name);
  assert.match(p.repos[0]!.baseurl ?? "", /\/centos\/7\.1\.1503\/os\/x86_64\/$/);
  assert.match(p.repos[1]!.baseurl ?? "", /\/7\.0\.1406\/os\/x86_64\/$/);
  assert.equal(p.packages.length, 987);
  const g = planOf(corpus("centos-sig-core-livemedia", "kickstarts/centos-7-live-gnome.cfg"), "RHEL7");
  assert.equal(g.groups.length, 19);
  for (const x of ["@base", "@core", "@gnome-desktop", "@gnome-apps"]) assert.ok(g.groups.includes(x), x);
  assert.deepEqual([...g.excludes].sort(), ["gnome-boxes", "libvirt"]);
  assert.deepEqual([...g.packages].sort(), ["anaconda", "efibootmgr", "firefox", "grub2", "grub2-efi", "patch", "shim", "system-config-keyboard", "system-config-language"]);
});

test("plan: the Debian example → apt, from its %addon", () => {
  const p = planOf(path.join(ROOT, "examples", "debian-live.ks"));
  assert.equal(p.backend, "apt");
  assert.match(p.reason, /%addon org_imgcreate --suite is a Debian \(apt\) setting \(debian-live\.ks:6\)/);
  assert.deepEqual(p.repos, []);
  assert.ok(p.packages.includes("linux-image-amd64"));
  assert.equal(p.options.excludeWeakdeps, true);
});

// In-memory kickstarts for the rule itself.
function parse(text: string, extra: Record<string, string> = {}) {
  return parseKickstart("/ks/a.ks", { readFile: mapReader({ "/ks/a.ks": text, ...extra }), cwd: "/ks" });
}
const errors = (text: string, extra: Record<string, string> = {}) =>
  parse(text, extra).diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
const backendOf = (text: string) => chooseBackend(parse(text).model).choice.backend;

const FEDORA = "repo --name=fedora --mirrorlist=https://fedora.example.invalid/mirrorlist?repo=fedora-$releasever&arch=$basearch\n";
const DEBIAN = "repo --name=deb --baseurl=http://debian.example.invalid/debian\n";

test("backend: the signs of each kind, and apt when there is none", () => {
  assert.equal(backendOf("lang C\n"), "apt");
  assert.equal(backendOf("repo --name=local --baseurl=file:///srv/repo\n"), "apt");
  assert.equal(backendOf(DEBIAN), "apt");
  assert.equal(backendOf(FEDORA), "dnf");
  assert.equal(backendOf("repo --name=x --metalink=https://example.org/metalink\n"), "dnf");
  assert.equal(backendOf("repo --name=x --baseurl=https://example.org/$releasever/os/\n"), "dnf");
  assert.equal(backendOf("url --url=https://example.org/os/\n"), "dnf");
  assert.equal(backendOf("repo --name=epel-next --baseurl=https://example.org/x/\n"), "dnf");
  assert.equal(backendOf("repo --name=x --baseurl=https://rocky.example.invalid/pub/rocky/9/BaseOS/x86_64/os/\n"), "dnf");
  assert.equal(backendOf("%addon org_imgcreate --components=main\n%end\n"), "apt");
});

test("backend: %addon org_imgcreate --backend= wins over names and URLs (weak signs)", () => {
  assert.equal(backendOf("repo --name=local --baseurl=file:///srv/rpms\n%addon org_imgcreate --backend=dnf\n%end\n"), "dnf");
  assert.equal(backendOf("repo --name=fedora --baseurl=https://example.org/debian/\n%addon org_imgcreate --backend=apt\n%end\n"), "apt");
  assert.equal(backendOf(`${DEBIAN}%addon org_imgcreate\nbackend = dnf\n%end\n`), "dnf");
  assert.deepEqual(errors(`${DEBIAN}%addon org_imgcreate --backend=dnf\n%end\n`), []);
});

test("backend: an unknown --backend value is an error at its line", () => {
  assert.deepEqual(errors("lang C\n%addon org_imgcreate --backend=yum\n%end\n"), [
    "a.ks:2: error: %addon org_imgcreate --backend must be apt (Debian: mmdebstrap) or dnf (Fedora, CentOS, AlmaLinux, Rocky), not 'yum'",
  ]);
  const body = errors("%addon org_imgcreate\n# which\nbackend = zypper\n%end\n");
  assert.equal(body.length, 1);
  assert.match(body[0]!, /^a\.ks:3: error: %addon org_imgcreate --backend must be apt .*, not 'zypper'$/);
});

test("backend: a kickstart mixing apt and dnf repositories is an error at the first one of the other kind", () => {
  // The strong sign (--mirrorlist) decides; the Debian repo (an included file) is the line to change.
  assert.deepEqual(errors(`lang C\n%include deb.ks\n${FEDORA}`, { "/ks/deb.ks": `# Debian\n${DEBIAN}` }), [
    "deb.ks:2: error: repo \"deb\" has a Debian/Ubuntu archive URL, so it needs apt, but this kickstart builds with dnf " +
      "(repo \"fedora\" at a.ks:3 has --mirrorlist (apt has no mirror lists)); remove it or make every repository one kind, " +
      "or say which with %addon org_imgcreate --backend=dnf",
  ]);
  // A Debian setting in the addon against a dnf-only repository.
  const e = errors(`%addon org_imgcreate --suite=bookworm\n%end\nlang C\n${FEDORA}`);
  assert.equal(e.length, 1);
  assert.match(e[0]!, /^a\.ks:4: error: repo "fedora" has --mirrorlist \(apt has no mirror lists\), so it needs dnf, but this kickstart builds with apt \(%addon org_imgcreate --suite at a\.ks:1 is a Debian \(apt\) setting\); remove it or make every repository one kind$/);
  // With --backend, only what that backend cannot use at all is an error.
  assert.match(errors(`${FEDORA}%addon org_imgcreate --backend=apt\n%end\n`)[0]!, /^a\.ks:1: error: repo "fedora" has --mirrorlist .* builds with apt \(%addon org_imgcreate --backend=apt at a\.ks:2\); remove it/);
  assert.match(errors(`%addon org_imgcreate --backend=dnf --suite=bookworm\n%end\n`)[0]!, /^a\.ks:1: error: %addon org_imgcreate --suite is a Debian \(apt\) setting, so it needs apt, but this kickstart builds with dnf .*; remove that setting$/);
});

test("backend: the engine's selectBackend throws InvalidArgs at FILE:LINE for a mixed kickstart", () => {
  assert.equal(selectBackend(parse(FEDORA).model), "dnf");
  assert.equal(selectBackend(parse(DEBIAN).model), "apt");
  const m = parse(`${DEBIAN}${FEDORA}`).model;
  assert.throws(() => selectBackend(m), (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs" && /^a\.ks:1: repo "deb"/.test(e.message) && e.detail.line === 1);
});

test("plan: groups keep --nodefaults/--optional, -@group is an exclude, modules and repo options as written", () => {
  const r = parse([
    "#version=RHEL9",
    "repo --name=mine --baseurl=https://example.org/$basearch/ --cost=50 --includepkgs=a,b --excludepkgs=c --proxy=http://proxy:3128 --noverifyssl --install",
    "module --name=nodejs --stream=18",
    "%packages --ignoremissing --excludedocs",
    "@core --nodefaults", "@extras --optional", "@^minimal-environment", "-@dial-up", "@postgresql:15/server", "vim*", "-nano",
    "%end", "",
  ].join("\n"));
  assert.deepEqual(r.diagnostics, []);
  const p = transactionPlan(r.model);
  assert.ok("plan" in p);
  assert.deepEqual(p.plan.repos, [{
    name: "mine", baseurl: "https://example.org/$basearch/", cost: 50, includepkgs: ["a", "b"], excludepkgs: ["c"], proxy: "http://proxy:3128",
    noverifyssl: true, install: true, from: "repo", file: "a.ks", line: 2,
  }]);
  assert.deepEqual(p.plan.groups, ["@core --nodefaults", "@extras --optional", "@^minimal-environment"]);
  assert.deepEqual(p.plan.excludes, ["nano", "@dial-up"]);
  assert.deepEqual(p.plan.packages, ["vim*"]);
  assert.deepEqual(p.plan.modules, ["postgresql:15/server", "nodejs:18"]);
  assert.deepEqual(p.plan.options, { excludedocs: true, instLangs: null, nocore: false, ignoremissing: true, excludeWeakdeps: false });
});

async function ks(files: Record<string, string>, ...argv: string[]) {
  let out = "";
  let err = "";
  const code = await runKs(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), cwd: "/ks", readFile: mapReader(files) });
  return { code, out, err };
}

test("ks plan: JSON with --json, a short human form otherwise; a mixed kickstart exits 1 at its line", async () => {
  const files = { "/ks/f.ks": `${FEDORA}%packages\n@core\nkernel\n-nano\n%end\n`, "/ks/mixed.ks": `${DEBIAN}${FEDORA}` };
  const j = await ks(files, "plan", "--json", "--releasever=42", "f.ks");
  assert.equal(j.code, 0, j.err);
  const plan = JSON.parse(j.out) as TransactionPlan;
  assert.equal(plan.backend, "dnf");
  assert.equal(plan.releasever, "42");
  assert.deepEqual([plan.groups, plan.packages, plan.excludes], [["@core"], ["kernel"], ["nano"]]);
  const h = await ks(files, "plan", "f.ks");
  assert.equal(h.code, 0);
  assert.match(h.out, /^backend: dnf — repo "fedora" has --mirrorlist/);
  assert.match(h.out, /\n {2}fedora: mirrorlist https:\/\/fedora\.example\.invalid\/mirrorlist\?repo=fedora-\$releasever&arch=\$basearch {2}\[f\.ks:1\]\n/);
  assert.match(h.out, /\ngroups \(1\): @core\npackages \(1\): kernel\nexcludes \(1\): nano\n/);
  const m = await ks(files, "plan", "mixed.ks");
  assert.equal(m.code, 1);
  assert.equal(m.out, "");
  assert.match(m.err, /^mixed\.ks:1: error: repo "deb" has a Debian\/Ubuntu archive URL, so it needs apt/);
  assert.equal((await ks(files, "plan", "--releasever")).code, 2);
});
