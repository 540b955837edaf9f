// Sections (%packages, scripts, %addon org_imgcreate, %certificate), %include, versions: what lands in
// the model and which FILE:LINE an error points at.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKickstart, collectIncludes, mapReader, formatDiagnostic, type KickstartModel } from "../../daemon/kickstart/index.js";

/** Parses /ks/<root> over an in-memory tree of absolute paths. */
function parseTree(files: Record<string, string>, root = "/ks/a.ks", opts: { cwd?: string; version?: string } = {}) {
  const r = parseKickstart(root, { readFile: mapReader(files), cwd: opts.cwd ?? "/ks", ...(opts.version ? { version: opts.version } : {}) });
  return { m: r.model, ds: r.diagnostics.map(formatDiagnostic) };
}

const one = (text: string, version?: string) => parseTree({ "/ks/a.ks": text }, "/ks/a.ks", version ? { version } : {});

function ok(text: string, version?: string): KickstartModel {
  const { m, ds } = one(text, version);
  assert.deepEqual(ds, []);
  return m;
}

test("%packages: names, globs, @group options, @^environment, exclusions", () => {
  const p = ok(`%packages --excludedocs --ignoremissing --nocore --inst-langs=en --exclude-weakdeps --retries=3 --timeout=20 --multilib
vim*
kernel  # trailing comment
@core --nodefaults
@base --optional
@^workstation-product-environment
-@dial-up
-fcoe-utils
%end
`).packages;
  assert.equal(p.present, true);
  assert.deepEqual([p.file, p.line], ["a.ks", 1]);
  // Sorted by name, as pykickstart keeps them; each entry keeps its own line.
  assert.deepEqual(p.packages.map((x) => [x.name, x.line]), [["kernel", 3], ["vim*", 2]]);
  assert.deepEqual(p.groups.map((g) => [g.name, g.nodefaults, g.optional]), [["base", false, true], ["core", true, false]]);
  assert.equal(p.environment?.name, "workstation-product-environment");
  assert.deepEqual(p.excludedGroups.map((g) => g.name), ["dial-up"]);
  assert.deepEqual(p.excludedPackages.map((x) => x.name), ["fcoe-utils"]);
  assert.deepEqual([p.excludedocs, p.ignoremissing, p.nocore, p.instLangs, p.excludeWeakdeps, p.retries, p.timeout, p.multilib],
    [true, true, true, "en", true, 3, 20, true]);
});

test("%packages: a later line wins over an earlier one, across sections", () => {
  const p = ok("%packages\nfoo\n-bar\n@g\n%end\n%packages\n-foo\nbar\n-@g\n%end\n").packages;
  assert.deepEqual(p.packages.map((x) => x.name), ["bar"]);
  assert.deepEqual(p.excludedPackages.map((x) => x.name), ["foo"]);
  assert.deepEqual(p.groups, []);
  assert.deepEqual(p.excludedGroups.map((g) => g.name), ["g"]);
});

test("%packages: @module:stream/profile lines are modules", () => {
  const p = ok("%packages\n@nodejs:18/development\n@php:8.1\n%end\n").packages;
  assert.deepEqual(p.modules.map((x) => [x.name, x.stream, x.profile, x.source]), [
    ["nodejs", "18", "development", "packages"], ["php", "8.1", undefined, "packages"],
  ]);
  assert.deepEqual(p.groups, []);
});

test("%packages: group cannot be both --nodefaults and --optional", () => {
  assert.deepEqual(one("%packages\n@core --nodefaults --optional\n%end\n").ds, ["a.ks:2: error: Group cannot specify both --nodefaults and --optional"]);
});

test("%packages: --default and --nocore conflict; deprecated aliases warn in DEVEL", () => {
  assert.deepEqual(one("%packages --default --nocore\n%end\n").ds, ["a.ks:1: error: --default and --nocore cannot be used together; keep one of them"]);
  const ds = one("%packages --instLangs=en\n%end\n").ds;
  assert.match(ds[0]!, /^a\.ks:1: warning: Ignoring deprecated option on line 1: The --instLangs option has been deprecated/);
  assert.deepEqual(one("%packages --inst-langs=en\n%end\n", "RHEL8").ds.length, 1, "RHEL8 only knows --instLangs");
});

test("no %packages gives an empty section", () => {
  const p = ok("lang C\n").packages;
  assert.equal(p.present, false);
  assert.deepEqual([p.packages, p.groups], [[], []]);
});

