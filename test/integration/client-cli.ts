// Helpers for the client's end-to-end tests: how to run the real `imgcreate` as a test user (from
// source through tsx, or the built bin/), a work directory the user owns, small kickstarts, and a
// private tmux server for the terminal tests (send-keys / capture-pane).
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Harness } from "../helpers/harness.js";
import { PROJECT_ROOT } from "../helpers/harness.js";

const run = promisify(execFile);
const FROM_SOURCE = import.meta.url.endsWith(".ts");

/** argv prefix that starts a program of ours: the compiled bin/ shim, or the TypeScript source through tsx. */
export function ourProgram(name: "imgcreate" | "livecd-creator" | "image-creator"): string[] {
  if (!FROM_SOURCE) return [process.execPath, join(PROJECT_ROOT, "bin", name)];
  const src = name === "imgcreate" ? "client/main.ts" : `client/compat/${name}.ts`;
  return [process.execPath, "--import", import.meta.resolve("tsx"), join(PROJECT_ROOT, src)];
}

/** A directory under the harness dir owned by `user` (its artifacts land there). */
export function userDir(h: Harness, user: "alice" | "bob", name: string): string {
  const d = join(h.dir, name);
  mkdirSync(d, { recursive: true });
  chownSync(d, h.users[user].uid, h.users[user].gid);
  chmodSync(d, 0o755);
  return d;
}

export function writeUserFile(path: string, text: string): string {
  writeFileSync(path, text, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

/** The smallest useful image: minbase from the host's apt sources, a marker from %post, a relative %include. */
export const SMALL_KS = `# minimal loop image for the client tests
%addon org_imgcreate --suite=bookworm --variant=minbase --mirror=host
%end
lang C.UTF-8
%include client-common.ks
rootpw --lock
part / --size 1024 --fstype ext4
%packages
%end
%post
echo client-test-marker > /etc/imgcreate-client-marker
%end
`;

/** Writes SMALL_KS as `name` in dir, with the file it includes next to it. */
export function writeSmallKs(dir: string, name: string, packages: string[] = []): string {
  writeUserFile(join(dir, "client-common.ks"), "# included by the client tests' kickstart\ntimezone UTC --utc\n");
  return writeUserFile(join(dir, name), SMALL_KS.replace("%packages\n%end", ["%packages", ...packages, "%end"].join("\n")));
}

export function imgcreateAs(h: Harness, user: "alice" | "bob", args: string[], cwd: string, timeoutMs = 60_000, input?: string) {
  const [cmd, ...pre] = ourProgram("imgcreate");
  return h.runAs(user, cmd!, [...pre, ...args], { cwd, timeoutMs, input });
}

/** Parses JSON lines, failing with the offending line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

/** A private tmux server (its own socket), so tests never touch a user's tmux. */
export class Tmux {
  constructor(readonly socket: string) {}

  private async tmux(...args: string[]): Promise<string> {
    const r = await run("tmux", ["-S", this.socket, ...args], { encoding: "utf8" });
    return r.stdout;
  }

  /** Starts `argv` as `user` in a new window of the given size; the pane stays after the command ends. */
  async start(name: string, user: string, env: Record<string, string>, cwd: string, argv: string[], size = { cols: 100, rows: 30 }): Promise<void> {
    const quoted = argv.map(shq).join(" ");
    const envs = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(" ");
    // The exit status is printed when the command ends, so the test can read it off the screen.
    const line = `cd ${shq(cwd)} && env ${envs} runuser -u ${user} -- ${quoted}; echo "EXIT:$?"; exec sleep 3600`;
    await this.tmux("new-session", "-d", "-s", name, "-x", String(size.cols), "-y", String(size.rows), "sh", "-c", line);
  }

  async keys(name: string, ...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", name, ...keys);
  }

  /** The visible screen (or the whole history with all = true), trailing blank lines dropped. */
  async capture(name: string, all = false): Promise<string> {
    const out = await this.tmux("capture-pane", "-p", "-t", name, ...(all ? ["-S", "-"] : []));
    return out.replace(/\n+$/, "");
  }

  async resize(name: string, cols: number, rows: number): Promise<void> {
    await this.tmux("resize-window", "-t", name, "-x", String(cols), "-y", String(rows));
  }

  /** Polls the screen until `re` matches; returns the screen. */
  async waitFor(name: string, re: RegExp, timeoutMs: number, all = false): Promise<string> {
    const end = Date.now() + timeoutMs;
    let screen = "";
    while (Date.now() < end) {
      screen = await this.capture(name, all);
      if (re.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${re} on the tmux screen:\n${screen}`);
  }

  /** Ends the tmux server and everything in it. */
  kill(): void {
    try {
      execFileSync("tmux", ["-S", this.socket, "kill-server"], { stdio: "ignore" });
    } catch {
      // not running
    }
  }
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
