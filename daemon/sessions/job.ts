// One stage call of a session, as an object clients can watch and cancel. Progress is coalesced here to
// at most 10 "changed" events a second, so a chatty stage cannot flood the bus.
import { EventEmitter } from "node:events";
import { asImgcreateError, type ErrorCode } from "../errors.js";

export type JobStatus = "queued" | "running" | "completed" | "failed" | "cancelled";
export type Operation = "mount" | "install" | "configure" | "unmount" | "package" | "create";

export interface JobSnapshot {
  n: number;
  sessionId: string;
  operation: Operation;
  status: JobStatus;
  progress: number;
  progressValid: boolean;
  bytes: number;
  startTime: number; // µs since the epoch, 0 while queued
  message: string;
}

export interface JobResult {
  success: boolean;
  code?: ErrorCode;
  message: string;
}

const MIN_INTERVAL_MS = 100;

/**
 * Events: "changed" (JobSnapshot, ≤ 10/s), "log" ({priority, line}), "completed" (JobResult).
 */
export class Job extends EventEmitter {
  status: JobStatus = "queued";
  progress = 0;
  progressValid = false;
  bytes = 0;
  startTime = 0;
  message = "";
  result?: JobResult;
  readonly abort = new AbortController();
  private lastEmit = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly done: Promise<JobResult>;
  private resolveDone!: (r: JobResult) => void;

  constructor(
    readonly n: number,
    readonly sessionId: string,
    readonly operation: Operation,
  ) {
    super();
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  snapshot(): JobSnapshot {
    const { n, sessionId, operation, status, progress, progressValid, bytes, startTime, message } = this;
    return { n, sessionId, operation, status, progress, progressValid, bytes, startTime, message };
  }

  get finished(): boolean {
    return this.result !== undefined;
  }

  /** Resolves when the job has ended, however it ended. */
  wait(): Promise<JobResult> {
    return this.done;
  }

  started(): void {
    this.status = "running";
    this.startTime = Date.now() * 1000;
    this.flush();
  }

  update(u: { fraction?: number; bytes?: number; message?: string }): void {
    if (u.fraction !== undefined && Number.isFinite(u.fraction)) {
      this.progress = Math.min(1, Math.max(0, u.fraction));
      this.progressValid = true;
    }
    if (u.bytes !== undefined && Number.isFinite(u.bytes)) this.bytes = Math.max(0, Math.floor(u.bytes));
    if (u.message !== undefined) this.message = u.message;
    this.schedule();
  }

  log(priority: number, line: string): void {
    this.emit("log", { priority, line });
  }

  finish(err?: unknown): void {
    if (this.result) return;
    if (err === undefined) {
      this.status = "completed";
      this.progress = 1;
      this.progressValid = true;
      this.result = { success: true, message: "" };
    } else {
      const e = asImgcreateError(err);
      const cancelled = e.code === "Cancelled" || this.abort.signal.aborted;
      this.status = cancelled ? "cancelled" : "failed";
      this.result = { success: false, code: cancelled ? "Cancelled" : e.code, message: cancelled ? "the job was cancelled" : e.message };
    }
    this.flush();
    this.emit("completed", this.result);
    this.resolveDone(this.result);
  }

  /** Leading edge at once, then at most one trailing update per interval. */
  private schedule(): void {
    const wait = this.lastEmit + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0 && !this.timer) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, wait));
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastEmit = Date.now();
    this.emit("changed", this.snapshot());
  }
}
