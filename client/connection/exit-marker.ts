// The exit status of a command run on a pty received over D-Bus. OpenShell hands over only the pty
// master, and a pty carries bytes, not statuses; so the command is wrapped in a tiny sh script that prints
// its status as a private OSC escape sequence (terminals ignore unknown OSCs) just before exiting, and the
// client takes that sequence out of the output stream. Used only when the daemon sends no status itself.
import { Transform, type TransformCallback } from "node:stream";

const OSC_START = "\x1b]7771;imgcreate-exit=";
const OSC_END = "\x07";

/** argv that runs `argv` (or a login shell) and reports its status on the pty at the end. */
export function wrapWithExitMarker(argv: string[]): string[] {
  const cmd = argv.length ? argv : ["/bin/sh", "-l"];
  // `trap :` (not `trap ''`) so Ctrl-C still reaches the command, which gets default handlers, while the
  // wrapper survives it to report the status (130).
  return ["/bin/sh", "-c", `trap : INT QUIT; "$@"; s=$?; printf '\\033]7771;imgcreate-exit=%d\\007' "$s"; exit "$s"`, "sh", ...cmd];
}

/** Passes output through, minus the marker; `status` resolves with it (undefined when the stream ends without one). */
export class ExitMarkerFilter extends Transform {
  private held = "";
  private found: number | undefined;
  readonly status: Promise<number | undefined>;
  private settle!: (s: number | undefined) => void;

  constructor() {
    super();
    this.status = new Promise((r) => (this.settle = r));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    // latin1 keeps every byte as one char, so slicing never splits a UTF-8 sequence we pass on.
    let s = this.held + chunk.toString("latin1");
    this.held = "";
    for (;;) {
      const i = s.indexOf(OSC_START);
      if (i < 0) break;
      const end = s.indexOf(OSC_END, i + OSC_START.length);
      if (end < 0) {
        this.held = s.slice(i);
        s = s.slice(0, i);
        break;
      }
      const n = Number(s.slice(i + OSC_START.length, end));
      if (Number.isInteger(n)) this.found = n;
      s = s.slice(0, i) + s.slice(end + 1);
    }
    // A marker may be cut between two reads: hold back a tail that could be its beginning.
    const tail = partialPrefix(s);
    if (tail > 0) {
      this.held = s.slice(s.length - tail) + this.held;
      s = s.slice(0, s.length - tail);
    }
    if (s) this.push(Buffer.from(s, "latin1"));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.held) this.push(Buffer.from(this.held, "latin1"));
    this.held = "";
    this.settle(this.found);
    done();
  }
}

/** Length of the longest suffix of s that is a proper prefix of the marker. */
function partialPrefix(s: string): number {
  for (let n = Math.min(OSC_START.length - 1, s.length); n > 0; n--) if (OSC_START.startsWith(s.slice(s.length - n))) return n;
  return 0;
}
