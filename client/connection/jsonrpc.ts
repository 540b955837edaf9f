// The socket side of the connection: JSON-RPC 2.0, one JSON text per line, on imgcreated's Unix socket.
// The daemon sends Job.* and Shell.* notifications on the same connection; stage calls subscribe us.
import net from "node:net";
import { createInterface } from "node:readline";
import { JSONRPCClient, JSONRPCServer, JSONRPCServerAndClient, JSONRPCErrorException } from "json-rpc-2.0";
import { ImgcreateError } from "../../daemon/errors.js";
import { ERROR_CODES, JSONRPC_CODES } from "../../daemon/api/names.js";
import type { CompletedEvent, JobProperties, LogMessageEvent, ProgressEvent, SessionProperties } from "../../daemon/api/types.js";
import type { ErrorCode } from "../../daemon/errors.js";
import { unreachableError } from "../errors.js";
import { ClientJob, codeOfErrorName, isEndStatus } from "./job.js";
import { cachedRoots, numbers, type CachedRoot, type Connection, type JobHandle, type SessionInfo, type SessionOptions, type ShellChannel, type Stage } from "./types.js";
import { PassThrough, Writable } from "node:stream";

const STAGE_METHOD: Record<Stage, string> = { mount: "Session.Mount", install: "Session.Install", configure: "Session.Configure", unmount: "Session.Unmount", package: "Session.Package" };
type Note = { method: string; params: Record<string, unknown> };

export class JsonRpcConnection implements Connection {
  readonly transport = "socket" as const;
  private readonly rpc: JSONRPCServerAndClient<void, void>;
  private readonly jobs = new Map<string, ClientJob>();
  private readonly pending = new Map<string, Note[]>();
  private readonly shells = new Map<string, { output: PassThrough; exited: (status: number) => void }>();

