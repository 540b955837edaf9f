// The remote root shell: the terminal goes raw, keystrokes (Ctrl-C included) go to the shell, the
// window size follows ours (SIGWINCH), and the command's exit status becomes the client's.
import type { Connection, ShellChannel } from "../connection/types.js";

export interface Terminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

function size(t: Terminal): { rows: number; cols: number } {
  return { rows: t.stdout.rows || 24, cols: t.stdout.columns || 80 };
}

/** Connects a shell channel to the terminal until the command exits; returns its exit status. */
export async function attachShell(ch: ShellChannel, t: Terminal = { stdin: process.stdin, stdout: process.stdout }): Promise<number> {
  const raw = t.stdin.isTTY === true;
  if (raw) t.stdin.setRawMode(true);
  const onResize = () => {
    const s = size(t);
    ch.resize(s.rows, s.cols);
  };
  const onData = (d: Buffer) => ch.input.write(d);
  // Without a terminal, the end of our input is the end of the shell's (Ctrl-D on the pty).
  const onEnd = () => ch.input.write(Buffer.from([4]));
  // Ctrl-C reaches us as a byte in raw mode; when it comes as a signal (no tty), pass it on too.
  const onSigint = () => ch.input.write(Buffer.from([3]));
  t.stdout.on("resize", onResize);
  process.on("SIGWINCH", onResize);
  process.on("SIGINT", onSigint);
  t.stdin.on("data", onData);
  if (!raw) t.stdin.on("end", onEnd);
  t.stdin.resume();
  // Whatever follows the shell (progress, JSON lines) must start on a line of its own.
  let lastByte = 10;
  const onOutput = (d: Buffer) => {
    if (d.length) lastByte = d[d.length - 1]!;
  };
  ch.output.on("data", onOutput);
  ch.output.pipe(t.stdout, { end: false });
  try {
    return await ch.exit;
  } finally {
    ch.output.unpipe(t.stdout);
    ch.output.off("data", onOutput);
    if (lastByte !== 10) t.stdout.write("\r\n");
    t.stdin.off("data", onData);
    t.stdin.off("end", onEnd);
    t.stdout.off("resize", onResize);
    process.off("SIGWINCH", onResize);
    process.off("SIGINT", onSigint);
    if (raw) t.stdin.setRawMode(false);
    t.stdin.pause();
    ch.close();
  }
}

export async function runShell(conn: Connection, id: string, argv: string[], t: Terminal = { stdin: process.stdin, stdout: process.stdout }): Promise<number> {
  const ch = await conn.openShell(id, argv, size(t));
  return attachShell(ch, t);
}
