// A user's own apt repository for tests: pool/ with small .debs made by dpkg-deb, their index, and
// InRelease signed with a key made for the test. World-readable and root-owned, as repo-access.ts wants.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface DebSpec {
  name: string;
  version: string;
  /** Files the package holds, path (no leading /) → content. */
  files: Record<string, string>;
}

export interface LocalDebRepo {
  dir: string;
  /** The armored public key that signs it (what a --repo-key file holds). */
  key: string;
  /** Re-writes pool, index and InRelease with these packages (a repository update). */
  publish(debs: DebSpec[]): Promise<void>;
  /** Stops the gpg-agent the signing started. */
  close(): void;
}

export async function localDebRepo(dir: string, scratch: string, codename: string): Promise<LocalDebRepo> {
  const gnupg = join(scratch, "gnupg");
  execFileSync("mkdir", ["-p", "-m", "700", gnupg]);
  const gpg = (...a: string[]) => execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...a], { encoding: "utf8" });
  gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "imgcreate test <t@example.invalid>", "ed25519", "sign", "never");
  const publish = async (debs: DebSpec[]) => {
    await rm(join(dir, "pool"), { recursive: true, force: true });
    await mkdir(join(dir, "pool"), { recursive: true });
    let index = "";
    for (const d of debs) index += await buildDeb(d, dir, scratch);
    const dists = join(dir, "dists", codename);
    await mkdir(join(dists, "main/binary-amd64"), { recursive: true });
    await writeFile(join(dists, "main/binary-amd64/Packages"), index);
    await writeFile(
      join(dists, "Release"),
      `Suite: ${codename}\nCodename: ${codename}\nComponents: main\nArchitectures: amd64\nDate: ${new Date().toUTCString()}\n` +
        `SHA256:\n ${createHash("sha256").update(index).digest("hex")} ${Buffer.byteLength(index)} main/binary-amd64/Packages\n`,
    );
    gpg("--yes", "--clearsign", "-o", join(dists, "InRelease"), join(dists, "Release"));
    execFileSync("chmod", ["-R", "a+rX,go-w", dir]);
  };
  return {
    dir,
    key: gpg("--armor", "--export"),
    publish,
    close: () => execFileSync("gpgconf", ["--homedir", gnupg, "--kill", "gpg-agent"], { stdio: "ignore" }),
  };
}

/** Builds one .deb into <repo>/pool and returns its stanza of the Packages index. */
async function buildDeb(d: DebSpec, repo: string, scratch: string): Promise<string> {
  const pkg = join(scratch, `pkg-${d.name}`);
  await rm(pkg, { recursive: true, force: true });
  await mkdir(join(pkg, "DEBIAN"), { recursive: true });
  for (const [path, content] of Object.entries(d.files)) {
    await mkdir(join(pkg, path, ".."), { recursive: true });
    await writeFile(join(pkg, path), content);
  }
  const control = `Package: ${d.name}\nVersion: ${d.version}\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n`;
  await writeFile(join(pkg, "DEBIAN/control"), control);
  const file = `pool/${d.name}_${d.version}_all.deb`;
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", pkg, join(repo, file)], { stdio: "ignore" });
  const bytes = await readFile(join(repo, file));
  return control.replace("Description: test\n", "") + `Filename: ${file}\nSize: ${bytes.length}\nSHA256: ${createHash("sha256").update(bytes).digest("hex")}\nDescription: test\n\n`;
}
