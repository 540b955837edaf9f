// A job as the client sees it, whichever transport feeds it: events in, one `done` result out.
import { EventEmitter } from "node:events";
import type { JobHandle, JobResult, ProgressUpdate } from "./types.js";

export class ClientJob extends EventEmitter implements JobHandle {
  readonly done: Promise<JobResult>;
  private settle!: (r: JobResult) => void;
  private finished = false;

  constructor(
    readonly id: string,
    readonly operation: string,
    private readonly cancelFn: () => Promise<void>,
  ) {
    super();
    this.done = new Promise((resolve) => (this.settle = resolve));
  }

  progress(p: ProgressUpdate): void {
    if (!this.finished) this.emit("progress", p);
  }

  log(priority: number, line: string): void {
    if (!this.finished) this.emit("log", priority, line);
  }

  complete(r: JobResult): void {
    if (this.finished) return;
    this.finished = true;
    this.settle(r);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  cancel(): Promise<void> {
    return this.cancelFn();
  }
}

/** Our error code from a D-Bus error name such as org.imgcreate.ImageCreator1.Error.Cancelled. */
export function codeOfErrorName(name: string): string | undefined {
  if (!name) return undefined;
  const dot = name.lastIndexOf(".");
  return dot < 0 ? name : name.slice(dot + 1);
}

/** Job status strings that mean the job has ended. */
export function isEndStatus(status: string): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
