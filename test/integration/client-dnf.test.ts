// A Fedora-style build through the daemon, as alice would run it: a kickstart whose repositories are
// RPM repositories (made here with rpmbuild and createrepo_c; file://, world-readable, root-owned),
// one of them signed and trusted through --repo-key (the client reads the key file as alice and sends
// it as text). The daemon picks the dnf backend from the kickstart, installs in the sandbox,
// configures and packages; the image is alice's. A kickstart mixing apt and dnf repositories is
// refused before any session exists, at the line to change.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import type { LocalRpmRepo } from "../helpers/local-rpm-repo.js";
import { testRpmRepos } from "../helpers/rpm-fixtures.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { imgcreateAs, jsonLines, userDir, writeUserFile } from "./client-cli.js";

let h: Harness;
let home = "";
let repos = "";
let signed: LocalRpmRepo | undefined;

before(async () => {
  repos = await makeTmp("dnf-repos");
  await chmod(repos, 0o755);
  signed = await testRpmRepos(repos);
  h = await startHarness({ daemon: true });
  home = userDir(h, "alice", "alice-dnf");
  writeUserFile(join(home, "signed.asc"), signed.key!);
  writeUserFile(join(home, "fedora-like.ks"), [
    "part / --size=256",
    `repo --name=local --baseurl=file://${join(repos, "repo")}`,
    `repo --name=signed --baseurl=file://${join(repos, "signed")}`,
    "%addon org_imgcreate --backend=dnf --repo-key=signed:signed.asc",
    "%end",
    "%packages --excludedocs",
    "@tools",
    "tapp",
    "tsigned",
    "%end",
  ].join("\n") + "\n");
  writeUserFile(join(home, "mixed.ks"), [
    "part / --size=256",
    "repo --name=fedora --mirrorlist=https://mirrors.example.invalid/metalink?repo=fedora-$releasever",
    "%addon org_imgcreate --suite=bookworm",
    "%end",
    "%packages",
    "%end",
  ].join("\n") + "\n");
});

after(async () => {
  await h?.stop({ assertNoLeaks: true });
  signed?.close();
  if (repos) await removeTmp(repos);
});

test("alice builds a loop image from RPM repositories: dnf picked from the kickstart, every stage, the image hers", { timeout: 600_000 }, async () => {
  const out = userDir(h, "alice", "out-dnf");
  const r = await imgcreateAs(h, "alice", ["--json", "build", "--type", "loop", "--name", "fedoralike", "-o", out, "fedora-like.ks"], home, 600_000);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout.slice(-3000));
  const ev = jsonLines(r.stdout);
  assert.deepEqual(ev.filter((e) => e["event"] === "stage-end").map((e) => [e["stage"], e["success"]]),
    [["mount", true], ["install", true], ["configure", true], ["unmount", true], ["package", true]]);
  const said = ev.filter((e) => e["event"] === "progress" || e["event"] === "log").map((e) => String(e["message"] ?? e["line"]));
  assert.ok(said.some((m) => /tapp-1\.0-1/.test(m)), `progress or log names the packages: ${said.join(" | ")}`);
  const image = join(out, "fedoralike.img");
  assert.equal(statSync(image).uid, h.users.alice.uid, "the image belongs to alice");
  // What is inside, read from the image file itself (debugfs reads ext4 without mounting it).
  const ls = (path: string) => execFileSync("debugfs", ["-R", `ls -p ${path}`, image], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  assert.match(ls("/usr/share"), /\/ttool\//, "the group's mandatory package");
  assert.match(ls("/usr/share"), /\/tsigned\//, "the signed package");
  assert.doesNotMatch(ls("/usr/share"), /\/topt\//, "not the group's optional one");
});

test("a kickstart mixing a dnf repository with apt settings is refused at its line before any session exists (exit 2)", async () => {
  const r = await imgcreateAs(h, "alice", ["build", "--type", "loop", "mixed.ks"], home);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stderr, /mixed\.ks:2: .*repo "fedora" has --mirrorlist.*needs dnf, but this kickstart builds with apt/);
  const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
  assert.deepEqual(jsonLines(list.stdout), []);
});
