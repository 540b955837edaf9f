// What the progress displays print: a terminal block redrawn in place, plain timestamped lines, JSON lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { TtyRenderer, PlainRenderer, JsonRenderer } from "../../client/progress/renderers.js";
import { bar, eta, fit, formatBytes, formatDuration } from "../../client/progress/format.js";
import { sessionTable } from "../../client/commands/session.js";

function sink(columns = 100): { write(s: string): void; columns: number; text: string } {
  return { columns, text: "", write(s: string) { this.text += s; } };
}

test("formatters: bytes, durations, ETA, bars, fitting lines", () => {
  assert.equal(formatBytes(0), "");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(231 * 1024 * 1024), "231 MiB");
  assert.equal(formatDuration(65), "1:05");
  assert.equal(formatDuration(3725), "1:02:05");
  assert.equal(eta(0.5, 10), 10);
  assert.equal(eta(0.01, 10), undefined);
  assert.equal(eta(undefined, 10), undefined);
  assert.equal(bar(0.5, 10), "[#####-----]");
  assert.equal(bar(undefined, 4), "[····]");
  assert.equal(fit("abc\x1b[31mdef\tg", 80), "abcdef g");
  assert.equal(fit("x".repeat(50), 10), "x".repeat(9) + "…");
});

test("the terminal display redraws its block in place and ends with the cursor shown and no log line", () => {
  let now = 0;
  const out = sink();
  const r = new TtyRenderer(out, () => now);
  r.stageStart("mount");
  now += 1000;
  r.stageEnd("mount", true, "");
  now += 200;
  r.stageStart("install");
  now += 10_000;
  r.progress("install", { fraction: 0.5, bytes: 100 * 1024 * 1024, status: "unpacking" });
  now += 200;
  r.log("install", 6, "Unpacking libc6 ...");
  now += 10_000;
  r.stageEnd("install", true, "");
  r.finish();
  const t = out.text;
  assert.ok(t.startsWith("\x1b[?25l"), "cursor hidden while drawing");
  assert.ok(t.endsWith("\x1b[?25h"), "cursor shown at the end");
  assert.match(t, /\x1b\[\d+A/, "moves up to redraw in place");
  assert.match(t, /install\s+\[##########----------\]\s+50%\s+100 MiB\s+ETA 0:10\s+unpacking/);
  assert.match(t, /Unpacking libc6/);
  // Replay the escape codes on a tiny screen model: the final screen holds just the two finished stages.
  const screen = replay(t);
  assert.equal(screen.length, 2);
  assert.match(screen[0]!, /^mount\s+\[#{20}\] done in 0:01$/);
  assert.match(screen[1]!, /^install\s+\[#{20}\] done in 0:20$/);
});

test("after finish (a shell in between), later stages draw below what was printed, not over it", () => {
  const out = sink();
  const r = new TtyRenderer(out, () => 0);
  r.stageStart("configure");
  r.stageEnd("configure", true, "");
  r.finish();
  out.write("# exit\n");
  r.stageStart("unmount");
  r.stageEnd("unmount", true, "");
  r.finish();
  const screen = replay(out.text);
  assert.equal(screen.length, 3, screen.join("\n"));
  assert.match(screen[0]!, /^configure .* done/);
  assert.equal(screen[1], "# exit");
  assert.match(screen[2]!, /^unmount .* done/);
});

test("a failed stage shows FAILED and the reason", () => {
  const out = sink();
  const r = new TtyRenderer(out, () => 0);
  r.stageStart("install");
  r.stageEnd("install", false, "package nosuch not found");
  r.finish();
  assert.match(replay(out.text)[0]!, /install .* FAILED in 0:00: package nosuch not found/);
});

test("plain lines are timestamped and progress is thinned to 10% steps", () => {
  const out = sink();
  const r = new PlainRenderer(out, () => new Date("2026-11-30T03:00:00Z"));
  r.stageStart("install");
  for (let i = 0; i <= 20; i++) r.progress("install", { fraction: i / 20, status: "working" });
  r.log("install", 6, "hello");
  r.stageEnd("install", true, "");
  const lines = out.text.trim().split("\n");
  assert.ok(lines.every((l) => l.startsWith("2026-11-30T03:00:00Z ")));
  assert.equal(lines.filter((l) => / install: \d+% working/.test(l)).length, 11);
  assert.ok(lines.includes("2026-11-30T03:00:00Z install| hello"));
  assert.doesNotMatch(out.text, /\x1b/);
});

test("JSON lines parse and carry stage, fraction, bytes and message", () => {
  const out = sink();
  const r = new JsonRenderer(out);
  r.stageStart("package");
  r.progress("package", { fraction: 0.25, bytes: 4096, status: "mksquashfs" });
  r.log("package", 5, "line");
  r.stageEnd("package", true, "");
  const events = out.text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(events.map((e) => e["event"]), ["stage-start", "progress", "log", "stage-end"]);
  assert.equal(events[1]!["fraction"], 0.25);
  assert.equal(events[1]!["bytes"], 4096);
  assert.equal(events[2]!["priority"], 5);
  assert.equal(events[3]!["success"], true);
});

test("session list is a table with state, owner and the running job", () => {
  const t = sessionTable([
    { id: "a1", name: "demo", type: "loop", owner: 4242, state: "installed", artifacts: [], checkpointUsage: {}, job: { id: "/j/1", operation: "configure", status: "running", progress: 0.4 } },
    { id: "b2", name: "other", type: "live", owner: 4243, state: "created", artifacts: [], checkpointUsage: {} },
  ]);
  const lines = t.trim().split("\n");
  assert.match(lines[0]!, /^ID\s+NAME\s+OWNER\s+STATE\s+JOB$/);
  assert.match(lines[1]!, /^a1\s+demo\s+4242\s+installed\s+configure running 40%$/);
  assert.match(lines[2]!, /^b2\s+other\s+4243\s+created\s+-$/);
});

/** A minimal terminal: \r, \n, ESC[nA (up), ESC[2K (clear line), ESC[J (clear below), cursor show/hide. */
function replay(s: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  let col = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\x1b") {
      const m = /^\x1b\[(\??\d*)([A-Za-z])/.exec(s.slice(i));
      if (!m) continue;
      const [all, n, op] = m;
      if (op === "A") row = Math.max(0, row - Number(n || 1));
      else if (op === "K") lines[row] = "";
      else if (op === "J") lines.length = row + 1, (lines[row] = lines[row]!.slice(0, col));
      i += all!.length - 1;
    } else if (c === "\r") col = 0;
    else if (c === "\n") {
      row++;
      col = 0;
      if (lines.length <= row) lines.push("");
    } else {
      const l = lines[row]!;
      lines[row] = l.slice(0, col) + c + l.slice(col + 1);
      col++;
    }
  }
  return lines.filter((l) => l !== "");
}
