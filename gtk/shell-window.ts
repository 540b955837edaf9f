// A shell inside a session's install root: the pty master the daemon's OpenShell returned, in a VTE
// terminal. Closing the window closes the pty, which hangs the shell up; the shell ending closes it.
import Gtk from "gi://Gtk?version=4.0";
import Adw from "gi://Adw?version=1";
import Vte from "gi://Vte?version=3.91";
import { _f } from "./i18n.js";

export const SHELL_ROWS = 24;
export const SHELL_COLS = 80;

export function openShellWindow(parent: Gtk.Window, sessionName: string, ptyFd: number): Adw.Window {
  const terminal = new Vte.Terminal({ hexpand: true, vexpand: true });
  terminal.set_size(SHELL_COLS, SHELL_ROWS);
  terminal.set_pty(Vte.Pty.new_foreign_sync(ptyFd, null));
  const window = new Adw.Window({ transient_for: parent, title: _f("Shell in %s", sessionName), default_width: 760, default_height: 480 });
  const box = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL });
  box.append(new Adw.HeaderBar());
  box.append(terminal);
  window.set_content(box);
  terminal.connect("eof", () => window.close());
  window.present();
  terminal.grab_focus();
  return window;
}
