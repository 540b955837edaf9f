// Runs session stages one job at a time and feeds their events to a renderer. Ctrl-C cancels the job
// that is running (the daemon releases what the stage took) and the caller decides what comes next.
import { ImgcreateError } from "../../daemon/errors.js";
import type { Connection, JobHandle, Stage } from "../connection/types.js";
import type { Renderer } from "../progress/renderers.js";

/** Ctrl-C while a job runs: ask the daemon to cancel it, once; a second Ctrl-C only says we are waiting. */
export class Interrupt {
  private job: JobHandle | undefined;
  private hits = 0;
  readonly controller = new AbortController();
  private readonly handler = () => this.onSignal();

  constructor(private readonly say: (msg: string) => void) {
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
  }

  get interrupted(): boolean {
    return this.hits > 0;
  }

  watch(job: JobHandle | undefined): void {
    this.job = job;
    if (job && this.hits > 0) void job.cancel().catch(() => undefined);
  }

  private onSignal(): void {
    this.hits++;
    this.controller.abort();
    if (this.hits === 1) {
      this.say("cancelling: stopping the running stage and releasing what it holds...");
      void this.job?.cancel().catch(() => undefined);
    } else {
      this.say("still cancelling; the daemon is releasing the session's resources");
    }
  }

  dispose(): void {
    process.off("SIGINT", this.handler);
    process.off("SIGTERM", this.handler);
  }
}

export async function runStage(conn: Connection, id: string, stage: Stage, render: Renderer, interrupt: Interrupt | undefined, destdir?: string): Promise<void> {
  if (interrupt?.interrupted) throw new ImgcreateError("Cancelled", "cancelled");
  render.stageStart(stage);
  let job: JobHandle;
  try {
    job = await conn.runStage(id, stage, destdir);
  } catch (err) {
    render.stageEnd(stage, false, err instanceof Error ? err.message : String(err));
    throw err;
  }
  interrupt?.watch(job);
  job.on("progress", (p) => render.progress(stage, p));
  job.on("log", (prio: number, line: string) => render.log(stage, prio, line));
  const r = await job.done;
  interrupt?.watch(undefined);
  render.stageEnd(stage, r.success, r.success ? "" : r.message);
  if (!r.success) {
    const code = r.error === "Cancelled" || interrupt?.interrupted ? "Cancelled" : "Failed";
    throw new ImgcreateError(code, code === "Cancelled" ? `${stage} cancelled` : `${stage} failed: ${r.message}`);
  }
}
