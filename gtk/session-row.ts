// One session in the list: name, type and state, the running job's progress bar, bytes and message,
// the last log line, what it wrote, and the buttons that move it on.
import Gtk from "gi://Gtk?version=4.0";
import GLib from "gi://GLib";
import type { JobView, SessionView } from "./daemon.js";
import { _, _f } from "./i18n.js";

/** The stage that comes next in each state (a kept image is mounted again to change it). */
const NEXT: Record<string, [string, () => string] | undefined> = {
  created: ["Mount", () => _("Mount")],
  failed: ["Mount", () => _("Mount")],
  cancelled: ["Mount", () => _("Mount")],
  interrupted: ["Mount", () => _("Mount")],
  mounted: ["Install", () => _("Install")],
  installed: ["Configure", () => _("Configure")],
  configured: ["Unmount", () => _("Unmount")],
  unmounted: ["Package", () => _("Package")],
  packaged: ["Mount", () => _("Mount")],
};
const RUN_ALL_FROM = new Set(["created", "failed", "cancelled", "interrupted", "packaged"]);
/** Where the daemon opens a shell (OpenShell's states). */
const SHELL_IN = new Set(["installed", "configured"]);

export interface RowActions {
  stage(method: string): void;
  runAll(): void;
  cancel(job: string): void;
  shell(): void;
  close(): void;
}

export class SessionRow {
  readonly widget = new Gtk.ListBoxRow();
  private readonly title = new Gtk.Label({ xalign: 0, css_classes: ["heading"] });
  private readonly state = new Gtk.Label({ xalign: 0 });
  private readonly bar = new Gtk.ProgressBar({ show_text: true });
  private readonly detail = new Gtk.Label({ xalign: 0, ellipsize: 3, css_classes: ["dim-label"] });
  private readonly lastLine = new Gtk.Label({ xalign: 0, ellipsize: 3, css_classes: ["monospace", "dim-label"] });
  private readonly outcome = new Gtk.Label({ xalign: 0, wrap: true, selectable: true });
  private readonly next = new Gtk.Button();
  private readonly runAll = new Gtk.Button({ label: _("Run all stages") });
  private readonly shellButton = new Gtk.Button({ label: _("Open shell") });
  private readonly cancelButton = new Gtk.Button({ label: _("Cancel") });
  private readonly closeButton = new Gtk.Button({ label: _("Close session") });
  private session: SessionView | undefined;
  private job: JobView | undefined;

  constructor(readonly path: string, actions: RowActions) {
    const box = new Gtk.Box({ orientation: Gtk.Orientation.VERTICAL, spacing: 4, margin_top: 8, margin_bottom: 8, margin_start: 8, margin_end: 8 });
    const buttons = new Gtk.Box({ spacing: 6 });
    for (const b of [this.next, this.runAll, this.shellButton, this.cancelButton, this.closeButton]) buttons.append(b);
    for (const w of [this.title, this.state, this.bar, this.detail, this.lastLine, this.outcome, buttons]) box.append(w);
    this.widget.set_child(box);
    this.next.connect("clicked", () => this.session && NEXT[this.session.state] && actions.stage(NEXT[this.session.state]![0]));
    this.runAll.connect("clicked", () => actions.runAll());
    this.shellButton.connect("clicked", () => actions.shell());
    this.cancelButton.connect("clicked", () => this.job && actions.cancel(this.job.path));
    this.closeButton.connect("clicked", () => actions.close());
  }

  update(s: SessionView, job: JobView | undefined): void {
    this.session = s;
    this.job = job;
    this.title.set_label(`${s.name} (${s.type})`);
    const running = job !== undefined && (job.status === "running" || job.status === "queued");
    this.state.set_label(running ? _f("State: %s — %s running", s.state, job!.operation) : _f("State: %s", s.state));
    if (job) {
      this.bar.set_fraction(job.progressValid ? Math.max(0, Math.min(1, job.progress)) : 0);
      this.bar.set_text(job.progressValid ? `${Math.round(job.progress * 100)} %` : _("waiting"));
      this.detail.set_label(job.bytes > 0 ? `${job.message} · ${GLib.format_size(job.bytes)}` : job.message);
    }
    this.bar.set_visible(running);
    const next = NEXT[s.state];
    this.next.set_visible(!running && next !== undefined);
    if (next) this.next.set_label(next[1]());
    this.runAll.set_visible(!running && RUN_ALL_FROM.has(s.state));
    this.shellButton.set_visible(!running && SHELL_IN.has(s.state));
    this.cancelButton.set_visible(running);
    if (s.artifacts.length > 0) this.outcome.set_label(_f("Written: %s", s.artifacts.join(", ")));
  }

  logLine(line: string): void {
    this.lastLine.set_label(line);
  }

  /** How the last job ended, when it did not succeed (a sentence). */
  failed(text: string): void {
    this.outcome.set_label(text);
  }
}
