// Owning the bus name early. The daemon connects and takes org.imgcreate.ImageCreator1 first (so D-Bus
// activation and clients see it quickly), holds calls to our objects while it loads the engine and recovers
// its sessions, then lets them through to the transport in arrival order. Nothing is answered before ready.
import dbus from "dbus-next";
import { ImgcreateError } from "../../errors.js";
import { BUS_NAME, ROOT_PATH } from "../../api/names.js";

/** Paths we answer: the root object, its ancestors (for introspection) and everything below it. */
export function isOurPath(path: string): boolean {
  return path === "/" || path === ROOT_PATH || ROOT_PATH.startsWith(path + "/") || path.startsWith(ROOT_PATH + "/");
}

export class CallGate {
  private held: dbus.Message[] = [];
  private handler: ((msg: dbus.Message) => boolean) | undefined;

  constructor(bus: dbus.MessageBus) {
    bus.addMethodHandler((msg: dbus.Message) => {
      if (!isOurPath(msg.path ?? "")) return false;
      if (this.handler) return this.handler(msg);
      this.held.push(msg);
      return true;
    });
  }

  /** From now on calls go to handler; the held ones first. */
  open(handler: (msg: dbus.Message) => boolean): void {
    this.handler = handler;
    for (const m of this.held.splice(0)) handler(m);
  }
}

/** Takes the bus name or says plainly why not (taken by another daemon, or the policy does not allow us). */
export async function ownBusName(bus: dbus.MessageBus): Promise<void> {
  const DO_NOT_QUEUE = 4;
  const PRIMARY_OWNER = 1;
  let code: number;
  try {
    code = await bus.requestName(BUS_NAME, DO_NOT_QUEUE);
  } catch (err) {
    throw new ImgcreateError("Failed", `cannot own ${BUS_NAME} on the system bus: ${(err as Error).message} (is the D-Bus policy file installed?)`);
  }
  if (code !== PRIMARY_OWNER) throw new ImgcreateError("Busy", `${BUS_NAME} is already owned on this bus: another imgcreated is running`);
}
