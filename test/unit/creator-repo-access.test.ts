// Which local (file://) repositories the daemon reads as root: every user can read all of it, only
// root can change it or any directory above it; anything else is refused naming the path and the fix.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmod, chown, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { localRepoDir, localRepoProblem } from "../../daemon/creator/packages/repo-access.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const asRoot = { skip: process.getuid?.() !== 0 ? "needs root: the rule is about root-owned trees" : false };
const tmps: string[] = [];
after(async () => {
  for (const t of tmps) await removeTmp(t);
});

/** A repository at <tmp>/repo as apt reads it, all root-owned, dirs 0755, files 0644; <tmp> itself 0755. */
async function repo(): Promise<string> {
  const top = await makeTmp("repo-access");
  tmps.push(top);
  await chmod(top, 0o755);
  const dir = join(top, "repo");
  await mkdir(join(dir, "dists", "bookworm", "main", "binary-amd64"), { recursive: true, mode: 0o755 });
  await mkdir(join(dir, "pool"), { mode: 0o755 });
  await writeFile(join(dir, "dists", "bookworm", "InRelease"), "x", { mode: 0o644 });
  await writeFile(join(dir, "pool", "a_1_all.deb"), "x", { mode: 0o644 });
  return dir;
}

test("URIs: http(s) are not local, file:/copy: give their directory, other apt methods and hosts are refused", () => {
  assert.deepEqual(localRepoDir("https://repo.example.invalid/debian"), {});
  assert.deepEqual(localRepoDir("file:///srv/my%20repo/"), { dir: "/srv/my repo" });
  assert.deepEqual(localRepoDir("file:/srv/repo"), { dir: "/srv/repo" });
  assert.deepEqual(localRepoDir("copy:/srv/repo"), { dir: "/srv/repo" });
  assert.match(localRepoDir("mirror+file:/etc/apt/mirrors.txt").refused!, /apt method "mirror\+file:" is not allowed here/);
  assert.match(localRepoDir("file://otherhost/srv").refused!, /names a host/);
  assert.match(localRepoDir("not a url").refused!, /is not a URL/);
});

test("a root-owned, world-readable repository below a searchable path passes", asRoot, async () => {
  const dir = await repo();
  await symlink("bookworm", join(dir, "dists", "stable")); // as mirrors have: stays inside
  assert.equal(await localRepoProblem(dir), undefined);
});

test("a repository in a 0700 directory is refused at that directory, with the chmod that fixes it", asRoot, async () => {
  const dir = await repo();
  await chmod(dir, 0o700);
  assert.deepEqual(await localRepoProblem(dir), { path: dir, why: "is mode 0700: not readable by every user", fix: `chmod a+rX ${dir}` });
});

test("a directory above it that others cannot search is refused there", asRoot, async () => {
  const dir = await repo();
  const top = join(dir, "..");
  await chmod(top, 0o750);
  assert.deepEqual(await localRepoProblem(dir), { path: top, why: "is mode 0750: not searchable by every user", fix: `chmod a+x ${top}` });
});

test("an unreadable file, a user's file, a group-writable dir or a link outside are refused by path", asRoot, async () => {
  const dir = await repo();
  const inrelease = join(dir, "dists", "bookworm", "InRelease");
  await chmod(inrelease, 0o600);
  assert.equal((await localRepoProblem(dir))?.path, inrelease);
  await chmod(inrelease, 0o644);
  await chown(inrelease, 1000, 1000);
  assert.deepEqual(await localRepoProblem(dir), { path: inrelease, why: "is owned by uid 1000, not root", fix: `chown root: ${inrelease}` });
  await chown(inrelease, 0, 0);
  await chmod(join(dir, "pool"), 0o775);
  assert.match((await localRepoProblem(dir))!.why, /mode 0775: writable by users other than root/);
  await chmod(join(dir, "pool"), 0o755);
  await symlink("/etc/shadow", join(dir, "pool", "b_1_all.deb"));
  assert.match((await localRepoProblem(dir))!.why, /symbolic link to \/etc\/shadow, outside the repository/);
});

test("the repository itself as a symlink, or a missing one, is refused", asRoot, async () => {
  const dir = await repo();
  await symlink(dir, dir + "-link");
  assert.equal((await localRepoProblem(dir + "-link"))?.why, "is a symbolic link");
  assert.equal((await localRepoProblem(dir + "-none"))?.why, "does not exist");
});

test("a sticky, world-writable directory above (/tmp) is fine: others cannot move a root-owned entry in it", asRoot, async () => {
  const dir = await repo();
  await chmod(join(dir, ".."), 0o1777);
  assert.equal(await localRepoProblem(dir), undefined);
});
