// The real-world kickstart corpus, ../shared/kickstarts (used in place, never copied): where it is, its
// manifest (pykickstart 3.74's verdicts, generated there), and a reader; tests skip when it is absent.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root (the directory with package.json), from the compiled test file. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
}

export const CORPUS = path.resolve(repoRoot(), "..", "shared", "kickstarts");
export const corpusSkip: false | string = existsSync(path.join(CORPUS, "_expected", "manifest.json")) ? false : "../shared/kickstarts is absent";

export interface CorpusEntry {
  repo: string;
  root: string;
  version: string;
  ok: boolean;
  error?: string;
  lineno?: number;
  warnings?: string[];
  flattened?: string;
  summary?: { repos: string[]; part: [string, number, string][]; packages: number; groups: number; env: string | null; excluded: number; scripts: [string, number][] };
}

export const corpusManifest: CorpusEntry[] = corpusSkip ? [] : (JSON.parse(readFileSync(path.join(CORPUS, "_expected", "manifest.json"), "utf8")) as CorpusEntry[]);

/** A kickstart reader over the real file system (undefined for a file that cannot be read). */
export function readCorpusFile(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}
