// The API table is the contract: its validation, its error names and the introspection XML derived from it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { apiMarkdown } from "../../daemon/api/docs.js";
import { ImgcreateError } from "../../daemon/errors.js";
import { METHODS, PROPERTIES, findMethod } from "../../daemon/api/methods.js";
import { checkParams } from "../../daemon/api/schema.js";
import { fullXml, nodeXml } from "../../daemon/api/introspect.js";
import { ERROR_CODES, JSONRPC_CODES, codeOfDbusErrorName, dbusErrorName, jobNumberOfPath, jobPath, sessionIdOfPath, sessionPath } from "../../daemon/api/names.js";

function invalid(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs" && re.test(e.message));
}

describe("the API table", () => {
  it("has the methods the issue names, each with a polkit action and a doc line", () => {
    const names = METHODS.filter((m) => !m.jsonrpcOnly).map((m) => `${m.iface}.${m.name}`);
    for (const n of ["Manager.CreateSession", "Manager.ListSessions", "Session.Mount", "Session.Install", "Session.Configure", "Session.Unmount", "Session.Package", "Session.Create", "Session.Close", "Session.OpenShell", "Job.Cancel"]) {
      assert.ok(names.includes(n), n);
    }
    for (const m of METHODS) {
      assert.match(m.action, /^org\.imgcreate\./);
      assert.ok(m.doc.length > 10, `${m.name} doc`);
    }
    assert.equal(findMethod("Session", "ShellInput", "dbus"), undefined, "JSON-RPC-only methods are not on D-Bus");
  });

  it("Session.ShellResize (JSON-RPC only) takes a shell id and whole rows and cols", () => {
    assert.equal(findMethod("Session", "ShellResize", "dbus"), undefined);
    const def = findMethod("Session", "ShellResize", "jsonrpc")!;
    assert.deepEqual(checkParams(def.params, { shell: "abc-1", rows: 40, cols: 120 }), { shell: "abc-1", rows: 40, cols: 120 });
    invalid(() => checkParams(def.params, { shell: "abc-1", rows: "40", cols: 120 }), /"rows": expected an integer/);
    invalid(() => checkParams(def.params, { shell: "abc-1", rows: 40, cols: 1.5 }), /"cols": expected an integer/);
    invalid(() => checkParams(def.params, { shell: "abc-1", rows: 40, cols: 100000 }), /"cols": expected an integer 0\.\.1000/);
    invalid(() => checkParams(def.params, { shell: "abc-1", rows: 40 }), /"cols": missing/);
  });

  it("declares the properties of the issue", () => {
    assert.deepEqual(PROPERTIES.Session.map((p) => p.name).filter((n) => ["Id", "Name", "Owner", "State", "CurrentJob", "Artifacts"].includes(n)), ["Id", "Name", "Owner", "State", "CurrentJob", "Artifacts"]);
    for (const n of ["Operation", "Session", "Progress", "ProgressValid", "Status", "Bytes", "StartTime"]) assert.ok(PROPERTIES.Job.some((p) => p.name === n), n);
  });

  it("maps every error code to one D-Bus name and one JSON-RPC code, both ways", () => {
    for (const c of ERROR_CODES) {
      assert.equal(dbusErrorName(c), `org.imgcreate.ImageCreator1.Error.${c}`);
      assert.equal(codeOfDbusErrorName(dbusErrorName(c)), c);
    }
    assert.equal(new Set(Object.values(JSONRPC_CODES)).size, ERROR_CODES.length);
    assert.equal(codeOfDbusErrorName("org.freedesktop.DBus.Error.Failed"), undefined);
  });

  it("object paths round-trip and refuse what is not ours", () => {
    assert.equal(sessionIdOfPath(sessionPath("abc123")), "abc123");
    assert.equal(jobNumberOfPath(jobPath(42)), 42);
    assert.equal(sessionIdOfPath("/org/imgcreate/ImageCreator1/session/../x"), undefined);
    assert.equal(jobNumberOfPath("/org/imgcreate/ImageCreator1/job/1e3"), undefined);
  });
});

describe("parameter validation", () => {
  const create = findMethod("Manager", "CreateSession", "jsonrpc")!;
  const pkg = findMethod("Session", "Package", "jsonrpc")!;
  it("accepts a well-formed call and fills absent maps", () => {
    const p = checkParams(create.params, { kickstart: "lang C\n", options: { type: "loop", name: "x-1", minimize: false } });
    assert.deepEqual(p.includes, {});
    assert.deepEqual(p.options, { type: "loop", name: "x-1", minimize: false });
  });
  it("names the argument in every refusal", () => {
    invalid(() => checkParams(create.params, {}), /"kickstart": missing/);
    invalid(() => checkParams(create.params, { kickstart: 1 }), /"kickstart": expected a string/);
    invalid(() => checkParams(create.params, { kickstart: "  " }), /must not be empty/);
    invalid(() => checkParams(create.params, { kickstart: "x", includes: { a: 1 } }), /includes\["a"\]/);
    invalid(() => checkParams(create.params, { kickstart: "x", options: { type: "floppy" } }), /options\.type.*one of live, loop, fs/);
    invalid(() => checkParams(create.params, { kickstart: "x", options: { colour: "red" } }), /unknown option "colour"/);
    invalid(() => checkParams(create.params, { kickstart: "x", options: { name: "../etc" } }), /options\.name/);
    invalid(() => checkParams(create.params, { kickstart: "x", options: { minimize: "yes" } }), /expected a boolean/);
    invalid(() => checkParams(create.params, { kickstart: "x", extra: 1 }), /"extra": unknown parameter/);
    invalid(() => checkParams(create.params, { kickstart: "a\0b" }), /NUL/);
    invalid(() => checkParams(pkg.params, { destdir: "relative/dir" }), /absolute path/);
    invalid(() => checkParams(findMethod("Session", "OpenShell", "jsonrpc")!.params, { argv: ["sh"], options: { rows: -1 } }), /options\.rows/);
  });
});

describe("introspection XML", () => {
  it("is valid against the D-Bus introspection DTD", { skip: !existsSync("/usr/share/xml/dbus-1/introspect.dtd") }, () => {
    for (const xml of [fullXml(), nodeXml([], ["a", "b"]), nodeXml(["Session"], [])]) {
      execFileSync("xmllint", ["--noout", "--dtdvalid", "/usr/share/xml/dbus-1/introspect.dtd", "-"], { input: xml });
    }
  });
  it("carries every D-Bus method with its signature", () => {
    const xml = fullXml();
    assert.match(xml, /<method name="CreateSession">\s*<arg name="kickstart" type="s" direction="in"\/>\s*<arg name="includes" type="a\{ss\}" direction="in"\/>\s*<arg name="options" type="a\{sv\}" direction="in"\/>\s*<arg name="session" type="o" direction="out"\/>/);
    assert.match(xml, /<method name="OpenShell">[\s\S]*?type="h" direction="out"/);
    assert.match(xml, /<signal name="Completed">\s*<arg name="success" type="b"\/>\s*<arg name="error_name" type="s"\/>\s*<arg name="message" type="s"\/>/);
    assert.doesNotMatch(xml, /ShellInput|GetProperties/);
  });
});

describe("docs/dbus-api.md", () => {
  it("is what daemon/api/docs.ts generates from the table (regenerate it when the API changes)", () => {
    const src = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../../docs/dbus-api.md" : "../../../docs/dbus-api.md", import.meta.url));
    assert.equal(readFileSync(src, "utf8"), apiMarkdown());
  });
});
