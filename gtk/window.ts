// The main window: the caller's sessions (from the daemon's object manager), New build, the selected
// session's log following LogMessage, and every refusal as a sentence where the user acts.
import Gtk from "gi://Gtk?version=4.0";
import Adw from "gi://Adw?version=1";
import GLib from "gi://GLib";
import { Daemon } from "./daemon.js";
import { jobFailure, sentence } from "./errors.js";
import { _ } from "./i18n.js";
import { NewBuildWindow, type NewBuildRequest } from "./new-build.js";
import { SessionRow } from "./session-row.js";
import { openShellWindow, SHELL_COLS, SHELL_ROWS } from "./shell-window.js";

export class MainWindow {
  readonly window: Adw.ApplicationWindow;
  private readonly daemon: Daemon;
  private readonly rows = new Map<string, SessionRow>();
  /** Where each session's artifacts go (chosen in New build; the home folder for older sessions). */
  private readonly destdirs = new Map<string, string>();
  /** Which session each job belongs to (a Completed signal may come after CurrentJob went back to "/"). */
  private readonly jobs = new Map<string, string>();
  private readonly list = new Gtk.ListBox({ selection_mode: Gtk.SelectionMode.SINGLE });
  private readonly empty = new Gtk.Label({ label: _("No sessions yet: start one with New build."), css_classes: ["dim-label"], vexpand: true });
  private readonly error = new Gtk.Label({ xalign: 0, wrap: true, selectable: true, css_classes: ["error"], visible: false });
  private readonly offline = new Gtk.Label({ xalign: 0, wrap: true, visible: false });
  private readonly log = new Gtk.TextView({ editable: false, monospace: true, cursor_visible: false });
  private selected: string | undefined;

  constructor(app: Adw.Application) {
    this.window = new Adw.ApplicationWindow({ application: app, title: _("Image Creator"), default_width: 820, default_height: 720 });
    const header = new Adw.HeaderBar();
    const newBuild = new Gtk.Button({ label: _("New build") });
    newBuild.connect("clicked", () => this.newBuild());
    header.pack_start(newBuild);
    const box = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 6 });
    box.append(header);
    const body = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 8, margin_start: 12, margin_end: 12, margin_bottom: 12 });
    body.append(this.offline);
    body.append(this.error);
    body.append(this.empty);
    body.append(new Gtk.ScrolledWindow({ child: this.list, vexpand: true, min_content_height: 240 }));
    body.append(new Gtk.Label({ label: _("Log"), xalign: 0, css_classes: ["heading"] }));
    body.append(new Gtk.ScrolledWindow({ child: this.log, vexpand: true, min_content_height: 200 }));
    box.append(body);
    this.window.set_content(box);
    this.list.connect("row-selected", (_l, row: Gtk.ListBoxRow | null) => void this.select(row));
    this.daemon = new Daemon({
      changed: () => this.refresh(),
      log: (job, line) => this.onLog(job, line),
      completed: (job, success, name, message) => this.onCompleted(job, success, name, message),
      running: () => this.refresh(),
    });
    this.refresh();
  }

  newBuild(kickstart?: string): void {
    const dialog = new NewBuildWindow(this.window, (r) => this.start(r));
    if (kickstart) dialog.open(kickstart);
    dialog.window.present();
  }

  private async start(r: NewBuildRequest): Promise<void> {
    let path: string;
    try {
      path = await this.daemon.createSession(r.ks.text, r.ks.includes, { name: r.name, type: r.type, ...r.ks.where });
    } catch (err) {
      throw new Error(sentence(err));
    }
    this.destdirs.set(path, r.destdir);
    this.refresh();
    // The new session's log is the one to follow.
    const row = this.rows.get(path);
    if (row) this.list.select_row(row.widget);
    if (r.runAll) this.act(this.daemon.stage(path, "Create", r.destdir));
  }

  /** A call whose refusal (NotAuthorized, Busy, ...) is shown at the top of the window. */
  private act(p: Promise<unknown>): void {
    this.error.set_visible(false);
    p.then(() => this.refresh(), (err: unknown) => {
      this.error.set_label(sentence(err));
      this.error.set_visible(true);
    });
  }

  private refresh(): void {
    const running = this.daemon.isRunning();
    this.offline.set_label(running ? "" : _("The image service (imgcreated) is not running; this window follows it when it starts."));
    this.offline.set_visible(!running);
    const sessions = running ? this.daemon.sessions() : [];
    const seen = new Set<string>();
    for (const s of sessions) {
      seen.add(s.path);
      if (s.currentJob !== "/") this.jobs.set(s.currentJob, s.path);
      let row = this.rows.get(s.path);
      if (!row) {
        const path = s.path;
        const dest = () => this.destdirs.get(path) ?? GLib.get_home_dir();
        row = new SessionRow(path, {
          stage: (m) => this.act(this.daemon.stage(path, m, m === "Package" ? dest() : undefined)),
          runAll: () => this.act(this.daemon.stage(path, "Create", dest())),
          cancel: (job) => this.act(this.daemon.cancel(job)),
          shell: () => this.act(this.daemon.openShell(path, SHELL_ROWS, SHELL_COLS).then((fd) => openShellWindow(this.window, s.name, fd))),
          close: () => this.act(this.daemon.close(path)),
        });
        this.rows.set(path, row);
        this.list.append(row.widget);
        // Back after a daemon restart: follow the session that was selected.
        if (path === this.selected) this.list.select_row(row.widget);
      }
      row.update(s, this.daemon.job(s.currentJob));
    }
    for (const [path, row] of this.rows) {
      if (seen.has(path)) continue;
      this.list.remove(row.widget);
      this.rows.delete(path);
      if (this.selected === path && running) this.selected = undefined;
    }
    this.empty.set_visible(this.rows.size === 0);
  }

  private onLog(job: string, line: string): void {
    const session = this.jobs.get(job);
    if (!session) return;
    this.rows.get(session)?.logLine(line);
    if (session === this.selected) this.appendLog(line);
  }

  private onCompleted(job: string, success: boolean, name: string, message: string): void {
    const session = this.jobs.get(job);
    if (session && !success) this.rows.get(session)?.failed(jobFailure(name, message));
    this.refresh();
  }

  private appendLog(line: string): void {
    const buf = this.log.get_buffer();
    buf.insert(buf.get_end_iter(), line + "\n", -1);
    this.log.scroll_to_mark(buf.get_insert(), 0, false, 0, 0);
  }

  private async select(row: Gtk.ListBoxRow | null): Promise<void> {
    const path = [...this.rows.entries()].find(([, r]) => r.widget === row)?.[0];
    // While the daemon is away its rows go, but the selected session is followed again when it is back.
    if (path === undefined && !this.daemon.isRunning()) return;
    this.selected = path;
    this.log.get_buffer().set_text("", -1);
    if (!path) return;
    try {
      for (const line of await this.daemon.log(path)) this.appendLog(line);
    } catch (err) {
      this.appendLog(sentence(err));
    }
  }
}
