// How the client turns errors into a sentence and an exit status. Nothing here ever prints a stack trace:
// every failure a user can meet becomes an ImgcreateError whose message says what to do.
import { ImgcreateError, asImgcreateError, type ErrorCode } from "../daemon/errors.js";

export const EXIT = { ok: 0, failed: 1, usage: 2, notAuthorized: 3, unreachable: 4, cancelled: 130 } as const;

/** A command-line mistake: exit 2, with a pointer to the right --help. */
export function usageError(message: string, command?: string[]): ImgcreateError {
  const hint = command ? `imgcreate ${command.join(" ")} --help` : "imgcreate --help";
  return new ImgcreateError("InvalidArgs", `${message} (see \`${hint}\`)`, { exitCode: EXIT.usage });
}

/** The daemon is not there (no bus name, no socket): exit 4 and say how to start it. */
export function unreachableError(what: string): ImgcreateError {
  return new ImgcreateError(
    "Failed",
    `cannot reach imgcreated: ${what}. Start it (as root: \`systemctl start imgcreated\`, or \`imgcreated\`), or point --socket at its socket.`,
    { exitCode: EXIT.unreachable },
  );
}

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  NotAuthorized: EXIT.notAuthorized,
  NotOwner: EXIT.notAuthorized,
  InvalidArgs: EXIT.usage,
  Cancelled: EXIT.cancelled,
  InvalidState: EXIT.failed,
  Failed: EXIT.failed,
  Busy: EXIT.failed,
};

export function exitCodeFor(err: unknown): number {
  const e = asImgcreateError(err);
  const forced = e.detail["exitCode"];
  if (typeof forced === "number") return forced;
  return EXIT_BY_CODE[e.code] ?? EXIT.failed;
}

/** What to tell the user, with the next step when the daemon's own message does not already give one. */
export function describeError(err: unknown): string {
  const e = asImgcreateError(err);
  const msg = e.message.replace(/^error:\s*/i, "");
  switch (e.code) {
    case "NotAuthorized":
      if (/imgbuilders/.test(msg)) return `not authorized: ${msg}`;
      if (/org\.imgcreate\.(shell|run-host-scripts|manage-others|manage-cache|network)/.test(msg)) return `not authorized: ${msg}`;
      return `not authorized: ${msg}; ask an administrator to add you to the group imgbuilders`;
    case "NotOwner":
      return `not your session: ${msg}; only its owner (or an administrator) may do that`;
    case "InvalidState":
      return `${msg} (see \`imgcreate session show ID\` for the session's state)`;
    case "Busy":
      return `${msg}; wait for the running job to end, or cancel it with \`imgcreate session cancel ID\``;
    default:
      return msg;
  }
}

const DBUS_ERROR_PREFIX = "org.imgcreate.ImageCreator1.Error.";
const CODES: ErrorCode[] = ["NotAuthorized", "NotOwner", "InvalidState", "InvalidArgs", "Cancelled", "Failed", "Busy"];

/** Maps a D-Bus error name (ours or the bus's) to our codes. */
export function codeFromDBusName(name: string): ErrorCode | undefined {
  if (name.startsWith(DBUS_ERROR_PREFIX)) {
    const c = name.slice(DBUS_ERROR_PREFIX.length) as ErrorCode;
    return CODES.includes(c) ? c : "Failed";
  }
  if (name === "org.freedesktop.DBus.Error.AccessDenied") return "NotAuthorized";
  if (name === "org.freedesktop.DBus.Error.InvalidArgs") return "InvalidArgs";
  return undefined;
}

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === "string" && (CODES as string[]).includes(s);
}
