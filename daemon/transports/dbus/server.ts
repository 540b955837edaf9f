// The D-Bus transport: a thin adapter over api/. One method handler routes every call to our paths
// (dbus-next's Interface never sees the sender, LESSONS.md), answers the standard interfaces itself
// (Introspectable, Properties, ObjectManager, Peer) from the API table, and turns registry/job events into
// signals. Every reply goes through replyError/replyOk so no exception reaches a caller with a stack.
import dbus from "dbus-next";
import { asImgcreateError, ImgcreateError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { Caller } from "../../auth/caller.js";
import type { Polkit } from "../../auth/polkit.js";
import type { ApiService, ShellResult } from "../../api/service.js";
import { METHODS, PROPERTIES, findMethod } from "../../api/methods.js";
import { nodeXml } from "../../api/introspect.js";
import {
  INTERFACES,
  JOB_PATH_PREFIX,
  ROOT_PATH,
  SESSION_PATH_PREFIX,
  dbusErrorName,
  jobNumberOfPath,
  jobPath,
  sessionIdOfPath,
  sessionPath,
  type InterfaceName,
} from "../../api/names.js";
import type { Job, JobResult } from "../../sessions/job.js";
import type { Session } from "../../sessions/session.js";
import { propsToDict, toDbusValue, unwrapDict } from "./convert.js";
import { isOurPath, type CallGate } from "./gate.js";

const { Message, MessageType } = dbus;
const ALLOW_INTERACTIVE_AUTHORIZATION = 0x4;
const NO_REPLY_EXPECTED = 0x1;
const DBUS = { name: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus" };
const STD = {
  props: "org.freedesktop.DBus.Properties",
  intro: "org.freedesktop.DBus.Introspectable",
  om: "org.freedesktop.DBus.ObjectManager",
  peer: "org.freedesktop.DBus.Peer",
};
const IFACE_OF: Record<string, InterfaceName> = Object.fromEntries(Object.entries(INTERFACES).map(([k, v]) => [v, k as InterfaceName]));

interface Reply {
  sig: string;
  body: unknown[];
  /** An fd passed in the reply: ours is closed once it is sent. */
  closeFd?: number;
}
type Target = { kind: "root" } | { kind: "node"; children: string[] } | { kind: "session"; s: Session } | { kind: "job"; j: Job };

export class DbusTransport {
  private readonly peers = new Map<string, Promise<{ uid: number; pid: number }>>();

  constructor(
    private readonly bus: dbus.MessageBus,
    private readonly api: ApiService,
    private readonly polkit: Polkit,
    private readonly log: Logger,
  ) {}

  /** Follows callers leaving the bus, wires the signals, then takes the calls the gate held and all later ones. */
  async start(gate: CallGate): Promise<void> {
    await this.call(DBUS.name, DBUS.path, DBUS.iface, "AddMatch", "s", [
      `type='signal',sender='${DBUS.name}',interface='${DBUS.iface}',member='NameOwnerChanged'`,
    ]);
    this.bus.on("message", (msg: dbus.Message) => {
      if (msg.type === MessageType.SIGNAL && msg.member === "NameOwnerChanged" && msg.sender === DBUS.name && msg.body[2] === "") {
        const name = String(msg.body[0]);
        this.peers.delete(name);
        this.polkit.forget(`dbus:${name}`);
      }
    });
    this.wireSignals();
    gate.open((msg) => this.onCall(msg));
  }

  // ---- calls ----

  private onCall(msg: dbus.Message): boolean {
    if (!isOurPath(msg.path ?? "")) return false;
    void this.handle(msg).then(
      (r) => r && this.reply(msg, r),
      (err) => this.replyError(msg, err),
    );
    return true;
  }

  private async handle(msg: dbus.Message): Promise<Reply | undefined> {
    const target = this.resolve(msg.path ?? "");
    if (!target) throw dbusError("org.freedesktop.DBus.Error.UnknownObject", `no object at ${msg.path}`);
    const iface = msg.interface ?? "";
    switch (iface) {
      case STD.intro:
        return { sig: "s", body: [this.introspect(target)] };
      case STD.peer:
        if (msg.member === "Ping") return { sig: "", body: [] };
        throw dbusError("org.freedesktop.DBus.Error.UnknownMethod", `no method ${msg.member} on ${iface}`);
      case STD.props:
        return this.properties(msg, target);
      case STD.om:
        if (target.kind === "root" && msg.member === "GetManagedObjects") return { sig: "a{oa{sa{sv}}}", body: [this.managedObjects()] };
        throw dbusError("org.freedesktop.DBus.Error.UnknownMethod", `no method ${msg.member} on ${iface} at ${msg.path}`);
    }
    const ifName = IFACE_OF[iface] ?? (iface === "" ? this.ifaceOfTarget(target) : undefined);
    if (!ifName || ifName !== this.ifaceOfTarget(target)) throw dbusError("org.freedesktop.DBus.Error.UnknownInterface", `no interface ${iface || "(none)"} at ${msg.path}`);
    const def = findMethod(ifName, msg.member ?? "", "dbus");
    if (!def) throw dbusError("org.freedesktop.DBus.Error.UnknownMethod", `no method ${msg.member} on ${iface}`);
    const want = def.params.map((p) => p.type.sig).join("");
    if ((msg.signature ?? "") !== want) throw new ImgcreateError("InvalidArgs", `${def.name} takes (${want}), got (${msg.signature ?? ""})`);
    const params: Record<string, unknown> = {};
    def.params.forEach((p, i) => (params[p.name] = p.type.sig === "a{sv}" ? unwrapDict(msg.body[i]) : msg.body[i]));
    if (target.kind === "session") params.session = target.s.id;
    if (target.kind === "job") params.job = target.j.n;
    const result = await this.api.call({
      caller: await this.caller(msg.sender ?? ""),
      iface: ifName,
      method: def.name,
      params,
      transport: "dbus",
      interactive: ((msg.flags ?? 0) & ALLOW_INTERACTIVE_AUTHORIZATION) !== 0,
    });
    if (!def.result) return { sig: "", body: [] };
    if (def.result.sig === "h") {
      const fd = (result as ShellResult).shell.master;
      return { sig: "h", body: [fd], closeFd: fd };
    }
    return { sig: def.result.sig, body: [toDbusValue(def.result.sig, result)] };
  }

  private resolve(path: string): Target | undefined {
    if (path === ROOT_PATH) return { kind: "root" };
    if (path === "/") return { kind: "node", children: ["org"] };
    if (ROOT_PATH.startsWith(path + "/")) return { kind: "node", children: [ROOT_PATH.slice(path.length + 1).split("/")[0]!] };
    if (path === SESSION_PATH_PREFIX.slice(0, -1)) return { kind: "node", children: [...this.api.registry.sessions.keys()] };
    if (path === JOB_PATH_PREFIX.slice(0, -1)) return { kind: "node", children: [...this.api.registry.jobs.keys()].map(String) };
    const id = sessionIdOfPath(path);
    const s = id === undefined ? undefined : this.api.registry.get(id);
    if (s) return { kind: "session", s };
    const n = jobNumberOfPath(path);
    const j = n === undefined ? undefined : this.api.registry.jobs.get(n);
    if (j) return { kind: "job", j };
    return undefined;
  }

  private ifaceOfTarget(t: Target): InterfaceName | undefined {
    return t.kind === "root" ? "Manager" : t.kind === "session" ? "Session" : t.kind === "job" ? "Job" : undefined;
  }

  private introspect(t: Target): string {
    switch (t.kind) {
      case "root":
        return nodeXml(["Manager"], ["session", "job"], true);
      case "node":
        return nodeXml([], t.children);
      case "session":
        return nodeXml(["Session"], []);
      case "job":
        return nodeXml(["Job"], []);
    }
  }

  private propsOf(t: Target): { iface: InterfaceName; values: object } | undefined {
    if (t.kind === "root") return { iface: "Manager", values: this.api.managerProperties() };
    if (t.kind === "session") return { iface: "Session", values: this.api.sessionProperties(t.s) };
    if (t.kind === "job") return { iface: "Job", values: this.api.jobProperties(t.j) };
    return undefined;
  }

  /** Properties are readable by everyone (nothing secret in them) and never writable. */
  private properties(msg: dbus.Message, t: Target): { sig: string; body: unknown[] } {
    const p = this.propsOf(t);
    const [ifaceName, prop] = msg.body as [string, string];
    if (msg.member === "GetAll" && msg.signature === "s") {
      if (!p || INTERFACES[p.iface] !== ifaceName) return { sig: "a{sv}", body: [{}] };
      return { sig: "a{sv}", body: [propsToDict(PROPERTIES[p.iface], p.values)] };
    }
    if (msg.member === "Get" && msg.signature === "ss") {
      const def = p && INTERFACES[p.iface] === ifaceName ? PROPERTIES[p.iface].find((d) => d.name === prop) : undefined;
      if (!p || !def) throw dbusError("org.freedesktop.DBus.Error.UnknownProperty", `no property ${ifaceName}.${prop} at ${msg.path}`);
      return { sig: "v", body: [propsToDict([def], p.values)[def.name]] };
    }
    if (msg.member === "Set") throw dbusError("org.freedesktop.DBus.Error.PropertyReadOnly", "imgcreated's properties are read-only");
    throw dbusError("org.freedesktop.DBus.Error.InvalidArgs", `bad call ${msg.member}(${msg.signature ?? ""}) on ${STD.props}`);
  }

  private managedObjects(): Record<string, Record<string, Record<string, dbus.Variant>>> {
    const out: Record<string, Record<string, Record<string, dbus.Variant>>> = {};
    for (const s of this.api.registry.sessions.values()) out[sessionPath(s.id)] = { [INTERFACES.Session]: propsToDict(PROPERTIES.Session, this.api.sessionProperties(s)) };
    for (const j of this.api.registry.jobs.values()) out[jobPath(j.n)] = { [INTERFACES.Job]: propsToDict(PROPERTIES.Job, this.api.jobProperties(j)) };
    return out;
  }

  /** The caller's uid and pid from the bus daemon, cached per unique name until it leaves the bus. */
  private async caller(sender: string): Promise<Caller> {
    let p = this.peers.get(sender);
    if (!p) {
      p = this.call(DBUS.name, DBUS.path, DBUS.iface, "GetConnectionCredentials", "s", [sender]).then((r) => {
        const creds = unwrapDict(r.body[0]) as { UnixUserID?: number; ProcessID?: number };
        if (typeof creds.UnixUserID !== "number") throw new ImgcreateError("NotAuthorized", "the bus did not say who you are");
        return { uid: creds.UnixUserID, pid: creds.ProcessID ?? 0 };
      });
      this.peers.set(sender, p);
      p.catch(() => this.peers.delete(sender));
    }
    const { uid, pid } = await p;
    return { kind: "dbus", busName: sender, uid, pid };
  }

  // ---- replies and signals ----

  private reply(msg: dbus.Message, r: Reply): void {
    if (((msg.flags ?? 0) & NO_REPLY_EXPECTED) === 0) this.bus.send(Message.newMethodReturn(msg, r.sig, r.body));
    if (r.closeFd !== undefined) void this.closeWhenSent(r.closeFd);
  }

  /** dbus-next writes through a stream: close our copy of a passed fd only once the message has left. */
  private async closeWhenSent(fd: number): Promise<void> {
    const stream = (this.bus as unknown as { _connection: { stream: { writableLength: number } } })._connection.stream;
    for (let i = 0; i < 500 && stream.writableLength > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const { closeSync } = await import("node:fs");
    closeSync(fd);
  }

  private replyError(msg: dbus.Message, err: unknown): void {
    let name: string;
    let text: string;
    if (err instanceof DbusStdError) {
      name = err.dbusName;
      text = err.message;
    } else {
      const e = asImgcreateError(err);
      name = dbusErrorName(e.code);
      text = e.message;
      if (!(err instanceof ImgcreateError)) this.log.error(`unexpected error in ${msg.interface}.${msg.member}: ${(err as Error)?.stack ?? String(err)}`);
    }
    if (((msg.flags ?? 0) & NO_REPLY_EXPECTED) === 0) this.bus.send(Message.newError(msg as unknown as string, name, text)); // its .d.ts mistypes msg
  }

  private signal(path: string, iface: string, member: string, signature: string, body: unknown[]): void {
    try {
      this.bus.send(new Message({ type: MessageType.SIGNAL, path, interface: iface, member, signature, body }));
    } catch (err) {
      this.log.warning(`could not send ${member}: ${(err as Error).message}`);
    }
  }

  private propertiesChanged(path: string, iface: InterfaceName, values: object, names?: readonly string[]): void {
    const defs = PROPERTIES[iface].filter((d) => !names || names.includes(d.name));
    this.signal(path, STD.props, "PropertiesChanged", "sa{sv}as", [INTERFACES[iface], propsToDict(defs, values), []]);
  }

  private wireSignals(): void {
    const reg = this.api.registry;
    reg.on("session-added", (s: Session) => {
      this.signal(ROOT_PATH, STD.om, "InterfacesAdded", "oa{sa{sv}}", [sessionPath(s.id), { [INTERFACES.Session]: propsToDict(PROPERTIES.Session, this.api.sessionProperties(s)) }]);
    });
    reg.on("session-changed", (s: Session, names: string[]) => this.propertiesChanged(sessionPath(s.id), "Session", this.api.sessionProperties(s), names));
    reg.on("session-removed", (s: Session) => this.signal(ROOT_PATH, STD.om, "InterfacesRemoved", "oas", [sessionPath(s.id), [INTERFACES.Session]]));
    reg.on("job-removed", (j: Job) => this.signal(ROOT_PATH, STD.om, "InterfacesRemoved", "oas", [jobPath(j.n), [INTERFACES.Job]]));
    reg.on("job-added", (j: Job) => {
      const path = jobPath(j.n);
      this.signal(ROOT_PATH, STD.om, "InterfacesAdded", "oa{sa{sv}}", [path, { [INTERFACES.Job]: propsToDict(PROPERTIES.Job, this.api.jobProperties(j)) }]);
      j.on("changed", () => this.propertiesChanged(path, "Job", this.api.jobProperties(j)));
      j.on("log", (l: { priority: number; line: string }) => this.signal(path, INTERFACES.Job, "LogMessage", "us", [l.priority, l.line]));
      j.on("completed", (r: JobResult) => this.signal(path, INTERFACES.Job, "Completed", "bss", [r.success, r.code ? dbusErrorName(r.code) : "", r.message]));
    });
  }

  private async call(dest: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<dbus.Message> {
    const r = await this.bus.call(new Message({ destination: dest, path, interface: iface, member, signature, body }));
    if (!r) throw new Error(`no reply to ${member}`);
    return r;
  }
}

class DbusStdError extends Error {
  constructor(
    readonly dbusName: string,
    message: string,
  ) {
    super(message);
  }
}
function dbusError(name: string, message: string): DbusStdError {
  return new DbusStdError(name, message);
}

/** For docs/tests: every D-Bus method as "Interface.Method(in)->out". */
export function dbusSignatures(): string[] {
  return METHODS.filter((m) => !m.jsonrpcOnly).map((m) => `${m.iface}.${m.name}(${m.params.map((p) => p.type.sig).join("")})->${m.result?.sig ?? ""}`);
}
