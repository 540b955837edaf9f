// What configure steps may do to the install root: run a command inside the sandbox, read and write
// files through it (so a symlink in the image can never redirect a write to the host), and log.
import { run, type RunResult } from "../system/exec.js";
import type { Sandbox } from "../system/sandbox.js";
import type { Journal } from "../journal.js";
import type { LogPriority } from "../types.js";

export class RootOps {
  constructor(
    readonly sandbox: Sandbox,
    /** The install root's host path (INSTALL_ROOT of --nochroot scripts). */
    readonly root: string,
    private readonly logLine: (priority: LogPriority, line: string) => void,
    private readonly signal?: AbortSignal,
    /** When given, every process started in the root is journaled while it runs. */
    readonly journal?: Journal,
  ) {}

  log(priority: LogPriority, line: string): void {
    this.logLine(priority, line);
  }

  run(argv: string[], opts: { input?: string; okCodes?: number[] } = {}): Promise<RunResult> {
    const go = (onSpawn?: (pid: number) => void) =>
      this.sandbox.run({ view: "chroot" }, argv, {
        ...opts,
        ...(this.signal ? { signal: this.signal } : {}),
        ...(onSpawn ? { onSpawn } : {}),
        onLine: (l) => this.logLine("debug", l),
      });
    return this.journal ? this.journal.trackProcess(argv, go) : go();
  }

  /** Runs a shell snippet in the root; extra args are $1.. (never interpolated into the script). */
  sh(script: string, args: string[] = [], opts: { input?: string; okCodes?: number[] } = {}): Promise<RunResult> {
    return this.run(["/bin/sh", "-c", script, "sh", ...args], opts);
  }

  write(path: string, content: string, mode = "0644"): Promise<void> {
    return this.sandbox.writeFile(path, content, mode);
  }

  read(path: string): Promise<string | undefined> {
    return this.sandbox.readFile(path);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.sh('[ -e "$1" ] || [ -L "$1" ]', [path], { okCodes: [1] })).exitCode === 0;
  }

  /** Does the image have this program on its PATH? */
  async has(program: string): Promise<boolean> {
    return (await this.sh('command -v "$1" >/dev/null', [program], { okCodes: [1, 127] })).exitCode === 0;
  }

  /**
   * systemctl in offline mode (it edits unit symlinks without a running systemd): the image's own in
   * the sandbox if it has one, else the host's with --root (which resolves every path inside the root).
   */
  async systemctl(args: string[]): Promise<RunResult> {
    if (await this.has("systemctl")) return this.run(["systemctl", ...args]);
    return run(["systemctl", `--root=${this.root}`, ...args], {
      ...(this.signal ? { signal: this.signal } : {}),
      onLine: (l) => this.logLine("debug", l),
    });
  }
}
