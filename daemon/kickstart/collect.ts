// Every file a parse reads, keyed by the absolute path the parser asks for. The client reads them as
// the calling user and sends the map; the daemon parses with a reader over it and never opens a file.

import { parseKickstart } from "./parser.js";
import type { ReadFile } from "./reader.js";

export function collectIncludes(path: string, opts: { readFile: ReadFile; cwd?: string; version?: string }): Record<string, string> {
  return parseKickstart(path, opts).files;
}

/** A reader over such a map (for the daemon). */
export function mapReader(files: Record<string, string>): ReadFile {
  return (p) => (Object.prototype.hasOwnProperty.call(files, p) ? files[p] : undefined);
}
