// Reads a kickstart and every %include through Gio with the user's own rights (the daemon never
// opens a path a caller names) and checks it with the parser the daemon uses, as the CLI does.
import Gio from "gi://Gio";
import GLib from "gi://GLib";
import { parseKickstart, formatDiagnostic } from "../daemon/kickstart/index.js";
import { defaultName } from "../daemon/kickstart/image-name.js";

export interface ReadKickstart {
  path: string;
  text: string;
  /** Every file the parse read, keyed as the parser asks for them (absolute paths). */
  includes: Record<string, string>;
  /** Where it was read, so the daemon resolves %include exactly as this parse did. */
  where: { "kickstart-path": string; cwd: string };
  /** FILE:LINE: error: ... lines; empty when the kickstart can be built. */
  errors: string[];
  warnings: string[];
  name: string;
}

function readText(path: string): string | undefined {
  try {
    const [, bytes] = Gio.File.new_for_path(path).load_contents(null);
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

export function readKickstart(path: string): ReadKickstart {
  const abs = Gio.File.new_for_path(path).get_path() ?? path;
  const cwd = GLib.path_get_dirname(abs);
  const name = defaultName(abs);
  const text = readText(abs);
  if (text === undefined) {
    return { path: abs, text: "", includes: {}, where: { "kickstart-path": abs, cwd }, errors: [`${abs}: cannot be read`], warnings: [], name };
  }
  const { diagnostics, files } = parseKickstart(abs, { readFile: readText, cwd });
  return {
    path: abs,
    text,
    includes: { ...files },
    where: { "kickstart-path": abs, cwd },
    errors: diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic),
    warnings: diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic),
    name,
  };
}
