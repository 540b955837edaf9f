// A Debian package's files for a test, fetched once with apt-get download (from the host's own apt
// sources) and unpacked into a cache directory: the test VM's kernel and busybox, the rpm tests' shell.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const run = (argv: string[], cwd?: string): string => execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd, stdio: ["ignore", "pipe", "pipe"] });

/** Downloads (once) and unpacks a Debian package into dir/<name>; returns that directory. */
export function debianPackage(cacheDir: string, pkg: string): string {
  const dest = join(cacheDir, pkg);
  if (existsSync(join(dest, ".complete"))) return dest;
  rmSync(dest, { recursive: true, force: true });
  const dl = join(cacheDir, "download");
  rmSync(dl, { recursive: true, force: true });
  mkdirSync(dl, { recursive: true });
  // apt runs its download as _apt: the directory must let it write there.
  chmodSync(dl, 0o777);
  run(["apt-get", "download", "-q", pkg], dl);
  const deb = readdirSync(dl).find((f) => f.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
  run(["dpkg-deb", "-x", join(dl, deb), dest]);
  rmSync(dl, { recursive: true, force: true });
  writeFileSync(join(dest, ".complete"), deb + "\n");
  return dest;
}

