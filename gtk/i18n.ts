// Translatable strings: every sentence the window shows goes through _() (gettext domain "imgcreate").
import Gettext from "gettext";

export const DOMAIN = "imgcreate";
Gettext.bindtextdomain(DOMAIN, "/usr/share/locale");

export function _(msgid: string): string {
  return Gettext.dgettext(DOMAIN, msgid);
}

/** A translated template with %s filled in order ("State: %s"). */
export function _f(msgid: string, ...args: (string | number)[]): string {
  let i = 0;
  return _(msgid).replace(/%s/g, () => String(args[i++] ?? ""));
}
