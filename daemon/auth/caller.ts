// Who is calling: a bus name on D-Bus (uid from the bus daemon), or a process on the Unix socket
// (pid/uid/gid from SO_PEERCRED and the start time from /proc, which is polkit's unix-process subject).
export { getPeerCredentials, processStartTime } from "./peercred.js";

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

/** The primary gid of a uid, from the user database (getent honours NSS). */
export async function primaryGid(uid: number): Promise<number | undefined> {
  const { execa } = await import("execa");
  const r = await execa("getent", ["passwd", String(uid)], { reject: false });
  if (r.exitCode !== 0) return undefined;
  const gid = Number(r.stdout.split(":")[3]);
  return Number.isInteger(gid) ? gid : undefined;
}
