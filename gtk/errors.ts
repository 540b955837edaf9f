// A failed call as a sentence the user can act on: the daemon's own message (it already says what to
// change, with FILE:LINE for kickstarts), introduced by what kind of refusal it is. Never a trace.
import GLib from "gi://GLib";
import { ERROR_PREFIX } from "../daemon/api/names.js";
import { _ } from "./i18n.js";

const KINDS: Record<string, () => string> = {
  NotAuthorized: () => _("Not allowed"),
  NotOwner: () => _("Not your session"),
  InvalidState: () => _("Not now"),
  InvalidArgs: () => _("Please check"),
  Cancelled: () => _("Cancelled"),
  Failed: () => _("Failed"),
  Busy: () => _("Busy"),
};

/** The D-Bus error name and text of a failed call. */
export function remoteError(err: unknown): { name: string; text: string } {
  const message = err instanceof GLib.Error || err instanceof Error ? err.message : String(err);
  const m = /^GDBus\.Error:([\w.-]+): ([\s\S]*)$/.exec(message);
  return m ? { name: m[1]!, text: m[2]! } : { name: "", text: message };
}

export function sentence(err: unknown): string {
  const { name, text } = remoteError(err);
  if (name.startsWith(ERROR_PREFIX)) {
    const kind = KINDS[name.slice(ERROR_PREFIX.length)];
    return kind ? `${kind()}: ${text}` : text;
  }
  if (/ServiceUnknown|NameHasNoOwner|NoReply|Disconnected/.test(name)) {
    return _("The image service (imgcreated) is not running: start it with “systemctl start imgcreated” and try again.");
  }
  if (/AccessDenied/.test(name)) return `${_("Not allowed")}: ${text}`;
  return text;
}

/** The sentence for a job that ended without success (Completed's error name and message). */
export function jobFailure(errorName: string, message: string): string {
  return sentence(new Error(errorName ? `GDBus.Error:${errorName}: ${message}` : message));
}
