// The JSON-RPC 2.0 transport: newline-delimited JSON on a Unix socket, a thin adapter over api/ (json-rpc-2.0).
// Who calls is read from the socket itself (auth/peercred: SO_PEERCRED, plus the process start time for
// polkit's unix-process subject). Method names mirror D-Bus ("Session.Mount"), params are named;
// job events go as notifications to the connections that subscribed (stage calls subscribe their caller).
import net from "node:net";
import { writeSync } from "node:fs";
import tty from "node:tty";
import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { JSONRPCErrorException, JSONRPCServer, type JSONRPCRequest } from "json-rpc-2.0";
import { asImgcreateError, ImgcreateError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { callerKey, getPeerCredentials, processStartTime, type Caller } from "../../auth/caller.js";
import type { Polkit } from "../../auth/polkit.js";
import type { ApiService, ShellResult } from "../../api/service.js";
import { METHODS } from "../../api/methods.js";
import { JSONRPC_CODES, dbusErrorName, jobNumberOfPath, jobPath } from "../../api/names.js";
import type { CompletedEvent, JsonRpcNotifications, LogMessageEvent, ProgressEvent } from "../../api/types.js";
import type { Job, JobResult } from "../../sessions/job.js";
import { resizeShell, type Shell } from "../../sessions/shell.js";

const MAX_LINE = 16 * 1024 * 1024;

class Connection {
  readonly jobs = new Set<number>();
  readonly shells = new Map<string, Shell>();
  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly caller: Caller,
  ) {}

  notify<K extends keyof JsonRpcNotifications>(method: K, params: JsonRpcNotifications[K]): void {
    if (!this.socket.destroyed) this.socket.write(JSON.stringify({ jsonrpc: "2.0", method, params }) + "\n");
  }
}

export class JsonRpcTransport {
  private readonly rpc = new JSONRPCServer<Connection>({ errorListener: () => undefined });
  private readonly conns = new Set<Connection>();
  private server?: net.Server;
  private nextConn = 1;

  constructor(
    private readonly api: ApiService,
    private readonly polkit: Polkit,
    private readonly log: Logger,
  ) {
    for (const m of METHODS) this.rpc.addMethod(`${m.iface}.${m.name}`, (params, conn) => this.dispatch(m.iface, m.name, params, conn));
    this.wireEvents();
  }

