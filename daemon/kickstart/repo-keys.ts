// `%addon org_imgcreate --repo-key=REPO:FILE`: a signing key trusted for one repository and nothing
// else. FILE is read through the parser's reader exactly like an %include, so the client reads it as
// the user and sends its text with the includes; the daemon never opens the path.

import type { KickstartModel, RepoKey } from "./model.js";
import type { DiagnosticSink } from "./diagnostics.js";

/** Reads a file named in the kickstart (as %include does): its text and absolute path, or the paths tried. */
export type NamedFileReader = (name: string) => { abs: string; text: string } | { tried: string[] };

const BEGIN = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const END = "-----END PGP PUBLIC KEY BLOCK-----";

/**
 * One ASCII-armored public key block (it may hold several keys). Binary keyrings cannot be taken:
 * kickstart files travel as text (D-Bus strings are UTF-8), which would corrupt their bytes.
 */
export function isArmoredPublicKey(text: string): boolean {
  const t = text.trim();
  return t.startsWith(BEGIN) && t.endsWith(END) && t.indexOf(BEGIN, 1) < 0;
}

const EXPORT_HINT =
  "export it as one ASCII-armored block: `gpg --armor --export KEYID > repo-key.asc` " +
  "(from a binary keyring: `gpg --no-default-keyring --keyring ./KEYRING.gpg --armor --export > repo-key.asc`)";

/** `REPO:FILE` from a --repo-key option or a `repo-key = REPO:FILE` line, with the key's text. */
export function readRepoKey(value: string, file: string, line: number, read: NamedFileReader, sink: DiagnosticSink): RepoKey | undefined {
  const colon = value.indexOf(":");
  const repo = colon > 0 ? value.slice(0, colon) : "";
  const path = colon > 0 ? value.slice(colon + 1) : "";
  if (repo === "" || path === "") {
    sink.error(file, line, `--repo-key needs REPO:FILE (a repo --name and its key file), not '${value}'`);
    return undefined;
  }
  const got = read(path);
  if ("tried" in got) {
    sink.error(file, line, `cannot read the key file ${path} for repo "${repo}": looked for ${got.tried.join(" or ")}`);
    return undefined;
  }
  if (!isArmoredPublicKey(got.text)) {
    sink.error(file, line, `key file ${path} for repo "${repo}" is not an ASCII-armored OpenPGP public key (${BEGIN}); ${EXPORT_HINT}`);
    return undefined;
  }
  return { repo, path, key: got.text, file, line };
}

/** Every key must name a repo of the kickstart, once (checked after all repo commands are read). */
export function checkRepoKeys(m: KickstartModel, sink: DiagnosticSink): void {
  const names = m.repos.map((r) => r.name);
  const first = new Map<string, RepoKey>();
  for (const k of m.imgcreate.repoKeys ?? []) {
    if (!names.includes(k.repo)) {
      const known = names.length ? `; its repositories are ${names.join(", ")}` : "";
      sink.error(k.file, k.line, `--repo-key names repository "${k.repo}", but the kickstart has no \`repo --name=${k.repo}\`${known}`);
      continue;
    }
    const earlier = first.get(k.repo);
    if (earlier) {
      sink.error(k.file, k.line,
        `repository "${k.repo}" already has a key (${earlier.file}:${earlier.line}); put all its keys in one file: \`gpg --armor --export KEY1 KEY2\``);
    } else first.set(k.repo, k);
  }
}
