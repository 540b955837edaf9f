// TYPE[:LEVEL] squashfs compression: one parser (daemon/compression.ts) for the API, the engine and the
// client; the mksquashfs arguments it becomes; and how a mksquashfs run maps onto a moving fraction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCompression, parseCompression, formatCompression, compressionChoices } from "../../daemon/compression.js";
import { compressionArgs, squashfsFraction, SQUASHFS_MEM } from "../../daemon/creator/system/squashfs.js";
import { creatorCompression } from "../../daemon/sessions/registry.js";
import { findMethod } from "../../daemon/api/methods.js";
import { checkParams } from "../../daemon/api/schema.js";
import { sessionOptions } from "../../client/commands/build.js";
import { exitCodeFor, describeError } from "../../client/errors.js";
import { ImgcreateError } from "../../daemon/errors.js";

function invalid(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ImgcreateError, String(e));
    assert.equal(e.code, "InvalidArgs");
    return e.message;
  }
  throw new Error("accepted");
}

test("every type parses, with and without a level in its range", () => {
  for (const t of ["zstd", "xz", "gzip", "lz4", "lzo", "none"]) assert.deepEqual(parseCompression(t), { type: t });
  assert.deepEqual(parseCompression("zstd:1"), { type: "zstd", level: 1 });
  assert.deepEqual(parseCompression("zstd:3"), { type: "zstd", level: 3 });
  assert.deepEqual(parseCompression("zstd:22"), { type: "zstd", level: 22 });
  assert.deepEqual(parseCompression("gzip:1"), { type: "gzip", level: 1 });
  assert.deepEqual(parseCompression("gzip:9"), { type: "gzip", level: 9 });
  assert.deepEqual(parseCompression("lzo:1"), { type: "lzo", level: 1 });
  assert.deepEqual(parseCompression("lzo:9"), { type: "lzo", level: 9 });
  assert.equal(formatCompression(parseCompression("zstd:03")), "zstd:3");
  assert.equal(formatCompression({ type: "xz" }), "xz");
});

test("levels out of mksquashfs' documented range are refused, naming every type's range", () => {
  const all = /use TYPE\[:LEVEL\], one of zstd\[:1-22\], xz, gzip\[:1-9\], lz4, lzo\[:1-9\], none$/;
  for (const [spec, why] of [
    ["zstd:0", /level for zstd must be 1 to 22, got 0/],
    ["zstd:23", /level for zstd must be 1 to 22, got 23/],
    ["gzip:0", /level for gzip must be 1 to 9, got 0/],
    ["gzip:10", /level for gzip must be 1 to 9, got 10/],
    ["lzo:10", /level for lzo must be 1 to 9, got 10/],
    ["xz:6", /compression xz takes no level \(mksquashfs tunes xz with -Xdict-size, not a level\)/],
    ["lz4:1", /compression lz4 takes no level;/],
    ["none:1", /compression none takes no level;/],
    ["lzma", /unknown squashfs compression "lzma"/],
    ["ZSTD", /"ZSTD" is not a squashfs compression/],
    ["zstd:", /"" in "zstd:" is not a compression level/],
    ["zstd:-3", /"-3" in "zstd:-3" is not a compression level/],
    ["zstd:3.5", /"3.5" in "zstd:3.5" is not a compression level/],
    ["zstd:0x3", /"0x3" in "zstd:0x3" is not a compression level/],
    ["zstd: 3", /" 3" in "zstd: 3" is not a compression level/],
    ["", /"" is not a squashfs compression/],
  ] as const) {
    const m = invalid(() => parseCompression(spec));
    assert.match(m, why, spec);
    assert.match(m, all, spec);
  }
  assert.equal(compressionChoices(), "zstd[:1-22], xz, gzip[:1-9], lz4, lzo[:1-9], none");
  assert.match(invalid(() => checkCompression({ type: "zstd", level: 2.5 })), /must be 1 to 22, got 2.5/);
});

test("the squashfs arguments: -comp TYPE, -Xcompression-level only when a level is named", () => {
  assert.deepEqual(compressionArgs("zstd", 3), ["-comp", "zstd", "-Xcompression-level", "3"]);
  assert.deepEqual(compressionArgs("zstd"), ["-comp", "zstd"]);
  assert.deepEqual(compressionArgs("gzip", 9), ["-comp", "gzip", "-Xcompression-level", "9"]);
  assert.deepEqual(compressionArgs("lzo", 5), ["-comp", "lzo", "-Xcompression-level", "5"]);
  assert.deepEqual(compressionArgs("xz"), ["-comp", "xz", "-Xbcj", "x86"]);
  assert.deepEqual(compressionArgs("lz4"), ["-comp", "lz4"]);
  assert.deepEqual(compressionArgs("none"), ["-noI", "-noD", "-noF", "-noX"]);
  // The engine refuses what the API would, for a caller that bypasses it.
  assert.match(invalid(() => compressionArgs("xz", 6)), /xz takes no level/);
  assert.match(invalid(() => compressionArgs("zstd", 30)), /1 to 22, got 30/);
  assert.equal(SQUASHFS_MEM, "128M");
});

