// Three ways to show a build: a live display on a terminal (one bar per stage with percent, bytes, ETA,
// and the current log line, redrawn in place), timestamped plain lines for logs and pipes, and JSON
// lines for programs. Renderers only render: they never talk to the daemon.
import type { ProgressUpdate } from "../connection/types.js";
import { bar, eta, fit, formatBytes, formatDuration, timestamp } from "./format.js";

export interface Renderer {
  stageStart(stage: string): void;
  progress(stage: string, p: ProgressUpdate): void;
  log(stage: string, priority: number, line: string): void;
  stageEnd(stage: string, ok: boolean, message: string): void;
  /** A sentence for the user (session created, artifact written, ...). */
  note(message: string, data?: Record<string, unknown>): void;
  /** Leaves the output clean: cursor visible, nothing half drawn. */
  finish(): void;
}

export interface Out {
  write(s: string): unknown;
  columns?: number;
}

interface StageRow {
  name: string;
  started: number;
  fraction?: number;
  bytes?: number;
  message: string;
  ended?: { ok: boolean; seconds: number; message: string };
}

/** Terminal display: a block of lines at the bottom that is redrawn in place, at most 10 times a second. */
export class TtyRenderer implements Renderer {
  private rows: StageRow[] = [];
  private logLine = "";
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private finished = false;

  constructor(private readonly out: Out, private readonly now = () => Date.now()) {
    out.write("\x1b[?25l"); // hide the cursor while redrawing
  }

  private get width(): number {
    return Math.max(40, (this.out.columns ?? 80) - 1);
  }

  stageStart(stage: string): void {
    this.resume();
    this.rows.push({ name: stage, started: this.now(), message: "" });
    this.redraw(true);
  }

  progress(stage: string, p: ProgressUpdate): void {
    const row = this.row(stage);
    if (!row) return;
    if (p.fraction !== undefined) row.fraction = p.fraction;
    if (p.bytes !== undefined && p.bytes > 0) row.bytes = p.bytes;
    if (p.status) row.message = p.status;
    this.redraw(false);
  }

  log(_stage: string, _priority: number, line: string): void {
    this.logLine = line;
    this.redraw(false);
  }

  stageEnd(stage: string, ok: boolean, message: string): void {
    const row = this.row(stage);
    if (row) row.ended = { ok, seconds: (this.now() - row.started) / 1000, message };
    this.redraw(true);
  }

  note(message: string): void {
    // A note goes above the live block: clear the block, print, draw it again below.
    this.clear();
    this.out.write(message + "\n");
    if (!this.finished) this.redraw(true);
  }

