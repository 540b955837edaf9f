// The few parts of VTE for GTK 4 (gir1.2-vte-3.91, "Vte 3.91") the shell window uses: no npm package
// of its types matches Debian 12's VTE 0.70, and these are all the app needs.
declare module "gi://Vte?version=3.91" {
  import type Gtk from "gi://Gtk?version=4.0";
  import type Gio from "gi://Gio";

  namespace Vte {
    class Pty {
      /** Takes the pty master fd (it is closed with the Pty). */
      static new_foreign_sync(fd: number, cancellable: Gio.Cancellable | null): Pty;
    }
    class Terminal extends Gtk.Widget {
      constructor(props?: Partial<Gtk.Widget.ConstructorProps>);
      set_pty(pty: Pty | null): void;
      set_size(columns: number, rows: number): void;
    }
  }
  export default Vte;
}
