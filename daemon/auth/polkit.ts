// polkit's CheckAuthorization over the system bus (dbus-next), with a short per-(caller, action) cache of
// its answers so that a busy client is not one polkit round trip per call. The cache of a caller is
// dropped when it leaves the bus (NameOwnerChanged) or closes its socket connection.
import dbus from "dbus-next";
import { ImgcreateError } from "../errors.js";
import { callerKey, type Caller } from "./caller.js";

const { Message, Variant } = dbus;
const POLKIT = "org.freedesktop.PolicyKit1";
const AUTHORITY_PATH = "/org/freedesktop/PolicyKit1/Authority";
const AUTHORITY_IFACE = "org.freedesktop.PolicyKit1.Authority";
const ALLOW_USER_INTERACTION = 1;

export interface PolkitOptions {
  /** How long an answer is reused for the same caller and action. */
  cacheMs?: number;
}

export class Polkit {
  private readonly cache = new Map<string, { ok: boolean; until: number }>(); // key "caller\0action"
  private readonly cacheMs: number;

  constructor(
    private readonly bus: dbus.MessageBus | null,
    opts: PolkitOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 5000;
  }

  /** Is the caller allowed the action? Root always is (as polkit itself says). Throws NotAuthorized otherwise. */
  async check(caller: Caller, action: string, details: Record<string, string>, interactive: boolean): Promise<void> {
    if (!(await this.allowed(caller, action, details, interactive))) {
      throw new ImgcreateError(
        "NotAuthorized",
        `uid ${caller.uid} is not authorized for ${action}` +
          (interactive ? "" : " (ask your administrator for it, or retry allowing interactive authentication)"),
        { action },
      );
    }
  }

  /** The answer without throwing (used for manage-others, where "no" becomes NotOwner). */
  async allowed(caller: Caller, action: string, details: Record<string, string>, interactive: boolean): Promise<boolean> {
    if (caller.uid === 0) return true;
    const key = callerKey(caller) + "\0" + action;
    const hit = this.cache.get(key);
    // A cached "no" is not final for a caller who now allows interaction: polkit may ask for a password.
    if (hit && hit.until > Date.now() && (hit.ok || !interactive)) return hit.ok;
    const ok = await this.ask(caller, action, details, interactive);
    this.cache.set(key, { ok, until: Date.now() + this.cacheMs });
    return ok;
  }

  /** Forget everything cached for a caller (it left the bus, or closed its connection). */
  forget(key: string): void {
    const prefix = key + "\0";
    for (const k of this.cache.keys()) if (k.startsWith(prefix)) this.cache.delete(k);
  }

  private async ask(caller: Caller, action: string, details: Record<string, string>, interactive: boolean): Promise<boolean> {
    if (!this.bus) throw new ImgcreateError("NotAuthorized", "polkit is not reachable (no system bus): only root may call");
    const subject: [string, Record<string, dbus.Variant>] =
      caller.kind === "dbus"
        ? ["system-bus-name", { name: new Variant("s", caller.busName) }]
        : ["unix-process", { pid: new Variant("u", caller.pid), "start-time": new Variant("t", caller.startTime), uid: new Variant("i", caller.uid) }];
    let reply: dbus.Message | null;
    try {
      reply = await this.bus.call(
        new Message({
          destination: POLKIT,
          path: AUTHORITY_PATH,
          interface: AUTHORITY_IFACE,
          member: "CheckAuthorization",
          signature: "(sa{sv})sa{ss}us",
          body: [subject, action, details, interactive ? ALLOW_USER_INTERACTION : 0, ""],
        }),
      );
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      throw new ImgcreateError("NotAuthorized", `polkit could not decide on ${action}: ${text}`, { action });
    }
    const result = reply?.body[0] as [boolean, boolean, Record<string, string>] | undefined;
    return result?.[0] === true;
  }
}
