// What a re-opened dnf image's update removes besides packages: the groups and the environment the
// old %packages installed and the new one no longer asks for or now excludes (core under --nocore).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseKickstart, mapReader, requestFromKickstart } from "../../daemon/kickstart/index.js";
import { droppedGroups } from "../../daemon/creator/packages/dnf.js";

function request(packages: string) {
  const r = parseKickstart("/ks/f.ks", { readFile: mapReader({ "/ks/f.ks": `%packages${packages}\n%end\n` }), cwd: "/ks" });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), []);
  return requestFromKickstart(r.model.packages);
}

test("a group or environment dropped from %packages is removed; one still named stays", () => {
  const before = request("\n@^base-env\n@tools --optional\n@extras\ntapp");
  assert.deepEqual(droppedGroups(before, request("\n@^base-env\n@extras\ntapp")), ["tools"]);
  assert.deepEqual(droppedGroups(before, request("\n@tools\n@extras")), ["base-env"]);
  assert.deepEqual(droppedGroups(before, before), []);
});

test("a group the new %packages excludes is removed, and core once --nocore is given", () => {
  const before = request("\n@^base-env");
  assert.deepEqual(droppedGroups(before, request("\n@^base-env\n-@extras")), ["extras"]);
  assert.deepEqual(droppedGroups(before, request(" --nocore\n@^base-env")), ["core"]);
  assert.deepEqual(droppedGroups(request(" --nocore\ntapp"), request("\ntapp")), []);
});
