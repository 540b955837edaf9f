// imgcreate-gtk: the GNOME frontend of imgcreated. `imgcreate-gtk [KICKSTART]` opens the window (and,
// with a kickstart, New build with it chosen), as a file manager's "Open with" does.
import Adw from "gi://Adw?version=1";
import Gio from "gi://Gio";
import GLib from "gi://GLib";
import System from "system";
import { MainWindow } from "./window.js";

// Named for what it is in accessibility tools and window lists (GJS would call itself "gjs").
GLib.set_prgname("imgcreate-gtk");
const app = new Adw.Application({ application_id: "org.imgcreate.Gtk", flags: Gio.ApplicationFlags.HANDLES_OPEN | Gio.ApplicationFlags.NON_UNIQUE });
let main: MainWindow | undefined;
const window = (): MainWindow => {
  main ??= new MainWindow(app);
  main.window.present();
  return main;
};
app.connect("activate", () => void window());
app.connect("open", (_app, files: Gio.File[]) => {
  const w = window();
  for (const f of files) if (f.get_path()) w.newBuild(f.get_path()!);
});
app.run([System.programInvocationName, ...System.programArgs]);
