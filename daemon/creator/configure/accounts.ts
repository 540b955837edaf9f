// configure(): accounts — group, user, rootpw, sshkey — with the image's own shadow tools, run in
// the sandbox (passwords go in on stdin, never on a command line).
import { ImgcreateError } from "../../errors.js";
import type { KickstartModel, UserEntry } from "../../kickstart/model.js";
import type { RootOps } from "./root-ops.js";

const NAME = /^[a-z_][a-z0-9_-]*\$?$/;

function checkName(name: string, at: { file: string; line: number }, what: string): void {
  if (!NAME.test(name) || name.length > 32) {
    throw new ImgcreateError("InvalidArgs", `${at.file}:${at.line}: "${name}" is not a valid ${what} name`, { file: at.file, line: at.line });
  }
}

async function groupExists(ops: RootOps, name: string): Promise<boolean> {
  return (await ops.run(["getent", "group", name], { okCodes: [2] })).exitCode === 0;
}

async function setPassword(ops: RootOps, user: string, password: string, crypted: boolean): Promise<void> {
  await ops.run(crypted ? ["chpasswd", "-e"] : ["chpasswd"], { input: `${user}:${password}\n` });
}

export async function applyGroups(ks: KickstartModel, ops: RootOps): Promise<void> {
  for (const g of ks.groups) {
    checkName(g.name, g, "group");
    if (await groupExists(ops, g.name)) continue;
    await ops.run(["groupadd", ...(g.gid !== undefined ? ["-g", String(g.gid)] : []), g.name]);
  }
}

async function addUser(ops: RootOps, u: UserEntry): Promise<void> {
  checkName(u.name, u, "user");
  for (const g of u.groups) {
    checkName(g, u, "group");
    // Kickstart lets `user --groups` name groups that do not exist yet: create them.
    if (!(await groupExists(ops, g))) await ops.run(["groupadd", g]);
  }
  const args = ["useradd", "-m"];
  if (u.uid !== undefined) args.push("-u", String(u.uid));
  if (u.gid !== undefined) args.push("-g", String(u.gid));
  if (u.groups.length) args.push("-G", u.groups.join(","));
  if (u.homedir) args.push("-d", u.homedir);
  args.push("-s", u.shell ?? "/bin/bash");
  if (u.gecos) args.push("-c", u.gecos);
  await ops.run([...args, u.name]);
  if (u.password !== undefined) await setPassword(ops, u.name, u.password, u.iscrypted);
  if (u.lock) await ops.run(["usermod", "-L", u.name]);
}

export async function applyUsers(ks: KickstartModel, ops: RootOps): Promise<void> {
  for (const u of ks.users) await addUser(ops, u);
}

export async function applyRootpw(ks: KickstartModel, ops: RootOps): Promise<void> {
  const r = ks.rootpw;
  if (!r) return;
  if (r.password !== undefined) await setPassword(ops, "root", r.password, r.iscrypted);
  if (r.lock) await ops.run(["usermod", "-L", "root"]);
}

export async function applySshKeys(ks: KickstartModel, ops: RootOps): Promise<void> {
  for (const k of ks.sshkeys) {
    const home = await ops.run(["getent", "passwd", k.username], { okCodes: [2] });
    if (home.exitCode !== 0) {
      throw new ImgcreateError("InvalidArgs", `${k.file}:${k.line}: sshkey for "${k.username}", who is not a user in the image (add a user line first)`, { file: k.file, line: k.line });
    }
    await ops.sh(
      'h=$(getent passwd "$1" | cut -d: -f6); g=$(id -g "$1"); install -d -m 0700 -o "$1" -g "$g" "$h/.ssh" && cat >> "$h/.ssh/authorized_keys" && chown "$1:$g" "$h/.ssh/authorized_keys" && chmod 0600 "$h/.ssh/authorized_keys"',
      [k.username],
      { input: k.key.trim() + "\n" },
    );
  }
}
