// The kickstart layer's own POSIX path operations (it runs in GJS too, which has no node:path) agree
// with node's path.posix on the paths kickstarts and %include lines give.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as pp from "../../daemon/kickstart/posix-path.js";

test("resolve, relative and dirname agree with node's path.posix", () => {
  const bases = ["/", "/a", "/a/b", "/a/b/", "/srv/ks"];
  const names = ["c", "../c", "../../..", "/x/./y/../z", "a/../../b", ".", "c/", "./d/e.ks", "/", "..//x"];
  for (const b of bases) for (const n of names) assert.equal(pp.resolve(b, n), path.posix.resolve(b, n), `resolve(${b}, ${n})`);
  const abs = ["/", "/a", "/a/b", "/a/b/c", "/a/x", "/d", "/x/y"];
  for (const f of abs) for (const t of abs) assert.equal(pp.relative(f, t), path.posix.relative(f, t), `relative(${f}, ${t})`);
  for (const d of ["/a/b", "/a", "a", "/", "a/b/", "/a/b/", "x.ks"]) assert.equal(pp.dirname(d), path.posix.dirname(d), `dirname(${d})`);
});