test("scripts: type, interpreter, nochroot, erroronfail, log, body and header line, in file order", () => {
  const m = ok(`%pre --interpreter=/usr/bin/python3 --log=/tmp/pre.log
print("x")
%end
%post --nochroot --erroronfail
cp a $INSTALL_ROOT/b
# a comment stays in the body
%end
%post
echo %{name}
%end
%onerror
dmesg
%end
`);
  assert.deepEqual(m.scripts.map((s) => [s.type, s.interpreter, s.nochroot, s.erroronfail, s.log, s.line]), [
    ["pre", "/usr/bin/python3", false, false, "/tmp/pre.log", 1],
    ["post", "/bin/sh", true, true, undefined, 4],
    ["post", "/bin/sh", false, false, undefined, 8],
    ["onerror", "/bin/sh", false, false, undefined, 11],
  ]);
  assert.equal(m.scripts[1]?.body, "cp a $INSTALL_ROOT/b\n# a comment stays in the body\n");
  assert.equal(m.scripts[2]?.body, "echo %{name}\n");
});

test("a script with an empty body is dropped, as pykickstart does", () => {
  assert.deepEqual(ok("%post\n\n   \n%end\n").scripts, []);
});

test("%traceback is deprecated in DEVEL", () => {
  assert.match(one("%traceback\necho\n%end\n").ds[0]!, /^a\.ks:1: warning: The %traceback section has been deprecated/);
});

test("--nochroot is only for %post", () => {
  assert.match(one("%pre --nochroot\necho\n%end\n").ds[0]!, /^a\.ks:1: error: unknown option --nochroot for %pre/);
});

test("a section without %end is reported at its header, in the file that opened it", () => {
  const { ds } = parseTree({ "/ks/a.ks": "lang C\n%include inc.ks\nkeyboard us\n", "/ks/inc.ks": "\n%post\necho hi\n" });
  assert.deepEqual(ds, ["inc.ks:2: error: %post section does not end with %end before the end of inc.ks; add %end after its last line"]);
});

test("a new section header inside an open one is reported, and parsing continues with it", () => {
  const { m, ds } = one("%post\necho\n%packages\nvim\n%end\n");
  assert.deepEqual(ds, ["a.ks:1: error: %post section does not end with %end before the %packages at a.ks:3; add %end"]);
  assert.deepEqual(m.packages.packages.map((p) => p.name), ["vim"]);
});

test("%end outside a section and unknown sections are errors", () => {
  assert.deepEqual(one("%end\n").ds, ["a.ks:1: error: %end without an open section; remove it or add the section header above"]);
  assert.match(one("%postt\necho\n%end\n").ds[0]!, /^a\.ks:1: error: Unknown kickstart section: %postt; known sections are /);
});

test("%addon org_imgcreate: header options and key = value body lines", () => {
  const m = ok("%addon org_imgcreate --suite=bookworm --components=main,contrib\nvariant = minbase\nmirror = host # use the host's sources\n%end\n");
  assert.deepEqual(m.imgcreate, { file: "a.ks", line: 1, suite: "bookworm", components: ["main", "contrib"], variant: "minbase", mirror: "host" });
  assert.equal(m.addons[0]?.name, "org_imgcreate");
});

test("%addon org_imgcreate: an unknown key is an error at its line", () => {
  assert.match(one("%addon org_imgcreate\n\nsuit = bookworm\n%end\n").ds[0]!, /^a\.ks:3: error: unknown line in %addon org_imgcreate: 'suit = bookworm'/);
});

test("other %addon and %anaconda sections are kept as text; imgcreate is empty without its addon", () => {
  const m = ok("%addon com_redhat_kdump --enable\nx = 1\n%end\n%anaconda\npwpolicy root --minlen=6\n%end\n");
  assert.deepEqual(m.imgcreate, {});
  assert.deepEqual(m.addons.map((a) => [a.section, a.name, a.args, a.body]), [
    ["%addon", "com_redhat_kdump", ["--enable"], "x = 1"], ["%anaconda", "anaconda", [], "pwpolicy root --minlen=6"],
  ]);
});

test("%certificate needs --dir or --type", () => {
  assert.equal(ok("%certificate --filename=ca.pem --type=anchor\n-----BEGIN-----\n%end\n").certificates?.[0]?.filename, "ca.pem");
  assert.deepEqual(one("%certificate --filename=ca.pem\nx\n%end\n").ds, ["a.ks:1: error: %certificate needs --dir or --type to say where the certificate goes"]);
});

