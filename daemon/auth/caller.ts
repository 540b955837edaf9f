// Who is calling: a bus name on D-Bus (uid from the bus daemon), or a process on the Unix socket
// (pid/uid/gid from SO_PEERCRED and the start time from /proc, which is polkit's unix-process subject).
import { readFile } from "node:fs/promises";
import { ImgcreateError } from "../errors.js";

export type Caller =
  | { kind: "dbus"; busName: string; uid: number; pid: number }
  | { kind: "unix"; pid: number; uid: number; gid: number; startTime: bigint; connection: number };

/** A stable key for caches: one per bus connection or per process on the socket. */
export function callerKey(c: Caller): string {
  return c.kind === "dbus" ? `dbus:${c.busName}` : `unix:${c.pid}:${c.startTime}`;
}

export function describeCaller(c: Caller): string {
  return c.kind === "dbus" ? `${c.busName} (uid ${c.uid})` : `pid ${c.pid} (uid ${c.uid})`;
}

/** Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot (what polkit compares). */
export async function processStartTime(pid: number): Promise<bigint> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    throw new ImgcreateError("NotAuthorized", `the calling process ${pid} is gone`);
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const v = rest[22 - 3];
  if (v === undefined) throw new ImgcreateError("Failed", `cannot read the start time of process ${pid}`);
  return BigInt(v);
}

/** The primary gid of a uid, from the user database (getent honours NSS). */
export async function primaryGid(uid: number): Promise<number | undefined> {
  const { execa } = await import("execa");
  const r = await execa("getent", ["passwd", String(uid)], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const gid = Number(r.stdout.split(":")[3]);
  return Number.isInteger(gid) ? gid : undefined;
}
