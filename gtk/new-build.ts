// New build: a kickstart (read and checked here, errors at FILE:LINE), the image type, its name and the
// folder the artifacts go to; then a session is created and run stage by stage or all at once.
import Gtk from "gi://Gtk?version=4.0";
import GLib from "gi://GLib";
import { readKickstart, type ReadKickstart } from "./kickstart.js";
import { _, _f } from "./i18n.js";

export interface NewBuildRequest {
  ks: ReadKickstart;
  name: string;
  type: "live" | "loop";
  destdir: string;
  runAll: boolean;
}

export class NewBuildWindow {
  readonly window: Gtk.Window;
  private ks: ReadKickstart | undefined;
  private destdir = GLib.get_home_dir();
  private readonly ksLabel = new Gtk.Label({ xalign: 0, label: _("No kickstart chosen"), wrap: true });
  private readonly problems = new Gtk.Label({ xalign: 0, wrap: true, selectable: true, css_classes: ["error"] });
  private readonly name = new Gtk.Entry();
  private readonly live = new Gtk.ToggleButton({ label: _("Live ISO"), active: true });
  private readonly loop = new Gtk.ToggleButton({ label: _("Disk image") });
  private readonly destLabel = new Gtk.Label({ xalign: 0 });
  private readonly create = new Gtk.Button({ label: _("Create session") });
  private readonly build = new Gtk.Button({ label: _("Build"), css_classes: ["suggested-action"] });
  readonly error = new Gtk.Label({ xalign: 0, wrap: true, selectable: true, css_classes: ["error"] });

  constructor(parent: Gtk.Window, private readonly submit: (r: NewBuildRequest) => Promise<void>) {
    this.window = new Gtk.Window({ title: _("New build"), transient_for: parent, modal: true, default_width: 560 });
    const grid = new Gtk.Grid({ row_spacing: 8, column_spacing: 12, margin_top: 12, margin_bottom: 12, margin_start: 12, margin_end: 12 });
    const label = (text: string, widget: Gtk.Widget) => {
      const l = new Gtk.Label({ label: text, xalign: 1, mnemonic_widget: widget });
      return l;
    };
    const chooseKs = new Gtk.Button({ label: _("Choose kickstart…") });
    chooseKs.connect("clicked", () => this.chooseKickstart());
    const chooseDest = new Gtk.Button({ label: _("Choose folder…") });
    chooseDest.connect("clicked", () => this.chooseFolder());
    this.loop.set_group(this.live);
    const types = new Gtk.Box({ spacing: 0, css_classes: ["linked"] });
    types.append(this.live);
    types.append(this.loop);
    grid.attach(label(_("Kickstart"), chooseKs), 0, 0, 1, 1);
    grid.attach(this.ksLabel, 1, 0, 1, 1);
    grid.attach(chooseKs, 2, 0, 1, 1);
    grid.attach(this.problems, 1, 1, 2, 1);
    grid.attach(label(_("Image name"), this.name), 0, 2, 1, 1);
    grid.attach(this.name, 1, 2, 2, 1);
    grid.attach(label(_("Type"), types), 0, 3, 1, 1);
    grid.attach(types, 1, 3, 2, 1);
    grid.attach(label(_("Output folder"), chooseDest), 0, 4, 1, 1);
    grid.attach(this.destLabel, 1, 4, 1, 1);
    grid.attach(chooseDest, 2, 4, 1, 1);
    grid.attach(this.error, 0, 5, 3, 1);
    const buttons = new Gtk.Box({ spacing: 6, halign: Gtk.Align.END });
    buttons.append(this.create);
    buttons.append(this.build);
    grid.attach(buttons, 0, 6, 3, 1);
    this.window.set_child(grid);
    this.create.connect("clicked", () => void this.go(false));
    this.build.connect("clicked", () => void this.go(true));
    this.setDest(this.destdir);
    this.refresh();
  }

  /** Reads and checks the kickstart; its folder becomes the output folder, its base name the image name. */
  open(path: string): void {
    this.ks = readKickstart(path);
    this.ksLabel.set_label(this.ks.path);
    this.problems.set_label(this.ks.errors.length ? _f("This kickstart has errors; fix them and choose it again:\n%s", this.ks.errors.join("\n")) : "");
    this.name.set_text(this.ks.name);
    this.setDest(this.ks.where.cwd);
    this.refresh();
  }

  private setDest(dir: string): void {
    this.destdir = dir;
    this.destLabel.set_label(dir);
  }

  private refresh(): void {
    const ok = this.ks !== undefined && this.ks.errors.length === 0;
    this.create.set_sensitive(ok);
    this.build.set_sensitive(ok);
    this.problems.set_visible(this.problems.get_label() !== "");
    this.error.set_visible(this.error.get_label() !== "");
  }

  private chooseKickstart(): void {
    const chooser = new Gtk.FileChooserNative({ title: _("Choose a kickstart"), transient_for: this.window, action: Gtk.FileChooserAction.OPEN });
    const filter = new Gtk.FileFilter({ name: _("Kickstart files") });
    for (const p of ["*.ks", "*.cfg"]) filter.add_pattern(p);
    chooser.add_filter(filter);
    chooser.connect("response", (_c, response: number) => {
      const path = chooser.get_file()?.get_path();
      if (response === Gtk.ResponseType.ACCEPT && path) this.open(path);
      chooser.destroy();
    });
    chooser.show();
  }

  private chooseFolder(): void {
    const chooser = new Gtk.FileChooserNative({ title: _("Choose the output folder"), transient_for: this.window, action: Gtk.FileChooserAction.SELECT_FOLDER });
    chooser.connect("response", (_c, response: number) => {
      const path = chooser.get_file()?.get_path();
      if (response === Gtk.ResponseType.ACCEPT && path) this.setDest(path);
      chooser.destroy();
    });
    chooser.show();
  }

  private async go(runAll: boolean): Promise<void> {
    if (!this.ks) return;
    this.error.set_label("");
    this.create.set_sensitive(false);
    this.build.set_sensitive(false);
    try {
      await this.submit({ ks: this.ks, name: this.name.get_text(), type: this.loop.get_active() ? "loop" : "live", destdir: this.destdir, runAll });
      this.window.close();
    } catch (err) {
      this.error.set_label(String(err instanceof Error ? err.message : err));
    } finally {
      this.refresh();
    }
  }
}
