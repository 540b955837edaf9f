// Lexical rules of kickstart lines (POSIX shlex) and how their errors reach the user.
import { test } from "node:test";
import assert from "node:assert/strict";
import { shlexSplit, shellQuote } from "../../daemon/kickstart/lexer.js";
import { parseKickstart, formatDiagnostic } from "../../daemon/kickstart/index.js";

function words(line: string, comments = true): string[] {
  const r = shlexSplit(line, comments);
  assert.ok(r.ok, `expected '${line}' to split`);
  return r.words;
}

function check(text: string): string[] {
  const r = parseKickstart("/ks/a.ks", { readFile: (p) => (p === "/ks/a.ks" ? text : undefined), cwd: "/ks" });
  return r.diagnostics.map(formatDiagnostic);
}

test("whitespace separates words; runs of blanks and tabs count once", () => {
  assert.deepEqual(words("part  /\t--size 10 "), ["part", "/", "--size", "10"]);
});

test("single quotes keep everything literally, including backslashes and #", () => {
  assert.deepEqual(words(`rootpw 'a b\\c#d'`), ["rootpw", "a b\\c#d"]);
});

test('double quotes allow only \\" and \\\\ as escapes', () => {
  assert.deepEqual(words(`x "a \\"b\\" \\\\ \\n"`), ["x", 'a "b" \\ \\n']);
});

test("quotes join with adjacent text into one word", () => {
  assert.deepEqual(words(`repo --name="fedora"x'y'`), ["repo", "--name=fedoraxy"]);
});

test("an empty quoted string is a word", () => {
  assert.deepEqual(words(`x "" ''`), ["x", "", ""]);
});

test("outside quotes a backslash escapes the next character", () => {
  assert.deepEqual(words("x a\\ b \\#c"), ["x", "a b", "#c"]);
});

test("# starts a comment anywhere outside quotes, even inside a word", () => {
  assert.deepEqual(words("lang en_US # the language"), ["lang", "en_US"]);
  assert.deepEqual(words("lang en_US#comment"), ["lang", "en_US"]);
  assert.deepEqual(words(`x "a#b"`), ["x", "a#b"]);
});

test("section bodies are split without comment handling", () => {
  assert.deepEqual(words("%end # done", false), ["%end", "#", "done"]);
});

test("an unterminated quote is an error naming the quote", () => {
  const r = shlexSplit(`rootpw "abc`, true);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /no closing quotation: the " opened here/);
});

test("a trailing backslash is an error: kickstart has no line continuation", () => {
  const r = shlexSplit("bootloader --append=x \\", true);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /no line continuation/);
});

test("an unterminated quote is reported at its own line, and parsing goes on", () => {
  const ds = check(`lang en_US\nrootpw "oops\nkeyboard us\nfoo\n`);
  assert.deepEqual(ds, [
    `a.ks:2: error: no closing quotation: the " opened here is never closed on this line`,
    "a.ks:4: error: Unknown command: foo",
  ]);
});

test("shellQuote round-trips through the splitter", () => {
  for (const w of ["plain", "a b", "it's", 'say "hi"', "a#b", "", "x\\y", "$releasever&arch=$basearch"]) {
    assert.deepEqual(words(`cmd ${shellQuote(w)}`), ["cmd", w], `word ${JSON.stringify(w)}`);
  }
});

test("blank lines, whitespace-only lines and comment lines are ignored", () => {
  assert.deepEqual(check("\n   \n# lang broken\n\t# x\nlang en_US\n"), []);
});

test("CRLF line endings are accepted; script bodies keep them", () => {
  const r = parseKickstart("/ks/a.ks", { readFile: () => "lang C\r\n%post\r\necho hi\r\n  %end\r\n", cwd: "/ks" });
  assert.deepEqual(r.diagnostics, []);
  assert.equal(r.model.lang?.lang, "C");
  assert.equal(r.model.scripts[0]?.body, "echo hi\r\n");
});

test("a file without a final newline still ends its last command", () => {
  assert.deepEqual(check("lang C\nkeyboard us"), []);
});
