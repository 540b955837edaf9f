// The D-Bus side of the connection: dbus-next on the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured).
// dbus-next is unmaintained, so everything about it stays in this file: raw Message calls (no
// introspection round trips), and one raw signal listener so no signal between a call's reply and our
// subscription is lost.
import dbus from "dbus-next";
import { ImgcreateError } from "../../daemon/errors.js";
import { BUS_NAME, INTERFACES, ROOT_PATH, codeOfDbusErrorName, sessionPath } from "../../daemon/api/names.js";
import type { JobProperties, SessionProperties } from "../../daemon/api/types.js";
import { unreachableError } from "../errors.js";
import { ClientJob, codeOfErrorName, isEndStatus } from "./job.js";
import { openPtyChannel } from "./pty.js";
import { wrapWithExitMarker } from "./exit-marker.js";
import { cachedRoots, numbers, type CachedRoot, type Connection, type JobHandle, type SessionInfo, type SessionOptions, type ShellChannel, type Stage } from "./types.js";

const { Message, Variant } = dbus;
type Msg = InstanceType<typeof Message>;

const PROPS = "org.freedesktop.DBus.Properties";
const STAGE_METHOD: Record<Stage, string> = { mount: "Mount", install: "Install", configure: "Configure", unmount: "Unmount", package: "Package" };

/** Signals that arrived for an object nobody listens to yet; kept briefly for the job about to be registered. */
const BUFFER_LIMIT = 500;

export class DBusConnection implements Connection {
  readonly transport = "dbus" as const;
  private readonly jobs = new Map<string, ClientJob>();
  private readonly pending = new Map<string, Msg[]>();
  private readonly signalListeners = new Set<(m: Msg) => void>();

  private constructor(private readonly bus: dbus.MessageBus) {}

  /** Connects to the system bus; resolves only when the daemon's name is owned or activatable. */
  static async open(): Promise<DBusConnection> {
    const bus = dbus.systemBus({ negotiateUnixFd: true });
    await new Promise<void>((resolve, reject) => {
      bus.once("connect", () => resolve());
      // dbus-next's own message names a C++ source line; say which bus address failed instead.
      const address = process.env["DBUS_SYSTEM_BUS_ADDRESS"] ?? "unix:path=/var/run/dbus/system_bus_socket";
      bus.once("error", () => reject(unreachableError(`no system bus at ${address}`)));
    });
    const c = new DBusConnection(bus);
    // A dropped bus shows up as failing calls, with our message, and ends the jobs we wait for.
    bus.on("error", () => c.daemonGone());
    if (!(await c.nameAvailable())) {
      bus.disconnect();
      throw unreachableError(`the system bus has no ${BUS_NAME}`);
    }
    await c.subscribeSignals();
    return c;
  }

  private async nameAvailable(): Promise<boolean> {
    const has = await this.rawCall("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", [BUS_NAME], "org.freedesktop.DBus");
    if (has.body[0] === true) return true;
    const act = await this.rawCall("/org/freedesktop/DBus", "org.freedesktop.DBus", "ListActivatableNames", "", [], "org.freedesktop.DBus");
    return (act.body[0] as string[]).includes(BUS_NAME);
  }