test("%include: relative to cwd first, then to the including file's directory", () => {
  const files = {
    "/work/top.ks": "%include sub/mid.ks\n",
    "/work/sub/mid.ks": "%include leaf.ks\n",
    "/work/sub/leaf.ks": "lang from-sub\n",
    "/cwd/sub/leaf.ks": "lang from-cwd\n",
  };
  assert.equal(parseTree(files, "/work/top.ks", { cwd: "/work" }).m.lang?.lang, "from-sub");
  const both = { ...files, "/cwd/top.ks": files["/work/top.ks"], "/cwd/sub/mid.ks": files["/work/sub/mid.ks"] };
  assert.equal(parseTree(both, "/cwd/top.ks", { cwd: "/cwd" }).m.lang?.lang, "from-cwd");
});

test("errors in an included file carry that file's name and line", () => {
  const { ds, m } = parseTree({ "/ks/a.ks": "lang C\n%include b.ks\n", "/ks/b.ks": "\n\nbogus\npart / --size=1\n" });
  assert.deepEqual(ds, ["b.ks:3: error: Unknown command: bogus"]);
  assert.deepEqual([m.parts[0]?.file, m.parts[0]?.line], ["b.ks", 4]);
});

test("%include inside a section continues the section with the included lines", () => {
  const { m, ds } = parseTree({ "/ks/a.ks": "%packages\nvim\n%include pk.ks\nemacs\n%end\n", "/ks/pk.ks": "nano\n" });
  assert.deepEqual(ds, []);
  assert.deepEqual(m.packages.packages.map((p) => [p.name, p.file, p.line]), [["emacs", "a.ks", 4], ["nano", "pk.ks", 1], ["vim", "a.ks", 2]]);
});

test("a missing include is an error at the %include line naming where it looked", () => {
  assert.deepEqual(parseTree({ "/ks/a.ks": "\n%include nope.ks\n" }).ds, ["a.ks:2: error: cannot read %include file nope.ks: looked for nope.ks"]);
});

test("an include cycle is an error at the %include that closes it", () => {
  const { ds } = parseTree({ "/ks/a.ks": "%include b.ks\n", "/ks/b.ks": "lang C\n%include a.ks\n" });
  assert.deepEqual(ds, ["b.ks:2: error: %include cycle: a.ks -> b.ks -> a.ks; remove one of these includes"]);
});

test("%include without a file name is an error", () => {
  assert.deepEqual(one("%include\n").ds, ["a.ks:1: error: %include needs a file name, e.g. %include fedora-repo.ks"]);
});

test("collectIncludes returns every file the parse reads, keyed as the parser asks", () => {
  const files = { "/ks/a.ks": "%include b.ks\n", "/ks/b.ks": "%include /abs/c.ks\n", "/abs/c.ks": "lang C\n", "/ks/unused.ks": "x" };
  const got = collectIncludes("a.ks", { readFile: mapReader(files), cwd: "/ks" });
  assert.deepEqual(Object.keys(got).sort(), ["/abs/c.ks", "/ks/a.ks", "/ks/b.ks"]);
  // The daemon parses over exactly that map and gets the same model.
  const again = parseKickstart("a.ks", { readFile: mapReader(got), cwd: "/ks" });
  assert.equal(again.model.lang?.lang, "C");
  assert.deepEqual(again.diagnostics, []);
});

test("version: #version= in the root file selects it, an explicit version wins, default DEVEL", () => {
  assert.equal(ok("lang C\n").version, "DEVEL");
  const rhel8 = one("#version=RHEL8\nauth --useshadow\n");
  assert.equal(rhel8.m.version, "RHEL8");
  assert.deepEqual(rhel8.ds, ["a.ks:2: warning: The authconfig command will be deprecated, use authselect instead."]);
  assert.equal(one("#version=RHEL7\nauth --useshadow\n").m.version, "RHEL7");
  assert.deepEqual(one("#version=RHEL7\nauth --useshadow\n").ds, []);
  assert.equal(one("#version=RHEL7\nlang C\n", "RHEL9").m.version, "RHEL9");
});

test("an unsupported #version= is an error at that line", () => {
  assert.deepEqual(one("\n#version=F12\nlang C\n").ds, ["a.ks:2: error: unsupported kickstart version 'F12'; use one of DEVEL, RHEL10, RHEL9, RHEL8, RHEL7, or pass --version"]);
});

test("an unreadable root file is one error, not an exception", () => {
  assert.deepEqual(parseTree({}, "/ks/none.ks").ds, ["none.ks:0: error: cannot read kickstart file /ks/none.ks: it does not exist or is not readable"]);
});

