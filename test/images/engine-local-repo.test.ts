// A package from the user's own signed repository, served by file:// from a world-readable,
// root-owned directory, installed into a real image next to Debian: the repository is checked and
// bound into the build's sandbox, apt trusts it through its --repo-key alone, and the image's own
// sources keep that key for that repository. Install only (no configure or package): under a minute warm.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { LoopImageCreator } from "../../daemon/creator/index.js";
import { hostCodename } from "../../daemon/creator/packages/apt-sources.js";
import { hostDebianUri } from "../helpers/host-apt.js";
import { localDebRepo } from "../helpers/local-deb-repo.js";
import { parseKickstart, mapReader } from "../../daemon/kickstart/index.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { FIXTURES } from "./fixtures/engine-kickstart.js";

let tmp = "";
let closeRepo: (() => void) | undefined;
let creator: LoopImageCreator | undefined;
before(async () => {
  tmp = await makeTmp("local-repo");
  await chmod(tmp, 0o755);
});
after(async () => {
  await creator?.cleanup();
  closeRepo?.();
  await removeTmp(tmp);
  assertNoLeaks({ tmp: false });
});

test("a package from a file:// repository trusted by its --repo-key installs next to Debian", { timeout: 15 * 60_000 }, async () => {
  const codename = await hostCodename();
  const repo = join(tmp, "repo");
  const local = await localDebRepo(repo, tmp, codename);
  closeRepo = local.close;
  await local.publish([{ name: "imgcreate-hello", version: "1.0", files: { "usr/share/imgcreate-hello/hello": "from the user's repository\n" } }]);
  const key = local.key;
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
  assert.ok(!existsSync(join(root, repo)), "no empty mount point of the local repository is left in the image");
  assert.ok(existsSync(join(root, repo.split("/")[1]!)), "but the top-level directory it was under stays");
  await creator.unmount();
});
