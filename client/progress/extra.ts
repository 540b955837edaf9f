// Renderers for the compat front ends' -q and --logfile: one that shows nothing but notes, and one that
// copies every log line to a file the user named (written by the client, so with the user's rights).
import { appendFileSync } from "node:fs";
import type { ProgressUpdate } from "../connection/types.js";
import type { Out, Renderer } from "./renderers.js";
import { timestamp } from "./format.js";

export class QuietRenderer implements Renderer {
  stageStart(): void {}
  progress(): void {}
  log(): void {}
  stageEnd(): void {}
  note(): void {}
  finish(): void {}
}

/** Sends everything to `inner` and appends stage and log lines to `file`. */
export class TeeToFile implements Renderer {
  constructor(private readonly inner: Renderer, private readonly file: string) {}
  private write(s: string): void {
    appendFileSync(this.file, `${timestamp()} ${s}\n`);
  }
  stageStart(stage: string): void {
    this.write(`${stage}: started`);
    this.inner.stageStart(stage);
  }
  progress(stage: string, p: ProgressUpdate): void {
    this.inner.progress(stage, p);
  }
  log(stage: string, priority: number, line: string): void {
    this.write(`${stage}| ${line}`);
    this.inner.log(stage, priority, line);
  }
  stageEnd(stage: string, ok: boolean, message: string): void {
    this.write(`${stage}: ${ok ? "done" : "FAILED: " + message}`);
    this.inner.stageEnd(stage, ok, message);
  }
  note(message: string, data?: Record<string, unknown>): void {
    this.write(message);
    this.inner.note(message, data);
  }
  finish(): void {
    this.inner.finish();
  }
}

/** Writes to an Out as-is (for the verbose plain display on any stream). */
export type { Out };
