// %packages → apt: globs, groups, missing entries with FILE:LINE, dpkg filters, apt's dependency errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dpkgFilters, excludedButRequired, globToRegExp, resolve, missingError, type Resolved } from "../../daemon/creator/packages/request.js";
import type { PackageRequest } from "../../daemon/creator/packages/backend.js";
import { excludePins, hookScript } from "../../daemon/creator/packages/apt-hook.js";

const req = (p: Partial<PackageRequest>): PackageRequest => ({
  packages: [],
  excludes: [],
  groups: [],
  nocore: false,
  excludeDocs: false,
  ignoreMissing: false,
  weakDeps: true,
  ...p,
});
const at = (name: string, line: number) => ({ name, file: "a.ks", line });
const available = new Set(["vim", "vim-tiny", "vim-runtime", "less", "task-gnome-desktop", "xorg", "gnome", "task-ssh-server"]);

test("globs expand to every matching package name; a glob matching nothing is missing", () => {
  const r: Resolved = resolve(req({ packages: [at("vim*", 1), at("les?", 2), at("emacs*", 3)] }), available);
  assert.deepEqual(r.install.sort(), ["less", "vim", "vim-runtime", "vim-tiny"]);
  assert.deepEqual(r.missing, [at("emacs*", 3)]);
});

test("globToRegExp handles classes and escapes regex characters", () => {
  assert.ok(globToRegExp("lib[abc]d+x").test("libbd+x"));
  assert.ok(!globToRegExp("lib[!a]").test("liba"));
  assert.ok(!globToRegExp("a.b").test("axb"));
});

test("groups map to the documented table, then task-NAME, then a metapackage NAME", () => {
  const r = resolve(req({ groups: [at("gnome-desktop", 1), at("ssh-server", 2), at("gnome", 3), at("core", 4), at("nonesuch", 5)] }), available);
  assert.deepEqual(r.install.sort(), ["gnome", "task-gnome-desktop", "task-ssh-server"]);
  assert.deepEqual(r.missing, [at("nonesuch", 5)]);
});

test("an explicit exclude removes what a glob matched", () => {
  const r = resolve(req({ packages: [at("vim*", 1)], excludes: [at("vim-tiny", 2)] }), available);
  assert.deepEqual(r.install.sort(), ["vim", "vim-runtime"]);
});

test("the missing error names every FILE:LINE and says how to fix it", () => {
  const e = missingError([at("nope", 7), at("@grp", 9)]);
  assert.equal(e.code, "InvalidArgs");
  assert.match(e.message, /a\.ks:7: no package or group "nope".*a\.ks:9:.*--ignoremissing/);
});

test("--excludedocs and --inst-langs become dpkg path filters that keep copyright files", () => {
  const f = dpkgFilters(req({ excludeDocs: true, instLangs: "de_DE:fr" }));
  assert.ok(f.includes("path-exclude=/usr/share/doc/*"));
  assert.ok(f.includes("path-include=/usr/share/doc/*/copyright"));
  assert.ok(f.includes("path-exclude=/usr/share/locale/*"));
  assert.ok(f.includes("path-include=/usr/share/locale/de_DE/*"));
  assert.ok(f.includes("path-include=/usr/share/locale/de/*"));
  assert.ok(f.includes("path-include=/usr/share/locale/fr/*"));
  assert.deepEqual(dpkgFilters(req({})), []);
});

test("apt's unmet dependency on an excluded package is traced back to the exclude line", () => {
  const out = "The following packages have unmet dependencies:\n procps : Depends: libproc2-0 (>= 2:4.0.2) but it is not going to be installed\nE: Unable to correct problems";
  const hit = excludedButRequired(out, [at("libproc2-*", 4)]);
  assert.deepEqual(hit, { pkg: "procps", needs: "libproc2-0", spec: at("libproc2-*", 4) });
  assert.equal(excludedButRequired(out, [at("other", 1)]), undefined);
});

test("excludes become apt pins at -1; the hook quotes its paths", () => {
  assert.equal(excludePins(["a", "b*"]), "Package: a\nPin: version *\nPin-Priority: -1\n\nPackage: b*\nPin: version *\nPin-Priority: -1\n");
  const s = hookScript({ lists: "/c/it's", stage: "/s", excludes: "/e", debs: "/d" });
  assert.match(s, /LISTS='\/c\/it'\\''s'/);
});
