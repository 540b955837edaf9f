// Real unprivileged users for integration tests. They are created once and kept (no home, no
// password, no user group: harmless), so tests on one machine agree on who is who.
//   alice — member of "imgbuilders": the test rules give her build, shell and run-host-scripts.
//   bob   — nobody special: every imgcreate action is a challenge for him, so he is refused.
//   carol — the test rules give her everything, manage-others included (an operator).
import { execa } from "execa";

export const BUILDERS_GROUP = "imgbuilders";
export type TestUser = "alice" | "bob" | "carol";
export const TEST_USERS: readonly TestUser[] = ["alice", "bob", "carol"];

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
}

/** /etc/passwd writers take their own locks, but two test processes may race between check and add. */
const USERS_LOCK = "/run/lock/imgcreate-test-users.lock";

async function getent(db: "passwd" | "group", name: string): Promise<string[] | undefined> {
  const r = await execa("getent", [db, name], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim().split(":") : undefined;
}

async function locked(cmd: string, args: string[]): Promise<void> {
  await execa("flock", [USERS_LOCK, cmd, ...args]);
}

async function ensureGroup(name: string): Promise<void> {
  // groupadd -f succeeds when the group already exists.
  await locked("groupadd", ["-f", name]);
}

async function ensureUser(name: TestUser): Promise<void> {
  if (!(await getent("passwd", name))) {
    const r = await execa("flock", [USERS_LOCK, "useradd", "-M", "-N", "-s", "/bin/sh", name], { reject: false });
    // Another process may have added it between our check and our useradd: that is fine.
    if (r.exitCode !== 0 && !(await getent("passwd", name))) {
      throw new Error(`useradd ${name} failed: ${r.stderr}`);
    }
  }
  const members = (await getent("group", BUILDERS_GROUP))?.[3]?.split(",") ?? [];
  const shouldBeBuilder = name === "alice";
  if (shouldBeBuilder && !members.includes(name)) await locked("gpasswd", ["-a", name, BUILDERS_GROUP]);
  if (!shouldBeBuilder && members.includes(name)) await locked("gpasswd", ["-d", name, BUILDERS_GROUP]);
}

/** Creates the group and the three users when missing; puts alice (only) in imgbuilders. Needs root. */
export async function ensureTestUsers(): Promise<Record<TestUser, UserInfo>> {
  await ensureGroup(BUILDERS_GROUP);
  for (const u of TEST_USERS) await ensureUser(u);
  const out = {} as Record<TestUser, UserInfo>;
  for (const u of TEST_USERS) out[u] = await userInfo(u);
  return out;
}

export async function userInfo(name: string): Promise<UserInfo> {
  const pw = await getent("passwd", name);
  if (!pw) throw new Error(`no such user: ${name} (call ensureTestUsers() first)`);
  return { name, uid: Number(pw[2]), gid: Number(pw[3]) };
}
