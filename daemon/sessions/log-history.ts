// The past lines of a session's log, for Session.GetLog. The file is the daemon's own (the session's state
// dir), never a caller-named path; it is opened without following links and only its tail is read, so a
// huge log costs a bounded amount of memory.
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Session } from "./session.js";

const DEFAULT_LINES = 1000;
const MAX_BYTES = 512 * 1024; // dbus-next marshals on the event loop: a big reply would stall the daemon
const MAX_LINE = 4096;

/** A D-Bus string may not hold NUL (the bus drops the sender for it); tool output can hold any byte. */
function clean(line: string): string {
  // eslint-disable-next-line no-control-regex
  const s = line.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "\ufffd");
  return s.length > MAX_LINE ? s.slice(0, MAX_LINE) + "…" : s;
}

export async function readSessionLog(s: Session, lines: number): Promise<string[]> {
  const want = lines > 0 ? lines : DEFAULT_LINES;
  let fh;
  try {
    fh = await open(s.logFile, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return []; // nothing logged yet
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    const len = Math.min(size, MAX_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const all = buf.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    if (len < size) all.shift(); // the first line was cut by the byte limit
    return all.slice(-want).map(clean);
  } finally {
    await fh.close();
  }
}