test("a session's TYPE[:LEVEL] reaches the engine as type and level", () => {
  assert.deepEqual(creatorCompression(undefined), {});
  assert.deepEqual(creatorCompression("xz"), { compression: "xz" });
  assert.deepEqual(creatorCompression("zstd:3"), { compression: "zstd", compressionLevel: 3 });
});

test("CreateSession's compression option: TYPE[:LEVEL], canonical, InvalidArgs naming the option", () => {
  const def = findMethod("Manager", "CreateSession", "dbus")!;
  const opts = (compression: string) => checkParams(def.params, { kickstart: "x", includes: {}, options: { compression } }).options as Record<string, unknown>;
  assert.equal(opts("zstd:3").compression, "zstd:3");
  assert.equal(opts("gzip:09").compression, "gzip:9");
  assert.equal(opts("xz").compression, "xz");
  const m = invalid(() => opts("xz:9"));
  assert.match(m, /^argument "options\.compression": squashfs compression xz takes no level/);
  assert.match(m, /one of zstd\[:1-22\], xz, gzip\[:1-9\], lz4, lzo\[:1-9\], none/);
  assert.match(invalid(() => opts("zstd:99")), /options\.compression.*must be 1 to 22, got 99/);
});

test("the client: --compression (and --compression-type) TYPE[:LEVEL], a bad one is a usage error", () => {
  assert.equal(sessionOptions({ compression: "zstd:3" }, "a.ks").compression, "zstd:3");
  assert.equal(sessionOptions({ "compression-type": "gzip:9" }, "a.ks").compression, "gzip:9");
  assert.equal(sessionOptions({}, "a.ks").compression, undefined);
  try {
    sessionOptions({ compression: "zstd:0" }, "a.ks", ["session", "create"]);
    assert.fail("accepted");
  } catch (e) {
    assert.equal(exitCodeFor(e), 2);
    assert.match(describeError(e), /^--compression: squashfs compression level for zstd must be 1 to 22, got 0; .*\(see `imgcreate session create --help`\)$/);
  }
});

const MiB = 1024 * 1024;

test("mksquashfs progress: proportional to what it has read, less the share its queue holds", () => {
  const total = 1000 * MiB; // 48 MiB of read-ahead: a tail of 4.8 %
  const at = (read: number, bar = 0) => squashfsFraction({ total, read, bar, readMs: 10_000 });
  assert.equal(at(0), 0);
  assert.ok(Math.abs(at(500 * MiB) - 0.5 * (1 - 0.048)) < 1e-9);
  let prev = -1;
  for (let r = 0; r <= total; r += 50 * MiB) {
    assert.ok(at(r) > prev, "moves with every read");
    prev = at(r);
  }
  assert.ok(at(total) < 0.96, "reading everything is not the end");
  assert.equal(at(100 * MiB, 0.3), 0.3, "never below its own bar");
  assert.equal(at(total, 1), 0.99, "1 only once it has exited");
  assert.equal(squashfsFraction({ total: 0, read: 5, bar: 0.2, readMs: 1 }), 0.2, "unknown input size: the bar alone");
});

test("mksquashfs progress after the last read: keeps moving towards the end, never reaching it", () => {
  const total = 1000 * MiB;
  const readMs = 60_000; // the queue's 48 MiB took ~2.9 s to read, so about that to compress
  const after = (drainMs: number) => squashfsFraction({ total, read: total, bar: 0, readMs, drainMs });
  const start = squashfsFraction({ total, read: total, bar: 0, readMs });
  assert.ok(Math.abs(after(0) - start) < 1e-9, "no jump when reading ends");
  let prev = after(0);
  for (let t = 500; t <= 20_000; t += 500) {
    assert.ok(after(t) > prev || after(t) === 0.99, `moves at ${t} ms`);
    prev = after(t);
  }
  assert.ok(after(2900) > 0.96 && after(2900) < 0.99);
  assert.equal(after(600_000), 0.99);
  // A small input: the tail is capped at half, and the drain spreads over at least a second.
  const small = squashfsFraction({ total: 10 * MiB, read: 10 * MiB, bar: 0, readMs: 100, drainMs: 500 });
  assert.ok(small > 0.5 && small < 0.99);
});
