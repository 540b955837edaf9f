// A pty master received over D-Bus (Session.OpenShell → h), as a ShellChannel. Reading goes through a
// tty stream (libuv polls it, as node-pty does); the window size is set on the master with node-pty's
// native resize, since Node itself cannot issue TIOCSWINSZ.
import { createRequire } from "node:module";
import { write } from "node:fs";
import tty from "node:tty";
import { Writable } from "node:stream";
import type { ShellChannel } from "./types.js";
import { ExitMarkerFilter } from "./exit-marker.js";

interface PtyNative {
  resize(fd: number, cols: number, rows: number): void;
}

let native: PtyNative | undefined;
function ptyNative(): PtyNative {
  if (!native) {
    const require = createRequire(import.meta.url);
    const utils = require("node-pty/lib/utils.js") as { loadNativeModule(name: string): { module: PtyNative } };
    native = utils.loadNativeModule("pty").module;
  }
  return native;
}

/** Writes to a non-blocking fd, retrying when the pty's buffer is full. */
function fdWriter(fd: number): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const attempt = (off: number): void => {
        write(fd, chunk, off, chunk.length - off, null, (err, n) => {
          if (err && (err as NodeJS.ErrnoException).code === "EAGAIN") return void setTimeout(() => attempt(off), 5);
          if (err) return done((err as NodeJS.ErrnoException).code === "EIO" ? null : err);
          if (off + n < chunk.length) return attempt(off + n);
          done();
        });
      };
      attempt(0);
    },
  });
}

/**
 * Wraps a pty master fd. The exit status comes from the daemon when it reports one (`status`), else from
 * the marker the wrapped command prints (exit-marker.ts); with neither, the shell was hung up: 129.
 */
export function openPtyChannel(fd: number, status: Promise<number | undefined>): ShellChannel {
  const reader = new tty.ReadStream(fd);
  const output = new ExitMarkerFilter();
  let closed = false;
  const ended = new Promise<void>((resolve) => {
    reader.on("data", (d: Buffer) => output.write(d));
    // A pty master reads EIO once the last slave holder is gone: that is the end, not a failure.
    reader.on("error", () => resolve());
    reader.on("end", () => resolve());
    reader.on("close", () => resolve());
  });
  const exit = ended.then(async () => {
    output.end();
    const marked = await output.status;
    if (marked !== undefined) return marked;
    // The daemon's report may come just after the pty closes; wait a moment for it.
    const s = await Promise.race([status, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
    return s ?? 129;
  });
  return {
    input: fdWriter(fd),
    output,
    exit,
    resize(rows: number, cols: number) {
      if (closed || rows <= 0 || cols <= 0) return;
      try {
        ptyNative().resize(fd, cols, rows);
      } catch {
        // the pty is gone; the exit promise tells the rest
      }
    },
    close() {
      if (closed) return;
      closed = true;
      // Destroying the tty stream closes the fd itself (closing it again could hit a reused number).
      reader.destroy();
    },
  };
}