test("a section header with a broken quote is one error; its body is not read as commands", () => {
  assert.deepEqual(one(`%post --log="/tmp/x\necho hi\nfoo bar\n%end\nlang C\n`).ds, [
    `a.ks:1: error: no closing quotation: the " opened here is never closed on this line`,
  ]);
});

const KEY = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEaxES\n-----END PGP PUBLIC KEY BLOCK-----\n";
const REPO = "repo --name=mine --baseurl=https://repo.example.invalid/debian\n";

test("%addon org_imgcreate --repo-key: the key file is read through the reader, like an %include", () => {
  const files = { "/ks/a.ks": `${REPO}%include sub/keys.ks\n`, "/ks/sub/keys.ks": "%addon org_imgcreate --repo-key=mine:mine.asc\n%end\n", "/ks/sub/mine.asc": KEY };
  const { m, ds } = parseTree(files);
  assert.deepEqual(ds, []);
  // Relative to cwd first, then to the directory of the file holding the addon.
  assert.deepEqual(m.imgcreate.repoKeys, [{ repo: "mine", path: "mine.asc", key: KEY, file: "sub/keys.ks", line: 1 }]);
  // So the client sends it with the includes, and the daemon parses the same from that map.
  assert.equal(collectIncludes("/ks/a.ks", { readFile: mapReader(files), cwd: "/ks" })["/ks/sub/mine.asc"], KEY);
});

test("%addon org_imgcreate: repo-key = REPO:FILE in the body, at its line", () => {
  const { m, ds } = parseTree({ "/ks/a.ks": `${REPO}%addon org_imgcreate\nrepo-key = mine:/keys/k.asc\n%end\n`, "/keys/k.asc": KEY });
  assert.deepEqual(ds, []);
  assert.deepEqual(m.imgcreate.repoKeys?.map((k) => [k.repo, k.path, k.line]), [["mine", "/keys/k.asc", 3]]);
});

test("--repo-key: a missing key file is an error at the addon line naming where it looked", () => {
  assert.deepEqual(one(`${REPO}\n%addon org_imgcreate --suite=bookworm --repo-key=mine:nope.asc\n%end\n`).ds, [
    'a.ks:3: error: cannot read the key file nope.asc for repo "mine": looked for nope.asc',
  ]);
});

test("--repo-key: a repository the kickstart does not have is an error at the addon line", () => {
  const { ds } = parseTree({ "/ks/a.ks": `${REPO}%addon org_imgcreate --repo-key=other:k.asc\n%end\n`, "/ks/k.asc": KEY });
  assert.deepEqual(ds, ['a.ks:2: error: --repo-key names repository "other", but the kickstart has no `repo --name=other`; its repositories are mine']);
});

test("--repo-key: not REPO:FILE, a binary or non-key file, or a second key for one repo are errors", () => {
  const tree = (addon: string, key = KEY) => parseTree({ "/ks/a.ks": `${REPO}%addon org_imgcreate ${addon}\n%end\n`, "/ks/k.asc": key, "/ks/l.asc": KEY }).ds;
  assert.deepEqual(tree("--repo-key=k.asc"), ["a.ks:2: error: --repo-key needs REPO:FILE (a repo --name and its key file), not 'k.asc'"]);
  // A binary keyring read as UTF-8 text by the client: refused with the command that converts it.
  assert.match(tree("--repo-key=mine:k.asc", "\u0099\u0001\ufffd\u0000")[0]!, /^a\.ks:2: error: key file k\.asc for repo "mine" is not an ASCII-armored OpenPGP public key .*gpg --armor --export/);
  assert.match(tree("--repo-key=mine:k.asc --repo-key=mine:l.asc")[0]!, /^a\.ks:2: error: repository "mine" already has a key \(a\.ks:2\); put all its keys in one file/);
});

test("%addon org_imgcreate --network: outbound or none, else an error at its line saying which values", () => {
  assert.equal(ok("%addon org_imgcreate --network=outbound\n%end\n").imgcreate.network, "outbound");
  assert.equal(ok("%addon org_imgcreate\nnetwork = none\n%end\n").imgcreate.network, "none");
  assert.equal(ok("%addon org_imgcreate --suite=bookworm\n%end\n").imgcreate.network, undefined);
  const { ds } = one("lang C\n%addon org_imgcreate\nnetwork = host\n%end\n");
  assert.deepEqual(ds, [
    "a.ks:3: error: %addon org_imgcreate --network must be none (the default: %post has no network) or outbound (%post may open connections to the outside, not to this host), not 'host'",
  ]);
});
