// The host's own apt sources, read when a test runs (a mirror's name is never written into the project).
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The host's Debian archive for its own codename, read from its apt sources when the test runs (never written down). */
export function hostDebianUri(codename: string): string {
  const dir = "/etc/apt/sources.list.d";
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".sources"))) {
    for (const stanza of readFileSync(join(dir, f), "utf8").split(/\n\s*\n/)) {
      const suites = /^Suites:\s*(.*)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && suites.includes(codename)) return uri;
    }
  }
  const list = existsSync("/etc/apt/sources.list") ? readFileSync("/etc/apt/sources.list", "utf8") : "";
  const m = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${codename}\\s`, "m").exec(list);
  assert.ok(m, `the host has no apt source for ${codename}`);
  return m[1]!;
}

