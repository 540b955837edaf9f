// GJS and the GObject libraries the app imports as gi://... (types only: nothing here is emitted).
import "@girs/gjs";
import "@girs/gjs/dom";
import "@girs/gtk-4.0/ambient";
import "@girs/adw-1/ambient";
import "@girs/gio-2.0/ambient";
import "@girs/glib-2.0/ambient";
import "@girs/gobject-2.0/ambient";