  private constructor(private readonly sock: net.Socket) {
    this.rpc = new JSONRPCServerAndClient(
      new JSONRPCServer(),
      new JSONRPCClient((req) => {
        sock.write(JSON.stringify(req) + "\n");
      }),
    );
    for (const method of ["Job.Progress", "Job.LogMessage", "Job.Completed"]) {
      this.rpc.addMethod(method, (params: Record<string, unknown>) => this.onJobNote({ method, params }));
    }
    this.rpc.addMethod("Shell.Output", (p: { shell: string; data: string }) => this.shells.get(p.shell)?.output.write(Buffer.from(p.data, "base64")));
    this.rpc.addMethod("Shell.Exited", (p: { shell: string; status: number }) => this.shells.get(p.shell)?.exited(p.status));
    createInterface({ input: sock, crlfDelay: Infinity }).on("line", (line) => {
      if (!line.trim()) return;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return; // not ours to answer: the daemon only sends JSON
      }
      void this.rpc.receiveAndSend(msg, undefined, undefined);
    });
    sock.on("close", () => {
      this.rpc.rejectAllPendingRequests("the daemon closed the connection");
      for (const s of this.shells.values()) s.exited(255);
      for (const j of this.jobs.values()) j.complete({ success: false, error: "Failed", message: "the daemon closed the connection" });
    });
  }

  static async open(path: string): Promise<JsonRpcConnection> {
    const sock = net.createConnection(path);
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", (err: NodeJS.ErrnoException) => {
        const why = err.code === "ENOENT" ? `no socket at ${path}` : err.code === "ECONNREFUSED" ? `nothing listens on ${path}` : err.code === "EACCES" ? `permission denied on ${path}` : `${path}: ${err.message}`;
        reject(unreachableError(why));
      });
    });
    sock.on("error", () => undefined); // shows up as "close" and failing calls
    return new JsonRpcConnection(sock);
  }

  private async call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    try {
      return (await this.rpc.request(method, params, undefined)) as T;
    } catch (err) {
      throw fromJsonRpcError(err);
    }
  }

  private onJobNote(n: Note): void {
    const path = String(n.params["job"]);
    const job = this.jobs.get(path);
    if (job) return this.deliver(job, n);
    const buf = this.pending.get(path) ?? [];
    buf.push(n);
    this.pending.set(path, buf);
  }

  private deliver(job: ClientJob, n: Note): void {
    if (n.method === "Job.LogMessage") {
      const p = n.params as unknown as LogMessageEvent;
      job.log(p.priority, p.line);
    } else if (n.method === "Job.Progress") {
      const p = n.params as unknown as ProgressEvent;
      job.progress({ fraction: p.progressValid ? p.progress : undefined, bytes: p.bytes, status: p.message });
    } else if (n.method === "Job.Completed") {
      const p = n.params as unknown as CompletedEvent;
      job.complete({ success: p.success, error: p.success ? undefined : codeOfErrorName(p.errorName), message: p.message });
      this.jobs.delete(job.id);
    }
  }

  async createSession(kickstart: string, includes: Record<string, string>, options: SessionOptions): Promise<string> {
    const path = await this.call<string>("Manager.CreateSession", { kickstart, includes, options: clean(options) });
    return idOf(path);
  }

  async listCachedRoots(): Promise<CachedRoot[]> {
    return cachedRoots(await this.call<unknown[][]>("Manager.ListCachedRoots", {}));
  }

  async pruneCachedRoots(maxMiB: number): Promise<number> {
    return Number(await this.call<number>("Manager.PruneCachedRoots", { options: { "max-size": maxMiB } }));
  }

  async listSessions(): Promise<SessionInfo[]> {
    const paths = await this.call<string[]>("Manager.ListSessions", {});
    const out: SessionInfo[] = [];
    for (const p of paths) {
      try {
        out.push(await this.getSession(idOf(p)));
      } catch {
        // closed meanwhile
      }
    }
    return out;
  }

  async getSession(id: string): Promise<SessionInfo> {
    const props = await this.call<SessionProperties>("Session.GetProperties", { session: id });
    const info: SessionInfo = { id: props.Id, name: props.Name, type: props.Type, owner: props.Owner, state: props.State, artifacts: props.Artifacts ?? [], checkpointUsage: numbers(props.CheckpointUsage) };
    if (props.CurrentJob && props.CurrentJob !== "/") {
      try {
        const j = await this.call<JobProperties>("Job.GetProperties", { job: props.CurrentJob });
        info.job = { id: props.CurrentJob, operation: j.Operation, status: j.Status, progress: j.ProgressValid ? j.Progress : undefined, bytes: j.Bytes };
      } catch {
        // ended meanwhile
      }
    }
    return info;
  }

  async runStage(id: string, stage: Stage, destdir?: string): Promise<JobHandle> {
    const params: Record<string, unknown> = { session: id, options: {} };
    if (stage === "package") params["destdir"] = destdir;
    const path = await this.call<string>(STAGE_METHOD[stage], params);
    return this.track(path, stage, false);
  }

  /** Listens to a job: notifications that came before the call returned are replayed; an ended job completes at once. */
  private async track(path: string, operation: string, subscribe: boolean): Promise<ClientJob> {
    const job = new ClientJob(path, operation, async () => void (await this.call("Job.Cancel", { job: path })));
    this.jobs.set(path, job);
    for (const n of this.pending.get(path) ?? []) this.deliver(job, n);
    this.pending.delete(path);
    if (!job.isFinished) {
      try {
        const props = await this.call<JobProperties>(subscribe ? "Job.Subscribe" : "Job.GetProperties", { job: path });
        if (isEndStatus(props.Status) && !job.isFinished) {
          const ok = props.Status === "completed";
          job.complete({ success: ok, error: ok ? undefined : props.Status === "cancelled" ? "Cancelled" : "Failed", message: props.Message });
        }
      } catch {
        // gone: its Completed was delivered
      }
    }
    return job;
  }

  async cancel(id: string): Promise<void> {
    const info = await this.getSession(id);
    if (info.job) await this.call("Job.Cancel", { job: info.job.id });
  }

  async setKickstart(id: string, kickstart: string, includes: Record<string, string>, where: Record<string, string>): Promise<void> {
    await this.call("Session.SetKickstart", { session: id, kickstart, includes, options: where });
  }

  async cloneSession(id: string, name?: string): Promise<string> {
    return idOf(await this.call<string>("Session.Clone", { session: id, options: clean({ name }) }));
  }

  async checkpoint(id: string, name: string): Promise<void> {
    await this.call("Session.Checkpoint", { session: id, name });
  }

  async rollback(id: string, name: string): Promise<void> {
    await this.call("Session.Rollback", { session: id, name });
  }

  async listCheckpoints(id: string): Promise<string[]> {
    return this.call<string[]>("Session.ListCheckpoints", { session: id });
  }

  async dropCheckpoint(id: string, name: string): Promise<void> {
    await this.call("Session.DropCheckpoint", { session: id, name });
  }

  async closeSession(id: string): Promise<void> {
    await this.call("Session.Close", { session: id });
  }

  async openShell(id: string, argv: string[], size: { rows: number; cols: number }): Promise<ShellChannel> {
    const term = process.env["TERM"] && /^[A-Za-z0-9._+-]+$/.test(process.env["TERM"]) ? process.env["TERM"] : "xterm-256color";
    const shell = await this.call<string>("Session.OpenShell", { session: id, argv, options: { term, rows: size.rows, cols: size.cols } });
    const output = new PassThrough();
    let exited!: (s: number) => void;
    const exit = new Promise<number>((resolve) => (exited = resolve)).then((s) => {
      this.shells.delete(shell);
      output.end();
      return s;
    });
    this.shells.set(shell, { output, exited: (s) => exited(s) });
    const input = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        this.call("Session.ShellInput", { session: id, shell, data: chunk.toString("base64") }).then(() => done(), () => done());
      },
    });
    return {
      input,
      output,
      exit,
      // The daemon holds the pty master on this transport, so it sets the window size.
      resize: (rows, cols) => void this.call("Session.ShellResize", { session: id, shell, rows, cols }).catch(() => undefined),
      close: () => this.shells.delete(shell),
    };
  }

  async logs(id: string, onLine: (line: string) => void, follow: boolean, signal?: AbortSignal): Promise<void> {
    for (const line of await this.call<string[]>("Session.GetLog", { session: id })) onLine(line);
    const info = await this.getSession(id);
    if (!info.job || !follow) return;
    const job = await this.track(info.job.id, info.job.operation, true);
    job.on("log", (_p: number, line: string) => onLine(line));
    await new Promise<void>((resolve) => {
      void job.done.then(() => resolve());
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async version(): Promise<string> {
    const p = await this.call<{ Version: string }>("Manager.GetProperties", {});
    return p.Version;
  }

  disconnect(): void {
    this.sock.end();
    this.sock.destroy();
  }
}

function idOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** A JSON-RPC error as our error: data.code when the daemon gives it, else the numeric code. */
export function fromJsonRpcError(err: unknown): ImgcreateError {
  if (err instanceof ImgcreateError) return err;
  if (err instanceof JSONRPCErrorException) {
    const dataCode = (err.data as { code?: unknown } | undefined)?.code;
    const code =
      (ERROR_CODES as readonly string[]).includes(String(dataCode))
        ? (dataCode as ErrorCode)
        : (Object.entries(JSONRPC_CODES).find(([, n]) => n === err.code)?.[0] as ErrorCode | undefined);
    return new ImgcreateError(code ?? "Failed", err.message);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return /closed the connection/.test(msg) ? unreachableError("the daemon closed the connection") : new ImgcreateError("Failed", msg);
}