  /** Serves on path (mode 0666: everyone may connect, polkit decides). Refuses when a live daemon serves it. */
  async listen(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await this.removeStale(path);
    const server = net.createServer((s) => void this.accept(s));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    await chmod(path, 0o666);
    this.server = server;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async removeStale(path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (!st.isSocket()) throw new ImgcreateError("Failed", `${path} exists and is not a socket; remove it or choose another --socket`);
    const alive = await new Promise<boolean>((resolve) => {
      const s = net.connect(path, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (alive) throw new ImgcreateError("Busy", `another imgcreated already serves ${path}`);
    await unlink(path);
  }

  private async accept(socket: net.Socket): Promise<void> {
    let caller: Caller;
    const id = this.nextConn++;
    try {
      const cred = getPeerCredentials(socket);
      caller = { kind: "unix", pid: cred.pid, uid: cred.uid, gid: cred.gid, startTime: processStartTime(cred.pid), connection: id };
    } catch (err) {
      this.log.warning(`JSON-RPC connection refused: cannot identify the peer: ${(err as Error).message}`);
      socket.destroy();
      return;
    }
    const conn = new Connection(id, socket, caller);
    this.conns.add(conn);
    let buf = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== "") void this.onLine(conn, line);
      }
      if (buf.length > MAX_LINE) {
        this.send(conn, { jsonrpc: "2.0", id: null, error: { code: -32600, message: "request line too long" } });
        socket.destroy();
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => this.dropConnection(conn));
  }

  private async onLine(conn: Connection, line: string): Promise<void> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return this.send(conn, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error: each line must be one JSON-RPC request" } });
    }
    const resp = await this.rpc.receive(req as JSONRPCRequest, conn);
    if (resp) this.send(conn, resp);
  }

  private send(conn: Connection, msg: unknown): void {
    if (!conn.socket.destroyed) conn.socket.write(JSON.stringify(msg) + "\n");
  }

  private async dispatch(iface: "Manager" | "Session" | "Job", method: string, params: unknown, conn: Connection): Promise<unknown> {
    try {
      if (params === undefined) params = {};
      if (typeof params !== "object" || params === null || Array.isArray(params)) {
        throw new ImgcreateError("InvalidArgs", "parameters must be given by name, as an object");
      }
      const result = await this.api.call({ caller: conn.caller, iface, method, params: params as Record<string, unknown>, transport: "jsonrpc" });
      return this.after(iface, method, params as Record<string, unknown>, result, conn);
    } catch (err) {
      const e = asImgcreateError(err);
      if (!(err instanceof ImgcreateError)) this.log.error(`unexpected error in ${iface}.${method}: ${(err as Error)?.stack ?? String(err)}`);
      throw new JSONRPCErrorException(e.message, JSONRPC_CODES[e.code], { name: dbusErrorName(e.code), code: e.code, detail: e.detail });
    }
  }

  /** What only this transport does after the API said yes: subscriptions and shell streams. */
  private after(iface: string, method: string, params: Record<string, unknown>, result: unknown, conn: Connection): unknown {
    if (typeof result === "string" && iface === "Session" && jobNumberOfPath(result) !== undefined) conn.jobs.add(jobNumberOfPath(result)!);
    if (iface === "Job" && method === "Subscribe") conn.jobs.add(this.api.findJob(params.job).n);
    if (iface === "Session" && method === "OpenShell") return this.streamShell(conn, (result as ShellResult).shell);
    if (iface === "Session" && method === "ShellInput") {
      const sh = conn.shells.get(String(params.shell));
      if (!sh) throw new ImgcreateError("InvalidArgs", `no shell ${String(params.shell)} on this connection`);
      writeSync(sh.master, Buffer.from(String(params.data), "base64"));
    }
    if (iface === "Session" && method === "ShellResize") {
      const sh = conn.shells.get(String(params.shell));
      if (!sh) throw new ImgcreateError("InvalidArgs", `no shell ${String(params.shell)} on this connection`);
      resizeShell(sh, Number(params.rows), Number(params.cols));
    }
    return result;
  }

  /** The pty master stays here: its output goes out as Shell.Output, ShellInput writes to it. */
  private streamShell(conn: Connection, shell: Shell): string {
    conn.shells.set(shell.id, shell);
    // A tty stream, not fs: the master is non-blocking (node-pty opened it so) and EIO means the other side closed.
    const out = new tty.ReadStream(shell.master);
    const closed = new Promise<void>((r) => {
      out.once("close", () => r());
      out.once("error", () => r());
      out.once("end", () => r());
    });
    out.on("data", (d: Buffer) => conn.notify("Shell.Output", { shell: shell.id, data: d.toString("base64") }));
    void shell.exited.then(async (status) => {
      // Let what the shell wrote last drain before saying it ended.
      await Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
      out.destroy(); // closes the master
      conn.shells.delete(shell.id);
      conn.notify("Shell.Exited", { shell: shell.id, status });
    });
    return shell.id;
  }

  private dropConnection(conn: Connection): void {
    this.conns.delete(conn);
    this.polkit.forget(callerKey(conn.caller));
    // A client that goes away does not stop its session, but a shell it held gets hung up.
    for (const sh of conn.shells.values()) sh.child.kill("SIGHUP");
  }

  private forJob(j: Job, f: (c: Connection) => void): void {
    for (const c of this.conns) if (c.jobs.has(j.n)) f(c);
  }

  private wireEvents(): void {
    this.api.registry.on("job-added", (j: Job) => {
      const job = jobPath(j.n);
      j.on("changed", () => {
        const p: ProgressEvent = { job, progress: j.progress, progressValid: j.progressValid, bytes: j.bytes, status: j.status, message: j.message };
        this.forJob(j, (c) => c.notify("Job.Progress", p));
      });
      j.on("log", (l: { priority: number; line: string }) => {
        const e: LogMessageEvent = { job, priority: l.priority, line: l.line };
        this.forJob(j, (c) => c.notify("Job.LogMessage", e));
      });
      j.on("completed", (r: JobResult) => {
        const e: CompletedEvent = { job, success: r.success, errorName: r.code ? dbusErrorName(r.code) : "", message: r.message };
        this.forJob(j, (c) => {
          c.notify("Job.Completed", e);
          c.jobs.delete(j.n);
        });
      });
    });
  }
}
