// Who is at the other end of a Unix socket: the kernel's SO_PEERCRED (pid, uid, gid recorded at
// connect()), read by the small native addon in native/peercred, and the process start time that
// polkit's unix-process subject needs so that a recycled pid cannot borrow someone's authorization.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { ImgcreateError } from "../errors.js";

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

interface Addon {
  getPeerCred(fd: number): PeerCredentials;
}

let addon: Addon | undefined;

/** Loaded on first use, so importing this module never fails on a machine where the build did not run. */
function loadAddon(): Addon {
  if (addon) return addon;
  try {
    addon = createRequire(import.meta.url)("peercred") as Addon;
    return addon;
  } catch (err) {
    throw new ImgcreateError(
      "Failed",
      "the peercred native addon is not built: run `npm ci` as root (it needs the Debian packages g++ and make)",
      { cause: err instanceof Error ? err.message : String(err) },
    );
  }
}

/** The socket's file descriptor. Node keeps it on the libuv handle; there is no public accessor. */
function socketFd(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    throw new ImgcreateError("Failed", "cannot identify the caller: the connection is closed or is not a Unix socket");
  }
  return fd;
}

/** pid, uid and gid of the process that connected `socket` (a connected AF_UNIX stream socket). */
export function getPeerCredentials(socket: Socket): PeerCredentials {
  const fd = socketFd(socket);
  let cred: PeerCredentials;
  try {
    cred = loadAddon().getPeerCred(fd);
  } catch (err) {
    if (err instanceof ImgcreateError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new ImgcreateError("Failed", `cannot identify the caller of this connection: ${msg}`);
  }
  // The kernel answers for any socket, but only a Unix socket's peer has a pid: 0 means "nobody known".
  if (cred.pid <= 0) throw new ImgcreateError("Failed", "cannot identify the caller: the connection is not a local Unix socket");
  return cred;
}

/**
 * Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat), the value polkit
 * compares for a unix-process subject. Parsed after the last ")" because the command name in
 * field 2 may itself contain spaces and parentheses.
 */
export function processStartTime(pid: number): bigint {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new ImgcreateError("NotAuthorized", `the calling process ${pid} is gone, so it cannot be authorized`);
  }
  // After ")": field 3 (state) is index 0, so field 22 (starttime) is index 19.
  const field = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  if (field === undefined || !/^\d+$/.test(field)) {
    throw new ImgcreateError("Failed", `cannot read the start time of process ${pid} from /proc/${pid}/stat`);
  }
  return BigInt(field);
}
