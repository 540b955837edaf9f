// The daemon as the app sees it: its objects from the ObjectManager (sessions and jobs, kept current by
// InterfacesAdded/Removed and PropertiesChanged — no polling), job signals, and calls. Every call allows
// interactive authorization, so the desktop's polkit agent may ask for a password. When the daemon
// restarts (or is activated), the object manager follows the new name owner by itself.
import Gio from "gi://Gio";
import GLib from "gi://GLib";
import { BUS_NAME, INTERFACES, ROOT_PATH } from "../daemon/api/names.js";

export interface SessionView {
  path: string;
  id: string;
  name: string;
  type: string;
  state: string;
  owner: number;
  currentJob: string;
  artifacts: string[];
}

export interface JobView {
  path: string;
  operation: string;
  progress: number;
  progressValid: boolean;
  status: string;
  bytes: number;
  message: string;
}

export interface DaemonEvents {
  /** A session or job appeared, went away or changed. */
  changed(): void;
  log(jobPath: string, line: string): void;
  completed(jobPath: string, success: boolean, errorName: string, message: string): void;
  /** The daemon is (again) on the bus, or gone. */
  running(yes: boolean): void;
}

const INTERACTIVE = Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION;
/** A polkit agent may be waiting for a person: no call timeout. */
const NO_TIMEOUT = 2 ** 31 - 1;

function prop<T>(proxy: Gio.DBusProxy, name: string, fallback: T): T {
  const v = proxy.get_cached_property(name);
  return v ? (v.recursiveUnpack() as T) : fallback;
}

function myUid(): number {
  return new Gio.Credentials().get_unix_user();
}

export class Daemon {
  private readonly bus: Gio.DBusConnection;
  private readonly om: Gio.DBusObjectManagerClient;
  readonly uid = myUid();

  constructor(private readonly on: DaemonEvents) {
    this.bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, null);
    this.om = Gio.DBusObjectManagerClient.new_sync(this.bus, Gio.DBusObjectManagerClientFlags.DO_NOT_AUTO_START, BUS_NAME, ROOT_PATH, null, null);
    this.om.connect("object-added", () => this.on.changed());
    this.om.connect("object-removed", () => this.on.changed());
    this.om.connect("interface-proxy-properties-changed", () => this.on.changed());
    this.om.connect("interface-proxy-signal", (_om, _obj, proxy: Gio.DBusProxy, _sender: string, signal: string, params: GLib.Variant) => {
      const args = params.recursiveUnpack() as unknown[];
      if (signal === "LogMessage") this.on.log(proxy.get_object_path(), String(args[1]));
      if (signal === "Completed") this.on.completed(proxy.get_object_path(), Boolean(args[0]), String(args[1]), String(args[2]));
    });
    this.om.connect("notify::name-owner", () => {
      this.on.running(this.isRunning());
      this.on.changed();
    });
  }

  isRunning(): boolean {
    return this.om.get_name_owner() !== null;
  }

  private proxy(path: string, iface: string): Gio.DBusProxy | undefined {
    return (this.om.get_interface(path, iface) as Gio.DBusProxy | null) ?? undefined;
  }

  /** The caller's sessions, oldest first. */
  sessions(): SessionView[] {
    const out: SessionView[] = [];
    for (const obj of this.om.get_objects()) {
      const p = obj.get_interface(INTERFACES.Session) as Gio.DBusProxy | null;
      if (!p) continue;
      const s: SessionView = {
        path: p.get_object_path(),
        id: prop(p, "Id", ""),
        name: prop(p, "Name", ""),
        type: prop(p, "Type", ""),
        state: prop(p, "State", ""),
        owner: prop(p, "Owner", -1),
        currentJob: prop(p, "CurrentJob", "/"),
        artifacts: prop(p, "Artifacts", [] as string[]),
      };
      if (s.owner === this.uid) out.push(s);
    }
    return out.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  }

  job(path: string): JobView | undefined {
    const p = path === "/" ? undefined : this.proxy(path, INTERFACES.Job);
    if (!p) return undefined;
    return {
      path,
      operation: prop(p, "Operation", ""),
      progress: prop(p, "Progress", 0),
      progressValid: prop(p, "ProgressValid", false),
      status: prop(p, "Status", ""),
      bytes: prop(p, "Bytes", 0),
      message: prop(p, "Message", ""),
    };
  }

  /** One method call; rejects with the GLib.Error (errors.ts makes it a sentence). */
  call(path: string, iface: string, method: string, args: GLib.Variant | null): Promise<GLib.Variant> {
    return new Promise((resolve, reject) => {
      this.bus.call(BUS_NAME, path, iface, method, args, null, INTERACTIVE, NO_TIMEOUT, null, (_c, res) => {
        try {
          resolve(this.bus.call_finish(res));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  async createSession(text: string, includes: Record<string, string>, options: Record<string, string>): Promise<string> {
    const opts: Record<string, GLib.Variant> = {};
    for (const [k, v] of Object.entries(options)) opts[k] = new GLib.Variant("s", v);
    const r = await this.call(ROOT_PATH, INTERFACES.Manager, "CreateSession", new GLib.Variant("(sa{ss}a{sv})", [text, includes, opts]));
    return (r.deepUnpack() as [string])[0];
  }

  /** Mount, Install, Configure, Unmount (no argument), Package and Create (a destination folder). */
  async stage(session: string, method: string, destdir?: string): Promise<void> {
    const args = destdir !== undefined ? new GLib.Variant("(sa{sv})", [destdir, {}]) : new GLib.Variant("(a{sv})", [{}]);
    await this.call(session, INTERFACES.Session, method, args);
  }

  async cancel(job: string): Promise<void> {
    await this.call(job, INTERFACES.Job, "Cancel", null);
  }

  async close(session: string): Promise<void> {
    await this.call(session, INTERFACES.Session, "Close", null);
  }

  /** A login shell in the session's root (OpenShell): the pty master's fd, which the caller owns. */
  openShell(session: string, rows: number, cols: number): Promise<number> {
    const options = { rows: new GLib.Variant("u", rows), cols: new GLib.Variant("u", cols) };
    const args = new GLib.Variant("(asa{sv})", [[], options]);
    return new Promise((resolve, reject) => {
      this.bus.call_with_unix_fd_list(BUS_NAME, session, INTERFACES.Session, "OpenShell", args, new GLib.VariantType("(h)"), INTERACTIVE, NO_TIMEOUT, null, null, (_c, res) => {
        try {
          const [reply, fds] = this.bus.call_with_unix_fd_list_finish(res);
          const index = reply.get_child_value(0).get_handle();
          if (!fds) throw new Error("OpenShell answered without a pty");
          resolve(fds.get(index));
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  async log(session: string): Promise<string[]> {
    const r = await this.call(session, INTERFACES.Session, "GetLog", new GLib.Variant("(a{sv})", [{ lines: new GLib.Variant("u", 500) }]));
    return (r.deepUnpack() as [string[]])[0];
  }
}
