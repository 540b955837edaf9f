// Service speed, side by side in one run (node --import tsx bench/service-calls.ts [N]):
//  - D-Bus calls as alice: authorized (polkit, cached per caller+action) vs an unauthorized property read
//  - JSON-RPC calls as alice on the socket: sequential and 16 in flight
//  - progress latency: a job's StartTime (daemon clock) to the Job.Progress notification's arrival
//  - idle RSS of the daemon, and the time from spawn to owning the bus name
// Uses the test harness (private bus, real polkitd, real users); BENCH_USER=root calls as root (polkit skipped).
// Prints numbers and ratios; asserts nothing.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { startHarness, PROJECT_ROOT, BUS_NAME } from "../test/helpers/harness.js";

const N = Number(process.argv[2] ?? 3000);
const DIST = join(PROJECT_ROOT, "dist/daemon/main.js");

const CLIENT = `
import { createRequire } from "node:module";
import net from "node:net";
const require = createRequire(${JSON.stringify(join(PROJECT_ROOT, "package.json"))});
const dbus = require("dbus-next");
const [mode, n, sock] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const B = "org.imgcreate.ImageCreator1", P = "/org/imgcreate/ImageCreator1";
const out = {};
if (mode === "dbus") {
  const bus = dbus.systemBus();
  const call = (iface, member, signature = "", body = []) => bus.call(new dbus.Message({ destination: B, path: P, interface: iface, member, signature, body }));
  for (const [name, f] of [["authorized", () => call(B + ".Manager", "ListSessions")], ["property", () => call("org.freedesktop.DBus.Properties", "Get", "ss", [B + ".Manager", "Version"])]]) {
    await f();
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await f();
    out[name] = n / (Number(process.hrtime.bigint() - t) / 1e9);
  }
  bus.disconnect();
} else {
  const s = net.connect(sock);
  await new Promise((r) => s.once("connect", r));
  let buf = "", waiters = new Map(), id = 0, notes = [];
  s.on("data", (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf("\\n")) >= 0) {
      const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
      if (m.id !== undefined) { waiters.get(m.id)(m); waiters.delete(m.id); } else notes.push({ m, t: Date.now() });
    }
  });
  const rpc = (method, params = {}) => new Promise((r) => { const k = id++; waiters.set(k, r); s.write(JSON.stringify({ jsonrpc: "2.0", id: k, method, params }) + "\\n"); });
  await rpc("Manager.GetProperties");
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await rpc("Manager.GetProperties");
  out.sequential = n / (Number(process.hrtime.bigint() - t) / 1e9);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: 16 }, () => rpc("Manager.GetProperties")));
  out.inflight16 = n / (Number(process.hrtime.bigint() - t) / 1e9);
  // progress latency: StartTime of a Mount job (daemon clock, µs) to the arrival of its "running" Job.Progress
  const lat = [];
  for (let k = 0; k < 3; k++) {
    const sess = (await rpc("Manager.CreateSession", { kickstart: process.env.KS })).result;
    notes = [];
    const job = (await rpc("Session.Mount", { session: sess })).result;
    while (!notes.some((x) => x.m.method === "Job.Completed")) await new Promise((r) => setTimeout(r, 20));
    const start = (await rpc("Job.GetProperties", { job })).result.StartTime / 1000;
    const first = notes.find((x) => x.m.method === "Job.Progress" && x.m.params.status === "running");
    lat.push(first.t - start);
    await rpc("Session.Close", { session: sess });
  }
  out.progressLatencyMs = lat;
  s.destroy();
}
console.log(JSON.stringify(out));
`;

const KS = "lang C.UTF-8\nkeyboard us\ntimezone UTC\npart / --size=64 --fstype=ext4\n%addon org_imgcreate --variant=minbase\n%end\n%packages\n%end\n";

async function ownedAfterSpawn(h: Awaited<ReturnType<typeof startHarness>>): Promise<{ ms: number; rssMiB: number }> {
  const entry = existsSync(DIST) ? [DIST] : ["--import", "tsx", join(PROJECT_ROOT, "daemon/main.ts")];
  const bus = dbus.systemBus();
  const owner = async (): Promise<boolean> => {
    const r = await bus.call(new dbus.Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "NameHasOwner", signature: "s", body: [BUS_NAME] }));
    return r?.body[0] === true;
  };
  const t0 = performance.now();
  const child = spawn(process.execPath, [...entry, "--bus", "system", "--socket", h.socketPath, "--state-dir", h.stateDir, "--cache-dir", h.cacheDir], {
    env: h.env,
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  while (!(await owner())) await new Promise((r) => setTimeout(r, 2));
  const ms = performance.now() - t0;
  bus.disconnect();
  await new Promise((r) => setTimeout(r, 3000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return { ms, rssMiB: rss };
}

const h = await startHarness({ daemon: false });
try {
  process.env.DBUS_SYSTEM_BUS_ADDRESS = h.busAddress;
  const start = await ownedAfterSpawn(h);
  await h.startDaemon();
  const script = join(h.dir, "bench-client.mjs");
  writeFileSync(script, CLIENT, { mode: 0o644 });
  const run = async (mode: string) => {
    const r = await h.runAs(process.env.BENCH_USER ?? "alice", process.execPath, [script, mode, String(N), h.socketPath], { env: { KS }, timeoutMs: 600_000 });
    if (r.exitCode !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Record<string, number & number[]>;
  };
  const d = await run("dbus");
  const j = await run("jsonrpc");
  const f = (x: number) => x.toFixed(0).padStart(7);
  console.log(`calls (N=${N}, sequential unless noted)`);
  console.log(`  D-Bus authorized (ListSessions)  ${f(d.authorized)}/s   target >= 1000/s`);
  console.log(`  D-Bus property Get (no polkit)   ${f(d.property)}/s   authorized/property = ${(d.authorized / d.property).toFixed(2)}`);
  console.log(`  JSON-RPC authorized              ${f(j.sequential)}/s   target >= 5000/s   JSON-RPC/D-Bus = ${(j.sequential / d.authorized).toFixed(2)}`);
  console.log(`  JSON-RPC, 16 in flight           ${f(j.inflight16)}/s   /sequential = ${(j.inflight16 / j.sequential).toFixed(2)}`);
  console.log(`progress latency (job start -> client), ms: ${j.progressLatencyMs.map((x: number) => x.toFixed(1)).join(", ")}   target <= 100`);
  console.log(`bus name owned after spawn: ${start.ms.toFixed(0)} ms (${existsSync(DIST) ? "dist" : "tsx"})   target <= 300`);
  console.log(`idle RSS: ${start.rssMiB.toFixed(1)} MiB   target <= 80`);
} finally {
  await h.stop();
}
