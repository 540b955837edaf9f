// The GNOME frontend's strings are ready for translation: xgettext finds every label and sentence the
// window shows in the files po/POTFILES lists (keywords _ and _f, gettext domain "imgcreate"), and
// every gtk/ file that calls _() is listed there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const skip = existsSync("/usr/bin/xgettext") ? false : "needs xgettext (Debian package gettext, scripts/setup.sh)";

test("xgettext extracts the window's strings from the files po/POTFILES lists", { skip }, () => {
  const listed = readFileSync(join(ROOT, "po/POTFILES"), "utf8").split("\n").filter(Boolean);
  const calling = readdirSync(join(ROOT, "gtk"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "i18n.ts")
    .filter((f) => /\b_f?\(/.test(readFileSync(join(ROOT, "gtk", f), "utf8")))
    .map((f) => `gtk/${f}`);
  assert.deepEqual([...listed].sort(), calling.sort(), "po/POTFILES lists every gtk/ file with translatable strings");
  const pot = execFileSync("xgettext", ["--language=JavaScript", "--from-code=UTF-8", "--keyword=_", "--keyword=_f", "-o", "-", ...listed], {
    cwd: ROOT,
    encoding: "utf8",
  });
  for (const s of ["New build", "Build", "Create session", "Open shell", "Close session", "Not allowed", "State: %s", "Shell in %s"]) {
    assert.ok(pot.includes(`msgid "${s}"`), `"${s}" is translatable`);
  }
});
