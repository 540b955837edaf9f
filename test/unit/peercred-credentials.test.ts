// getPeerCredentials and processStartTime, the two facts the JSON-RPC transport hands to polkit:
// who connected (as the kernel saw it at connect()) and since when that process has been running.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTmp, removeTmp } from "../helpers/tmp.js";
import { getPeerCredentials, processStartTime } from "../../daemon/auth/peercred.js";
import { ImgcreateError } from "../../daemon/errors.js";

let tmp: string;
let n = 0;
before(async () => {
  tmp = await makeTmp("peercred");
});
after(async () => {
  await removeTmp(tmp);
});

/** A Unix socket server in tmp; resolves with the server side of the first connection `connect` makes. */
async function acceptOne<T>(connect: (path: string) => T): Promise<{ server: net.Server; socket: net.Socket; client: T }> {
  const path = join(tmp, `s${n++}.sock`);
  const server = net.createServer();
  server.listen(path);
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const client = connect(path);
  const [socket] = await accepted;
  return { server, socket, client };
}

async function close(server: net.Server, ...sockets: net.Socket[]): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
}

async function reap(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
}

test("a client in this process is seen with this process's pid, uid and gid", async () => {
  const { server, socket, client } = await acceptOne((p) => net.connect(p));
  try {
    assert.deepEqual(getPeerCredentials(socket), { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  } finally {
    await close(server, socket, client);
  }
});

test("a client in another process is seen with that process's pid", async () => {
  const { server, socket, client } = await acceptOne((p) =>
    spawn(process.execPath, ["-e", `require("net").connect(${JSON.stringify(p)}); setTimeout(() => {}, 30000)`], { stdio: "ignore" }),
  );
  try {
    assert.equal(getPeerCredentials(socket).pid, client.pid);
  } finally {
    await close(server, socket);
    await reap(client);
  }
});

test("a TCP connection is refused as unidentifiable rather than answered with a made-up caller", async () => {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const [socket] = await accepted;
  try {
    assert.throws(() => getPeerCredentials(socket), (e: unknown) => e instanceof ImgcreateError && e.code === "Failed" && /not a local Unix socket/.test(e.message));
  } finally {
    await close(server, socket, client);
  }
});

test("a closed connection is refused with a sentence, not a crash", async () => {
  const { server, socket, client } = await acceptOne((p) => net.connect(p));
  socket.destroy();
  try {
    assert.throws(() => getPeerCredentials(socket), (e: unknown) => e instanceof ImgcreateError && /closed/.test(e.message));
  } finally {
    await close(server, client);
  }
});

test("processStartTime is in clock ticks since boot, like polkit's start-time", async () => {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const start = Number(processStartTime(child.pid!));
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    // USER_HZ is 100 on Linux: a process started just now started `uptime` seconds after boot.
    assert.ok(Math.abs(start / 100 - uptime) < 5, `start ${start} ticks vs uptime ${uptime} s`);
    assert.ok(processStartTime(process.pid) <= processStartTime(child.pid!));
  } finally {
    await reap(child);
  }
});

test("processStartTime reads past a command name with spaces and parentheses", async () => {
  const weird = join(tmp, "a) b (c");
  copyFileSync("/bin/sleep", weird);
  chmodSync(weird, 0o755);
  const child = spawn(weird, ["30"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 50)); // until exec has replaced the comm name
    assert.match(readFileSync(`/proc/${child.pid}/stat`, "utf8"), /\(a\) b \(c\)/);
    const naive = Number(readFileSync(`/proc/${child.pid}/stat`, "utf8").split(" ")[21]);
    const real = Number(processStartTime(child.pid!));
    assert.notEqual(naive, real, "a naive split would read the wrong field");
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    assert.ok(Math.abs(real / 100 - uptime) < 5, `start ${real} ticks vs uptime ${uptime} s`);
  } finally {
    await reap(child);
  }
});

test("a process that is gone cannot be authorized", async () => {
  const child = spawn("true", [], { stdio: "ignore" });
  await once(child, "exit");
  assert.throws(() => processStartTime(child.pid!), (e: unknown) => e instanceof ImgcreateError && e.code === "NotAuthorized");
});
