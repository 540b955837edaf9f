// The JSON-RPC transport's way of knowing who calls, end to end with real parts: alice (a real
// unprivileged user, via runuser) connects to a Unix socket with python3; the server side reads her
// pid, uid and gid with SO_PEERCRED, builds polkit's unix-process subject with the start time, and
// a real polkitd answers for her — and refuses bob on the same path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { getPeerCredentials, processStartTime, type PeerCredentials } from "../../daemon/auth/peercred.js";

const PY = "/usr/bin/python3";
// Connects, sends its own pid, then waits until the server closes (so the pid stays valid meanwhile).
const CLIENT = `import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(("%d %d %d\\n" % (os.getpid(), os.getuid(), os.getgid())).encode())
s.recv(1)`;

let h: Harness;
let server: net.Server;
let path: string;
const open = new Set<net.Socket>();
before(async () => {
  h = await startHarness();
  path = join(h.dir, "peercred.sock");
  server = net.createServer((s) => {
    open.add(s);
    s.once("close", () => open.delete(s));
  });
  server.listen(path);
  await once(server, "listening");
  chmodSync(path, 0o666); // connect() needs write permission on the socket file
});
after(async () => {
  for (const s of open) s.destroy(); // close() waits for every connection to end
  await new Promise((r) => server?.close(r));
  await h?.stop({ assertNoLeaks: true });
});

interface Seen {
  cred: PeerCredentials;
  /** What the client said about itself: "pid uid gid". */
  claimed: number[];
  startTime: bigint;
  authorized: string;
}

/** Runs the python client as `user`; while it is connected, reads its credentials and asks polkit. */
async function connectAs(user: string): Promise<Seen> {
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const client = h.runAs(user, PY, ["-c", CLIENT, path]);
  const [socket] = await accepted;
  try {
    const cred = getPeerCredentials(socket);
    const [line] = (await once(socket, "data")) as [Buffer];
    const startTime = processStartTime(cred.pid);
    const subject = ["unix-process", "3", "pid", "u", String(cred.pid), "start-time", "t", String(startTime), "uid", "i", String(cred.uid)];
    const r = await h.run("busctl", ["--system", "call", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
      "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us", ...subject, "org.imgcreate.build", "0", "0", ""]);
    assert.equal(r.exitCode, 0, r.stderr);
    return { cred, claimed: line.toString().trim().split(" ").map(Number), startTime, authorized: r.stdout.trim() };
  } finally {
    socket.end();
    const done = await client;
    assert.equal(done.exitCode, 0, done.stderr);
  }
}

test("SO_PEERCRED gives alice's pid, uid and gid for her connection", async () => {
  const seen = await connectAs("alice");
  assert.deepEqual([seen.cred.pid, seen.cred.uid, seen.cred.gid], seen.claimed);
  assert.equal(seen.cred.uid, h.users.alice.uid);
  assert.equal(seen.cred.gid, h.users.alice.gid);
  assert.notEqual(seen.cred.uid, 0);
});

test("polkit authorizes alice's connection for org.imgcreate.build from its peer credentials", async () => {
  const seen = await connectAs("alice");
  assert.match(seen.authorized, /^\(bba\{ss\}\) true false/);
});

test("the same path refuses bob", async () => {
  const seen = await connectAs("bob");
  assert.equal(seen.cred.uid, h.users.bob.uid);
  assert.match(seen.authorized, /^\(bba\{ss\}\) false/);
});

test("a wrong start time (a recycled pid) is not authorized even for alice", async () => {
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const client = h.runAs("alice", PY, ["-c", CLIENT, path]);
  const [socket] = await accepted;
  try {
    const cred = getPeerCredentials(socket);
    const subject = ["unix-process", "3", "pid", "u", String(cred.pid), "start-time", "t", String(processStartTime(cred.pid) - 1n), "uid", "i", String(cred.uid)];
    const r = await h.run("busctl", ["--system", "call", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
      "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us", ...subject, "org.imgcreate.build", "0", "0", ""]);
    // polkitd either errors out or answers "not authorized"; it must never say yes.
    assert.doesNotMatch(r.stdout, /^\(bba\{ss\}\) true/);
  } finally {
    socket.resume(); // an unread stream never sees the client's EOF, so it would never close
    socket.end();
    await client;
  }
});
