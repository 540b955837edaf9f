// The imgcreate command line as a user types it: commands, options anywhere, `--`, and the usage errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommandLine, arity } from "../../client/args.js";
import { exitCodeFor, describeError, EXIT } from "../../client/errors.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { run } from "../../client/main.js";
import { PassThrough } from "node:stream";

function usageOf(argv: string[]): { code: number; message: string } {
  try {
    parseCommandLine(argv);
  } catch (e) {
    return { code: exitCodeFor(e), message: describeError(e) };
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

test("build takes a kickstart and its image options", () => {
  const p = parseCommandLine(["build", "my.ks", "-o", "/tmp/out", "--type", "live", "--fslabel=LIVE", "--keep-session"]);
  assert.deepEqual(p.spec?.path, ["build"]);
  assert.deepEqual(p.positionals, ["my.ks"]);
  assert.equal(p.values["output"], "/tmp/out");
  assert.equal(p.values["type"], "live");
  assert.equal(p.values["fslabel"], "LIVE");
  assert.equal(p.values["keep-session"], true);
});

test("build --session ID rebuilds a kept session, with or without a new kickstart", () => {
  const p = parseCommandLine(["build", "--session", "abc123", "-o", "/tmp/out"]);
  assert.equal(p.values["session"], "abc123");
  assert.deepEqual(p.positionals, []);
  assert.deepEqual(parseCommandLine(["build", "--session", "abc123", "new.ks"]).positionals, ["new.ks"]);
  assert.deepEqual(parseCommandLine(["session", "edit", "abc123", "new.ks"]).positionals, ["abc123", "new.ks"]);
});

test("global options work before and after the command", () => {
  const a = parseCommandLine(["--json", "--transport", "socket", "session", "list"]);
  const b = parseCommandLine(["session", "list", "--socket=/x.sock", "--json"]);
  assert.equal(a.globals.json, true);
  assert.equal(a.globals.transport, "socket");
  assert.equal(b.globals.socket, "/x.sock");
  assert.equal(b.globals.json, true);
  assert.deepEqual(b.spec?.path, ["session", "list"]);
});

test("shell passes everything after -- through untouched, options included", () => {
  const p = parseCommandLine(["shell", "s1", "--", "ls", "-l", "--json", "/"]);
  assert.deepEqual(p.positionals, ["s1"]);
  assert.deepEqual(p.passthrough, ["ls", "-l", "--json", "/"]);
  assert.equal(p.globals.json, false);
  const q = parseCommandLine(["session", "shell", "s1"]);
  assert.deepEqual(q.passthrough, []);
});

test("ks hands its words to the kickstart tool unparsed", () => {
  const p = parseCommandLine(["ks", "check", "--version", "RHEL9", "a.ks", "b.ks"]);
  assert.deepEqual(p.ks?.argv, ["check", "--version", "RHEL9", "a.ks", "b.ks"]);
});

test("usage errors exit 2 and point at the right --help", () => {
  for (const [argv, text] of [
    [["bild", "x.ks"], /unknown command 'bild'.*did you mean 'build'/],
    [["build"], /missing KICKSTART.*imgcreate build --help/],
    [["build", "a.ks", "b.ks"], /unexpected argument 'b.ks'/],
    [["build", "--type", "iso", "a.ks"], /--type must be one of live, loop, fs/],
    [["build", "--frobnicate", "a.ks"], /unknown option '--frobnicate'/],
    [["session", "list", "extra"], /unexpected argument/],
    [["--transport", "carrier-pigeon", "session", "list"], /--transport must be dbus or socket/],
    [["session", "close", "s1", "--", "x"], /takes nothing after --/],
    [[], /no command given/],
  ] as [string[], RegExp][]) {
    const r = usageOf(argv);
    assert.equal(r.code, EXIT.usage, argv.join(" "));
    assert.match(r.message, text);
  }
});

test("--help is recognised anywhere and parses nothing else", () => {
  const p = parseCommandLine(["session", "create", "--help", "--bogus"]);
  assert.equal(p.globals.help, true);
  assert.deepEqual(p.spec?.path, ["session", "create"]);
});

test("arity reads the synopsis", () => {
  assert.deepEqual(arity("KICKSTART"), { min: 1, max: 1 });
  assert.deepEqual(arity(""), { min: 0, max: 0 });
  assert.deepEqual(arity("FILE..."), { min: 1, max: Infinity });
  assert.deepEqual(arity("ID [-- COMMAND...]"), { min: 1, max: 1 });
});

test("every error code maps to its documented exit status and a next step", () => {
  assert.equal(exitCodeFor(new ImgcreateError("NotAuthorized", "no")), 3);
  assert.equal(exitCodeFor(new ImgcreateError("NotOwner", "no")), 3);
  assert.equal(exitCodeFor(new ImgcreateError("InvalidArgs", "no")), 2);
  assert.equal(exitCodeFor(new ImgcreateError("Cancelled", "x")), 130);
  assert.equal(exitCodeFor(new ImgcreateError("Failed", "x")), 1);
  assert.equal(exitCodeFor(new ImgcreateError("Failed", "x", { exitCode: 4 })), 4);
  assert.equal(exitCodeFor(new Error("boom")), 1);
  assert.match(describeError(new ImgcreateError("NotAuthorized", "org.imgcreate.build denied")), /ask an administrator to add you to the group imgbuilders/);
  assert.match(describeError(new ImgcreateError("Busy", "a job runs")), /imgcreate session cancel/);
});

function capture(): PassThrough & { text(): string } {
  const s = new PassThrough() as PassThrough & { text(): string; columns?: number; isTTY?: boolean };
  let buf = "";
  s.on("data", (d: Buffer) => (buf += d.toString()));
  s.text = () => buf;
  return s;
}

test("imgcreate --help and COMMAND --help print help and exit 0; errors never print a stack", async () => {
  const out = capture();
  const err = capture();
  assert.equal(await run(["--help"], out as never, err as never), 0);
  assert.match(out.text(), /Usage: imgcreate/);
  assert.match(out.text(), /130\s+cancelled/);
  const out2 = capture();
  assert.equal(await run(["session", "logs", "--help"], out2 as never, err as never), 0);
  assert.match(out2.text(), /--follow/);
  const err3 = capture();
  assert.equal(await run(["build", "--type"], capture() as never, err3 as never), 2);
  assert.match(err3.text(), /^imgcreate: /);
  assert.doesNotMatch(err3.text(), /\n\s+at /);
});

test("a kickstart that does not exist is a usage error naming the file", async () => {
  const err = capture();
  const code = await run(["build", "/nonexistent/x.ks"], capture() as never, err as never);
  assert.equal(code, 2);
  assert.match(err.text(), /cannot read the kickstart \/nonexistent\/x.ks: no such file/);
});

test("imgcreate ks check goes to the kickstart tool: FILE:LINE and exit 1 for an invalid file", async () => {
  const { makeTmp, removeTmp } = await import("../helpers/tmp.js");
  const { writeFileSync } = await import("node:fs");
  const dir = await makeTmp("client-ks");
  try {
    writeFileSync(`${dir}/bad.ks`, "lang C.UTF-8\nfrobnicate\n");
    const out = capture();
    const code = await run(["ks", "check", `${dir}/bad.ks`], out as never, out as never);
    assert.equal(code, 1);
    assert.match(out.text(), /bad\.ks:2: error: /);
  } finally {
    await removeTmp(dir);
  }
});

test("boot-test refuses contradictory or bad options and unreadable ISOs before starting qemu (exit 2)", async () => {
  for (const [argv, re] of [
    [["boot-test", "--uefi", "--bios", "/etc/hostname"], /choose one of --uefi and --bios/],
    [["boot-test", "--timeout", "soon", "/etc/hostname"], /--timeout needs a whole number of seconds/],
    [["boot-test", "/nonexistent.iso"], /cannot read \/nonexistent\.iso/],
  ] as [string[], RegExp][]) {
    const err = capture();
    assert.equal(await run(argv, capture() as never, err as never), 2, argv.join(" "));
    assert.match(err.text(), re);
  }
});
