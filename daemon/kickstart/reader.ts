// Line source for the parser: a stack of files, so %include splices another file's lines in place
// while every line keeps its real file and line number.

import * as path from "./posix-path.js";

export type ReadFile = (absPath: string) => string | undefined;

export interface SourceLine {
  text: string;
  /** Text including its line terminator (script bodies keep it). */
  raw: string;
  file: string;
  line: number;
  /** Depth of the file in the include stack (0 = the root file). */
  depth: number;
}

interface Frame {
  abs: string;
  display: string;
  lines: string[];
  next: number;
}

export type ReaderEvent = { kind: "line"; line: SourceLine } | { kind: "eof"; file: string; depth: number } | { kind: "done" };

/** Splits text into lines keeping each terminator, like Python's splitlines(True) for \n, \r\n, \r. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  const re = /\r\n|\n|\r/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(text.slice(last, m.index + m[0].length));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export class LineReader {
  private frames: Frame[] = [];

  constructor(private readonly cwd: string) {}

  /** Absolute path for a name as written, against cwd. */
  absolute(p: string): string {
    return path.resolve(this.cwd, p);
  }

  /** How a file is shown in messages: relative to cwd when below it, else absolute. */
  display(abs: string): string {
    // Relative to cwd unless that climbs more than two directories up.
    const rel = path.relative(this.cwd, abs);
    return rel !== "" && !rel.startsWith("../../../") ? rel : abs;
  }

  push(abs: string, text: string): void {
    this.frames.push({ abs, display: this.display(abs), lines: splitLines(text), next: 0 });
  }

  get depth(): number {
    return this.frames.length - 1;
  }

  /** The include chain, outermost first (absolute paths). */
  chain(): string[] {
    return this.frames.map((f) => f.abs);
  }

  currentAbs(): string | undefined {
    return this.frames[this.frames.length - 1]?.abs;
  }

  next(): ReaderEvent {
    const top = this.frames[this.frames.length - 1];
    if (!top) return { kind: "done" };
    if (top.next >= top.lines.length) {
      this.frames.pop();
      return { kind: "eof", file: top.display, depth: this.frames.length };
    }
    const raw = top.lines[top.next]!;
    top.next++;
    const text = raw.replace(/(\r\n|\n|\r)$/, "");
    return { kind: "line", line: { text, raw, file: top.display, line: top.next, depth: this.frames.length - 1 } };
  }

  /**
   * Candidate paths for a file named in the file `fromAbs` (`%include name`, a key file in an %addon
   * header): relative to cwd first, then to that file's directory.
   */
  candidatesFrom(name: string, fromAbs: string | undefined): string[] {
    const first = path.resolve(this.cwd, name);
    const second = fromAbs ? path.resolve(path.dirname(fromAbs), name) : first;
    return first === second ? [first] : [first, second];
  }
}
