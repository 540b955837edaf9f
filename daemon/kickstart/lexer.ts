// POSIX shell-like word splitting, as Python's shlex.split (posix=True) does it, which is what
// kickstart uses for every command line and section header.
// - whitespace separates words; '...' is literal; "..." allows \" and \\ escapes only;
// - outside quotes a backslash escapes the next character;
// - with comments on, '#' outside quotes ends the line, even in the middle of a word (shlex does this).
// Kickstart has no line continuation: a trailing backslash is an error, as in shlex.

export type SplitResult = { ok: true; words: string[] } | { ok: false; message: string };

const WHITESPACE = new Set([" ", "\t", "\r", "\n", "\f", "\v"]);

export function shlexSplit(line: string, comments: boolean): SplitResult {
  const words: string[] = [];
  let word = "";
  let inWord = false; // a word has started (possibly empty, e.g. "")
  let i = 0;
  const n = line.length;
  while (i < n) {
    const ch = line[i]!;
    if (WHITESPACE.has(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (comments && ch === "#") {
      break;
    } else if (ch === "\\") {
      if (i + 1 >= n) return { ok: false, message: "a backslash at the end of the line escapes nothing (kickstart has no line continuation)" };
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { ok: false, message: "no closing quotation: the ' opened here is never closed on this line" };
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      const r = readDoubleQuoted(line, i + 1);
      if (r === undefined) return { ok: false, message: 'no closing quotation: the " opened here is never closed on this line' };
      word += r.text;
      inWord = true;
      i = r.next;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}

/** Reads a "..." body starting after the opening quote; only \" and \\ are escapes inside. */
function readDoubleQuoted(line: string, start: number): { text: string; next: number } | undefined {
  let text = "";
  let i = start;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '"') return { text, next: i + 1 };
    if (ch === "\\" && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === "\\")) {
      text += line[i + 1];
      i += 2;
      continue;
    }
    text += ch;
    i++;
  }
  return undefined;
}

/** Quotes a word so shlexSplit gives it back unchanged (used by flatten for values with spaces etc.). */
export function shellQuote(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_@%+=:,./^$&?*!~{}\[\]<>|;()-]+$/.test(word)) return word;
  if (!word.includes("'")) return `'${word}'`;
  return `"${word.replace(/(["\\])/g, "\\$1")}"`;
}