  finish(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.finished) return;
    this.logLine = "";
    this.redraw(true);
    this.out.write("\x1b[?25h");
    // What is on the screen now stays there (a shell may print below it): later stages start a new block.
    this.finished = true;
    this.rows = this.rows.filter((r) => !r.ended);
    this.drawn = 0;
  }

  private resume(): void {
    if (!this.finished) return;
    this.finished = false;
    this.out.write("\x1b[?25l");
  }

  private row(stage: string): StageRow | undefined {
    for (let i = this.rows.length - 1; i >= 0; i--) if (this.rows[i]!.name === stage) return this.rows[i];
    return undefined;
  }

  private lines(): string[] {
    const w = this.width;
    const out = this.rows.map((r) => fit(this.rowText(r), w));
    const running = this.rows.some((r) => !r.ended);
    if (running) out.push(fit(this.logLine ? `  ${this.logLine}` : "", w));
    return out;
  }

  private rowText(r: StageRow): string {
    const name = r.name.padEnd(10);
    if (r.ended) {
      const mark = r.ended.ok ? "done" : "FAILED";
      return `${name} ${bar(r.ended.ok ? 1 : r.fraction, 20)} ${mark} in ${formatDuration(r.ended.seconds)}${r.ended.ok ? "" : ": " + r.ended.message}`;
    }
    const elapsed = (this.now() - r.started) / 1000;
    const pct = r.fraction === undefined ? "  ? " : `${String(Math.floor(r.fraction * 100)).padStart(3)}%`;
    const left = eta(r.fraction, elapsed);
    const parts = [`${name} ${bar(r.fraction, 20)} ${pct}`, formatBytes(r.bytes), left === undefined ? formatDuration(elapsed) : `ETA ${formatDuration(left)}`, r.message];
    return parts.filter(Boolean).join("  ");
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\r\x1b[J`);
    this.drawn = 0;
  }

  private redraw(force: boolean): void {
    if (this.finished) return;
    const since = this.now() - this.lastDraw;
    if (!force && since < 100) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.redraw(true);
      }, 100 - since);
      return;
    }
    const lines = this.lines();
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const l of lines) s += `\r\x1b[2K${l}\n`;
    // Lines that are no longer needed (the log line after the last stage) are wiped.
    if (lines.length < this.drawn) s += "\x1b[J";
    this.out.write(s);
    this.drawn = lines.length;
    this.lastDraw = this.now();
  }
}

/** One timestamped line per event; progress only when it moves by 10% or its message changes. */
export class PlainRenderer implements Renderer {
  private last = new Map<string, { pct: number; message: string }>();
  private started = new Map<string, number>();

  constructor(private readonly out: Out, private readonly now = () => new Date()) {}

  private line(s: string): void {
    this.out.write(`${timestamp(this.now())} ${s}\n`);
  }

  stageStart(stage: string): void {
    this.started.set(stage, this.now().getTime());
    this.line(`${stage}: started`);
  }

  progress(stage: string, p: ProgressUpdate): void {
    const pct = p.fraction === undefined ? -1 : Math.floor(p.fraction * 10) * 10;
    const prev = this.last.get(stage);
    if (prev && prev.pct === pct && prev.message === p.status) return;
    this.last.set(stage, { pct, message: p.status });
    const parts = [pct >= 0 ? `${Math.floor((p.fraction ?? 0) * 100)}%` : "", formatBytes(p.bytes), p.status].filter(Boolean);
    if (parts.length) this.line(`${stage}: ${parts.join(" ")}`);
  }

  log(stage: string, _priority: number, line: string): void {
    this.line(`${stage}| ${line}`);
  }

  stageEnd(stage: string, ok: boolean, message: string): void {
    const secs = (this.now().getTime() - (this.started.get(stage) ?? this.now().getTime())) / 1000;
    this.line(`${stage}: ${ok ? "done" : "FAILED"} in ${formatDuration(secs)}${message && !ok ? ": " + message : ""}`);
  }

  note(message: string): void {
    this.line(message);
  }

  finish(): void {}
}

/** JSON lines: {"time","event","stage",...}; the last line of a build is {"event":"result",...}. */
export class JsonRenderer implements Renderer {
  constructor(private readonly out: Out, private readonly now = () => new Date()) {}

  emit(event: string, data: Record<string, unknown>): void {
    this.out.write(JSON.stringify({ time: this.now().toISOString(), event, ...data }) + "\n");
  }

  stageStart(stage: string): void {
    this.emit("stage-start", { stage });
  }
  progress(stage: string, p: ProgressUpdate): void {
    this.emit("progress", { stage, fraction: p.fraction ?? null, bytes: p.bytes ?? null, message: p.status });
  }
  log(stage: string, priority: number, line: string): void {
    this.emit("log", { stage, priority, line });
  }
  stageEnd(stage: string, ok: boolean, message: string): void {
    this.emit("stage-end", { stage, success: ok, message });
  }
  note(message: string, data: Record<string, unknown> = {}): void {
    this.emit("note", { message, ...data });
  }
  finish(): void {}
}

export function pickRenderer(json: boolean, out: NodeJS.WriteStream): Renderer {
  if (json) return new JsonRenderer(out);
  if (out.isTTY && process.env["TERM"] !== "dumb") return new TtyRenderer(out);
  return new PlainRenderer(out);
}
