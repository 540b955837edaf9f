// A package from the user's own signed repository, served by file:// from a world-readable,
// root-owned directory, installed into a real image next to Debian: the repository is checked and
// bound into the build's sandbox, apt trusts it through its --repo-key alone, and the image's own
// sources keep that key for that repository. Install only (no configure or package): under a minute warm.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { hostCodename } from "../../daemon/creator/packages/apt-sources.js";
import { hostDebianUri } from "../helpers/host-apt.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES } from "./fixtures/engine-kickstart.js";

let tmp = "";
let gnupg = "";
let creator: LoopImageCreator | undefined;
before(async () => {
  tmp = await makeTmp("local-repo");
  await chmod(tmp, 0o755);
});
after(async () => {
  await creator?.cleanup();
  if (gnupg) execFileSync("gpgconf", ["--homedir", gnupg, "--kill", "gpg-agent"], { stdio: "ignore" });
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

/** pool/ with one .deb holding a marker file, its index, and InRelease signed with a fresh key; returns the armored key. */
async function signedRepo(repo: string, codename: string): Promise<string> {
  const pkg = join(tmp, "pkg");
  await mkdir(join(pkg, "DEBIAN"), { recursive: true });
  await mkdir(join(pkg, "usr/share/imgcreate-hello"), { recursive: true });
  await writeFile(join(pkg, "usr/share/imgcreate-hello/hello"), "from the user's repository\n");
  await writeFile(join(pkg, "DEBIAN/control"), "Package: imgcreate-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n");
  await mkdir(join(repo, "pool"), { recursive: true });
  const deb = join(repo, "pool/imgcreate-hello_1.0_all.deb");
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", pkg, deb], { stdio: "ignore" });
  const debBytes = await readFile(deb);
  const index = `Package: imgcreate-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.invalid>\n` +
    `Filename: pool/imgcreate-hello_1.0_all.deb\nSize: ${debBytes.length}\nSHA256: ${createHash("sha256").update(debBytes).digest("hex")}\nDescription: test\n\n`;
  const dists = join(repo, "dists", codename);
  await mkdir(join(dists, "main/binary-amd64"), { recursive: true });
  await writeFile(join(dists, "main/binary-amd64/Packages"), index);
  await writeFile(join(dists, "Release"), `Suite: ${codename}\nCodename: ${codename}\nComponents: main\nArchitectures: amd64\nDate: ${new Date().toUTCString()}\n` +
    `SHA256:\n ${createHash("sha256").update(index).digest("hex")} ${Buffer.byteLength(index)} main/binary-amd64/Packages\n`);
  gnupg = join(tmp, "gnupg");
  execFileSync("mkdir", ["-m", "700", gnupg]);
  const gpg = (...a: string[]) => execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...a], { encoding: "utf8" });
  gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "imgcreate test <t@example.invalid>", "ed25519", "sign", "never");
  gpg("--yes", "--clearsign", "-o", join(dists, "InRelease"), join(dists, "Release"));
  execFileSync("chmod", ["-R", "a+rX,go-w", repo]);
  return gpg("--armor", "--export");
}

test("a package from a file:// repository trusted by its --repo-key installs next to Debian", { timeout: 15 * 60_000 }, async () => {
  const codename = await hostCodename();
  const repo = join(tmp, "repo");
  const key = await signedRepo(repo, codename);
  const ksPath = join(FIXTURES, "engine-minimal.ks");
  const keyPath = join(tmp, "mine.asc"); // as the client would send it: the daemon never opens it
  const text = `repo --name=debian --baseurl=${hostDebianUri(codename)}\nrepo --name=mine --baseurl=file://${repo}\n` +
    readFileSync(ksPath, "utf8")
      .replace("%addon org_imgcreate --variant=minbase", `%addon org_imgcreate --variant=minbase --repo-key=mine:${keyPath}`)
      .replace("%packages --excludedocs\n", "%packages --excludedocs\nimgcreate-hello\n");
  const { model, diagnostics } = parseKickstart(ksPath, { readFile: mapReader({ [ksPath]: text, [keyPath]: key }), cwd: FIXTURES });
  assert.deepEqual(diagnostics.filter((d) => d.severity === "error"), []);

  creator = new LoopImageCreator(model, "local-repo", { workDir: join(tmp, "work") });
  await creator.mount();
  await creator.install();
  const root = creator.instroot;
  assert.equal(readFileSync(join(root, "usr/share/imgcreate-hello/hello"), "utf8"), "from the user's repository\n");
  // The image's own sources keep trusting that key for that repository: it is embedded in them.
  const sources = readdirSync(join(root, "etc/apt/sources.list.d")).map((f) => readFileSync(join(root, "etc/apt/sources.list.d", f), "utf8")).join("\n");
  const keyBody = key.trim().split("\n").find((l) => l.length > 40)!;
  assert.match(sources, new RegExp(`URIs: file://${repo}\n(?:.*\n)*?Signed-By:\n(?: .*\n)*? ${keyBody.replace(/[+/]/g, "\\$&")}\n`), sources);
  await creator.unmount();
});
