// The remote command's exit status travels as a private escape sequence on the pty; the client strips it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { ExitMarkerFilter, wrapWithExitMarker } from "../../client/connection/exit-marker.js";

async function filter(chunks: string[]): Promise<{ out: string; status: number | undefined }> {
  const f = new ExitMarkerFilter();
  let out = "";
  f.on("data", (d: Buffer) => (out += d.toString("utf8")));
  for (const c of chunks) f.write(Buffer.from(c, "utf8"));
  f.end();
  const status = await f.status;
  return { out, status };
}

test("the wrapper runs the command in sh and reports its status", () => {
  const argv = wrapWithExitMarker(["sh", "-c", "echo hi; exit 7"]);
  let out = "";
  try {
    execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
  } catch (e) {
    out = (e as { stdout: string }).stdout;
    assert.equal((e as { status: number }).status, 7);
  }
  assert.equal(out, "hi\n\x1b]7771;imgcreate-exit=7\x07");
  assert.deepEqual(wrapWithExitMarker([]).slice(-2), ["/bin/sh", "-l"]);
});

test("the marker is removed and its status kept, also when split across reads", async () => {
  assert.deepEqual(await filter(["hello\r\n\x1b]7771;imgcreate-exit=3\x07"]), { out: "hello\r\n", status: 3 });
  const whole = "äbc\x1b]7771;imgcreate-exit=42\x07";
  for (let cut = 1; cut < Buffer.byteLength(whole); cut++) {
    const b = Buffer.from(whole, "utf8");
    const f = new ExitMarkerFilter();
    const parts: Buffer[] = [];
    f.on("data", (d: Buffer) => parts.push(d));
    f.write(b.subarray(0, cut));
    f.write(b.subarray(cut));
    f.end();
    assert.equal(await f.status, 42, `cut at ${cut}`);
    assert.equal(Buffer.concat(parts).toString("utf8"), "äbc", `cut at ${cut}`);
  }
});

test("output without a marker passes unchanged and gives no status", async () => {
  assert.deepEqual(await filter(["plain \x1b]0;title\x07 text", "\x1b]77"]), { out: "plain \x1b]0;title\x07 text\x1b]77", status: undefined });
});
