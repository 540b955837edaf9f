// The man pages and the bash completion come from the same table as --help, and the committed files are current.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { COMMANDS } from "../../client/help.js";
import { imgcreateManPage, bashCompletion } from "../../client/docs.js";

const FROM_SOURCE = import.meta.url.endsWith(".ts");
const ROOT = fileURLToPath(new URL(FROM_SOURCE ? "../.." : "../../..", import.meta.url));

test("committed man/imgcreate.1 and completion/imgcreate.bash match the help table (run man/generate.ts)", () => {
  assert.equal(readFileSync(join(ROOT, "man/imgcreate.1"), "utf8"), imgcreateManPage("November 2026"));
  assert.equal(readFileSync(join(ROOT, "completion/imgcreate.bash"), "utf8"), bashCompletion());
  assert.ok(existsSync(join(ROOT, "man/imgcreated.8")));
});

test("the man page renders and documents every command and option", () => {
  const text = execFileSync("man", ["-l", "-P", "cat", join(ROOT, "man/imgcreate.1")], { encoding: "utf8", env: { ...process.env, MANWIDTH: "200" } });
  for (const c of COMMANDS) {
    assert.ok(text.includes(`imgcreate ${c.path.join(" ")}`), c.path.join(" "));
    for (const o of c.options) assert.ok(text.includes(`--${o.name}`), `${c.path.join(" ")} --${o.name}`);
  }
  assert.match(text, /EXIT STATUS/);
});

test("bash completion offers commands, sub-commands, options and option values", () => {
  const script = `source ${join(ROOT, "completion/imgcreate.bash")}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); COMPREPLY=(); _imgcreate; echo "\${COMPREPLY[*]}"; }
t imgcreate bu; t imgcreate session c; t imgcreate build --ty; t imgcreate build --type ""; t imgcreate --json session logs --fo`;
  const out = execFileSync("bash", ["-c", script], { encoding: "utf8" }).split("\n");
  assert.equal(out[0], "build");
  assert.equal(out[1], "create configure clone checkpoint checkpoints cancel close");
  assert.equal(out[2], "--type");
  assert.equal(out[3], "live loop fs");
  assert.equal(out[4], "--follow");
});
