// Reads a kickstart and every %include with the user's own rights (the daemon never opens a path a
// caller names), checks it locally with the same parser the daemon uses, and returns the text + map.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ImgcreateError } from "../daemon/errors.js";
import { EXIT } from "./errors.js";
import { parseKickstart, formatDiagnostic, type Diagnostic } from "../daemon/kickstart/index.js";

export interface ReadKickstart {
  path: string;
  /** Where the file was read, for the daemon to resolve includes exactly as this parse did. */
  where: { "kickstart-path": string; cwd: string };
  text: string;
  includes: Record<string, string>;
  warnings: string[];
}

/** A reader over the user's files: undefined for what does not exist or cannot be read. */
function userReader(errors: Map<string, string>): (p: string) => string | undefined {
  return (p) => {
    try {
      return readFileSync(p, "utf8");
    } catch (err) {
      errors.set(p, (err as NodeJS.ErrnoException).code ?? "unreadable");
      return undefined;
    }
  };
}

export function formatDiag(d: Diagnostic): string {
  return formatDiagnostic(d);
}

/** Reads and checks; throws InvalidArgs (exit 2) listing every error as FILE:LINE: error: message. */
export function readKickstart(path: string, version?: string): ReadKickstart {
  const readErrors = new Map<string, string>();
  const read = userReader(readErrors);
  const text = read(path);
  if (text === undefined) {
    const why = readErrors.get(path) === "ENOENT" ? "no such file" : readErrors.get(path) === "EACCES" ? "permission denied" : readErrors.get(path);
    throw new ImgcreateError("InvalidArgs", `cannot read the kickstart ${path}: ${why}`, { exitCode: EXIT.usage });
  }
  const cwd = process.cwd();
  // One parse gives both the check and every file it read (keyed as the parser asks: absolute paths).
  const { diagnostics, files } = parseKickstart(resolve(path), { readFile: read, version, cwd });
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    throw new ImgcreateError("InvalidArgs", `the kickstart has errors; fix them and try again:\n${errors.map((d) => "  " + formatDiag(d)).join("\n")}`, { exitCode: EXIT.usage });
  }
  const includes = { ...files };
  return { path, where: { "kickstart-path": resolve(path), cwd }, text, includes, warnings: diagnostics.filter((d) => d.severity === "warning").map((d) => formatDiag(d)) };
}

export { defaultName } from "../daemon/kickstart/image-name.js";
