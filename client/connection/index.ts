// Picks the transport: --transport wins; otherwise D-Bus when the system bus has (or can activate) the
// daemon's name, else the JSON-RPC socket. Commands only see the Connection interface.
import { ImgcreateError } from "../../daemon/errors.js";
import { DEFAULT_SOCKET } from "../../daemon/api/names.js";
import { exitCodeFor, EXIT } from "../errors.js";
import type { Connection } from "./types.js";

export interface ConnectOptions {
  transport?: "dbus" | "socket";
  socket?: string;
}

export function socketPath(o: ConnectOptions): string {
  return o.socket ?? process.env["IMGCREATE_SOCKET"] ?? DEFAULT_SOCKET;
}

export async function connect(o: ConnectOptions): Promise<Connection> {
  const { DBusConnection } = await import("./dbus.js");
  const { JsonRpcConnection } = await import("./jsonrpc.js");
  if (o.transport === "dbus") return DBusConnection.open();
  if (o.transport === "socket" || o.socket) return JsonRpcConnection.open(socketPath(o));
  try {
    return await DBusConnection.open();
  } catch (err) {
    if (exitCodeFor(err) !== EXIT.unreachable) throw err;
    try {
      return await JsonRpcConnection.open(socketPath(o));
    } catch (err2) {
      // Say both reasons: the user may have expected either.
      const a = err instanceof ImgcreateError ? err.message.replace(/^cannot reach imgcreated: /, "").split(". Start")[0] : String(err);
      const b = err2 instanceof ImgcreateError ? err2.message.replace(/^cannot reach imgcreated: /, "").split(". Start")[0] : String(err2);
      throw new ImgcreateError("Failed", `cannot reach imgcreated: ${a}, and ${b}. Start it (as root: \`systemctl start imgcreated\`, or \`imgcreated\`), or point --socket at its socket.`, { exitCode: EXIT.unreachable });
    }
  }
}

export type { Connection } from "./types.js";