  private async subscribeSignals(): Promise<void> {
    const rule = `type='signal',sender='${BUS_NAME}',path_namespace='${ROOT_PATH}'`;
    await this.rawCall("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [rule], "org.freedesktop.DBus");
    // dbus-next only routes signals to proxy objects; listen on the connection itself to see them all in order.
    const conn = (this.bus as unknown as { _connection: NodeJS.EventEmitter })._connection;
    conn.on("message", (m: Msg) => {
      if (m.type !== dbus.MessageType.SIGNAL) return;
      if (m.path?.startsWith(ROOT_PATH)) this.route(m);
      else if (m.member === "NameOwnerChanged" && m.body[0] === BUS_NAME && m.body[2] === "") this.daemonGone();
    });
    // If the daemon goes away mid-job, no Completed will ever come: the bus tells us instead.
    const gone = `type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`;
    await this.rawCall("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [gone], "org.freedesktop.DBus");
  }

  daemonGone(): void {
    for (const job of this.jobs.values()) job.complete({ success: false, error: "Failed", message: "imgcreated stopped while the job was running; its session is marked interrupted when it starts again" });
    this.jobs.clear();
  }

  private route(m: Msg): void {
    for (const l of this.signalListeners) l(m);
    const job = this.jobs.get(m.path);
    if (job) return this.deliver(job, m);
    const buf = this.pending.get(m.path) ?? [];
    if (buf.length < BUFFER_LIMIT) buf.push(m);
    this.pending.set(m.path, buf);
    // Forget buffers nobody claimed (signals of other clients' jobs).
    if (this.pending.size > 50) this.pending.delete(this.pending.keys().next().value as string);
  }

  private deliver(job: ClientJob, m: Msg): void {
    if (m.interface === INTERFACES.Job && m.member === "LogMessage") job.log(Number(m.body[0]), String(m.body[1]));
    else if (m.interface === INTERFACES.Job && m.member === "Completed") {
      const [success, errorName, message] = m.body as [boolean, string, string];
      job.complete({ success, error: success ? undefined : codeOfErrorName(errorName), message });
      this.jobs.delete(job.id);
    } else if (m.interface === PROPS && m.member === "PropertiesChanged" && m.body[0] === INTERFACES.Job) {
      const changed = unwrap(m.body[1] as Record<string, unknown>) as Partial<JobProperties>;
      job.progress({
        fraction: changed.ProgressValid === false ? undefined : changed.Progress,
        bytes: changed.Bytes === undefined ? undefined : Number(changed.Bytes),
        status: changed.Message ?? "",
      });
    }
  }

  private async rawCall(path: string, iface: string, member: string, signature: string, body: unknown[], destination = BUS_NAME): Promise<Msg> {
    try {
      const reply = await this.bus.call(new Message({ destination, path, interface: iface, member, signature, body }));
      return reply as Msg;
    } catch (err) {
      throw fromDBusError(err);
    }
  }

  private async getAll<T>(path: string, iface: string): Promise<T> {
    const r = await this.rawCall(path, PROPS, "GetAll", "s", [iface]);
    return unwrap(r.body[0] as Record<string, unknown>) as T;
  }

  async createSession(kickstart: string, includes: Record<string, string>, options: SessionOptions): Promise<string> {
    const opts = toVariants(options);
    const r = await this.rawCall(ROOT_PATH, INTERFACES.Manager, "CreateSession", "sa{ss}a{sv}", [kickstart, includes, opts]);
    return idOfPath(String(r.body[0]));
  }

  async listSessions(): Promise<SessionInfo[]> {
    const r = await this.rawCall(ROOT_PATH, INTERFACES.Manager, "ListSessions", "", []);
    const paths = r.body[0] as string[];
    const out: SessionInfo[] = [];
    for (const p of paths) {
      try {
        out.push(await this.getSession(idOfPath(p)));
      } catch {
        // closed between the list and the read: not there any more
      }
    }
    return out;
  }

  async getSession(id: string): Promise<SessionInfo> {
    const props = await this.getAll<SessionProperties>(sessionPath(id), INTERFACES.Session);
    const info: SessionInfo = { id: props.Id, name: props.Name, type: props.Type, owner: Number(props.Owner), state: props.State, artifacts: props.Artifacts ?? [], checkpointUsage: numbers(props.CheckpointUsage) };
    if (props.CurrentJob && props.CurrentJob !== "/") {
      try {
        const j = await this.getAll<JobProperties>(props.CurrentJob, INTERFACES.Job);
        info.job = { id: props.CurrentJob, operation: j.Operation, status: j.Status, progress: j.ProgressValid ? j.Progress : undefined, bytes: Number(j.Bytes) };
      } catch {
        // the job ended meanwhile
      }
    }
    return info;
  }

  async runStage(id: string, stage: Stage, destdir?: string): Promise<JobHandle> {
    const method = STAGE_METHOD[stage];
    const [sig, body]: [string, unknown[]] = stage === "package" ? ["sa{sv}", [destdir ?? "", {}]] : ["a{sv}", [{}]];
    const r = await this.rawCall(sessionPath(id), INTERFACES.Session, method, sig, body);
    return this.track(String(r.body[0]), stage);
  }

  /** Starts listening to a job: replays signals buffered since the call returned, then checks it has not already ended. */
  private async track(path: string, operation: string): Promise<ClientJob> {
    const job = new ClientJob(path, operation, () => this.cancelJob(path));
    this.jobs.set(path, job);
    for (const m of this.pending.get(path) ?? []) this.deliver(job, m);
    this.pending.delete(path);
    if (!job.isFinished) {
      try {
        const props = await this.getAll<JobProperties>(path, INTERFACES.Job);
        if (isEndStatus(props.Status) && !job.isFinished) {
          // Ended before we listened and the object is still there: its Completed went to nobody we know.
          const ok = props.Status === "completed";
          job.complete({ success: ok, error: ok ? undefined : props.Status === "cancelled" ? "Cancelled" : "Failed", message: props.Message });
        }
      } catch {
        // the job object is gone; Completed was delivered above, or will be
      }
    }
    return job;
  }

  private async cancelJob(path: string): Promise<void> {
    await this.rawCall(path, INTERFACES.Job, "Cancel", "", []);
  }

  async cancel(id: string): Promise<void> {
    const info = await this.getSession(id);
    if (info.job) await this.cancelJob(info.job.id);
  }

  async setKickstart(id: string, kickstart: string, includes: Record<string, string>, where: Record<string, string>): Promise<void> {
    await this.rawCall(sessionPath(id), INTERFACES.Session, "SetKickstart", "sa{ss}a{sv}", [kickstart, includes, toVariants(where)]);
  }

  async cloneSession(id: string, name?: string): Promise<string> {
    const r = await this.rawCall(sessionPath(id), INTERFACES.Session, "Clone", "a{sv}", [toVariants({ name })]);
    return idOfPath(String(r.body[0]));
  }

  async checkpoint(id: string, name: string): Promise<void> {
    await this.rawCall(sessionPath(id), INTERFACES.Session, "Checkpoint", "sa{sv}", [name, {}]);
  }

  async rollback(id: string, name: string): Promise<void> {
    await this.rawCall(sessionPath(id), INTERFACES.Session, "Rollback", "sa{sv}", [name, {}]);
  }

  async listCheckpoints(id: string): Promise<string[]> {
    const r = await this.rawCall(sessionPath(id), INTERFACES.Session, "ListCheckpoints", "", []);
    return r.body[0] as string[];
  }

  async dropCheckpoint(id: string, name: string): Promise<void> {
    await this.rawCall(sessionPath(id), INTERFACES.Session, "DropCheckpoint", "s", [name]);
  }

  async closeSession(id: string): Promise<void> {
    await this.rawCall(sessionPath(id), INTERFACES.Session, "Close", "", []);
  }

  async openShell(id: string, argv: string[], size: { rows: number; cols: number }): Promise<ShellChannel> {
    const term = process.env["TERM"] && /^[A-Za-z0-9._+-]+$/.test(process.env["TERM"]) ? process.env["TERM"] : "xterm-256color";
    const opts = toVariants({ term, rows: size.rows, cols: size.cols }, new Set(["rows", "cols"]));
    // The pty carries no exit status: the command is wrapped to print it (see exit-marker.ts).
    const r = await this.rawCall(sessionPath(id), INTERFACES.Session, "OpenShell", "asa{sv}", [wrapWithExitMarker(argv), opts]);
    const fd = r.body[0];
    if (typeof fd !== "number") {
      throw new ImgcreateError("Failed", "the D-Bus connection cannot receive file descriptors (node module usocket missing); use --transport socket");
    }
    return openPtyChannel(fd, this.shellExit(id));
  }

  /** The shell's exit status, from a ShellExited signal on the session when the daemon sends one. */
  private shellExit(id: string): Promise<number | undefined> {
    const path = sessionPath(id);
    return new Promise((resolve) => {
      const listener = (m: Msg): void => {
        if (m.path === path && m.member === "ShellExited") {
          this.signalListeners.delete(listener);
          resolve(Number(m.body[m.body.length - 1]));
        }
      };
      this.signalListeners.add(listener);
      this.onDisconnect.push(() => resolve(undefined));
    });
  }
  private readonly onDisconnect: (() => void)[] = [];

  async logs(id: string, onLine: (line: string) => void, follow: boolean, signal?: AbortSignal): Promise<void> {
    const past = await this.rawCall(sessionPath(id), INTERFACES.Session, "GetLog", "a{sv}", [{}]);
    for (const line of past.body[0] as string[]) onLine(line);
    const info = await this.getSession(id);
    if (!info.job || !follow) return;
    const job = await this.track(info.job.id, info.job.operation);
    job.on("log", (_p: number, line: string) => onLine(line));
    await new Promise<void>((resolve) => {
      void job.done.then(() => resolve());
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async listCachedRoots(): Promise<CachedRoot[]> {
    const r = await this.rawCall(ROOT_PATH, INTERFACES.Manager, "ListCachedRoots", "", []);
    return cachedRoots(r.body[0] as unknown[][]);
  }

  async pruneCachedRoots(maxMiB: number): Promise<number> {
    const r = await this.rawCall(ROOT_PATH, INTERFACES.Manager, "PruneCachedRoots", "a{sv}", [{ "max-size": new Variant("u", maxMiB) }]);
    return Number(r.body[0]);
  }

  async version(): Promise<string> {
    const p = await this.getAll<{ Version: string }>(ROOT_PATH, INTERFACES.Manager);
    return p.Version;
  }

  disconnect(): void {
    for (const w of this.onDisconnect.splice(0)) w();
    this.bus.disconnect();
  }
}

function idOfPath(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** a{sv} from plain values; keys in `uints` are sent as u, other numbers as i. */
function toVariants(o: Record<string, unknown>, uints = new Set<string>()): Record<string, InstanceType<typeof Variant>> {
  const out: Record<string, InstanceType<typeof Variant>> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (typeof v === "boolean") out[k] = new Variant("b", v);
    else if (typeof v === "number") out[k] = new Variant(uints.has(k) ? "u" : "i", v);
    else out[k] = new Variant("s", String(v));
  }
  return out;
}

function unwrap(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const val = v instanceof Variant ? v.value : v;
    out[k] = typeof val === "bigint" ? Number(val) : val;
  }
  return out;
}

/** A D-Bus error reply as our error: our names map to their code, the bus's own to the nearest meaning. */
export function fromDBusError(err: unknown): ImgcreateError {
  if (err instanceof ImgcreateError) return err;
  if (err instanceof dbus.DBusError) {
    const code = codeOfDbusErrorName(err.type);
    if (code) return new ImgcreateError(code, err.text);
    if (err.type === "org.freedesktop.DBus.Error.ServiceUnknown" || err.type === "org.freedesktop.DBus.Error.NameHasNoOwner") {
      return unreachableError(`${BUS_NAME} is not running`);
    }
    if (err.type === "org.freedesktop.DBus.Error.AccessDenied") return new ImgcreateError("NotAuthorized", err.text);
    if (err.type === "org.freedesktop.DBus.Error.UnknownObject" || err.type === "org.freedesktop.DBus.Error.UnknownMethod") {
      return new ImgcreateError("InvalidArgs", "no such session (it may have been closed); see `imgcreate session list`");
    }
    if (err.type === "org.freedesktop.DBus.Error.NoReply" || err.type === "org.freedesktop.DBus.Error.Disconnected") {
      return unreachableError("the daemon stopped answering");
    }
    return new ImgcreateError("Failed", `${err.text} (${err.type})`);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return unreachableError(msg);
}
