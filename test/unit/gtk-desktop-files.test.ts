// The GNOME frontend's desktop integration: its .desktop file and AppStream metainfo pass the
// freedesktop validators (desktop-file-validate, appstreamcli validate without network), and name
// the same application, icon and launcher.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DATA = fileURLToPath(new URL("../../../gtk/data/", import.meta.url));
const ID = "org.imgcreate.Gtk";
const tools = existsSync("/usr/bin/appstreamcli") && existsSync("/usr/bin/desktop-file-validate") ? false : "needs appstream and desktop-file-utils (scripts/setup.sh)";

test("the .desktop file and the metainfo validate and agree", { skip: tools }, () => {
  const desktop = join(DATA, `${ID}.desktop`);
  const metainfo = join(DATA, `${ID}.metainfo.xml`);
  execFileSync("desktop-file-validate", [desktop]);
  execFileSync("appstreamcli", ["validate", "--no-net", metainfo]);
  const d = readFileSync(desktop, "utf8");
  assert.match(d, new RegExp(`^Icon=${ID}$`, "m"));
  assert.match(d, /^Exec=imgcreate-gtk %f$/m);
  assert.match(readFileSync(metainfo, "utf8"), new RegExp(`<launchable type="desktop-id">${ID}.desktop</launchable>`));
  assert.ok(existsSync(join(DATA, `${ID}.svg`)), "the icon is there");
});
