// The sandbox itself, on a plain directory root with the host view (host programs, no image needed):
// its root is an unprivileged host uid, files still get their real owners on disk, it has no network
// but loopback, or with --network=outbound the outside but never this host; its limits stop a fork
// bomb, a memory hog and a script that runs too long with a sentence naming the limit, while this
// process (the daemon's place) keeps working. Nothing is left.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Journal } from "../../daemon/creator/journal.js";
import { DEFAULT_LIMITS, Sandbox } from "../../daemon/creator/system/sandbox.js";
import { hostCodename } from "../../daemon/creator/packages/apt-sources.js";
import { hostDebianUri } from "../helpers/host-apt.js";
import { assertNoLeaks } from "../helpers/leaks.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

const asRoot = { skip: process.getuid?.() !== 0 ? "needs root" : false };

describe("the sandbox", asRoot, () => {
  let tmp: string;
  let root: string;
  let journal: Journal;
  let sb: Sandbox;
  const limits = { tasks: 64, memoryBytes: 96 * 2 ** 20, scriptTimeoutMs: 60_000 };

  before(async () => {
    tmp = await makeTmp("sandbox");
    const workDir = join(tmp, "work");
    root = join(workDir, "root");
    await mkdir(root, { recursive: true });
    journal = new Journal(workDir);
    sb = await Sandbox.open({ root, workDir, runDir: "/run/imgcreated", journal, limits });
  });

  after(async () => {
    await sb?.close().catch(() => undefined);
    await journal?.releaseAll().catch(() => undefined);
    await removeTmp(tmp);
    assertNoLeaks();
  });

  const sh = (script: string, o: { timeoutMs?: number } = {}) => sb.run({ view: "host" }, ["/bin/sh", "-c", script], { okCodes: [1, 2], ...o });

  it("its root is uid 0 inside and an unprivileged range outside; /proc/sys is not the host's to write", async () => {
    const r = await sh('id -u; cat /proc/self/uid_map; echo x > /proc/sys/kernel/core_pattern 2>/dev/null && echo WROTE || echo refused');
    const [uid, map, sysctl] = r.stdout.trim().split("\n");
    assert.equal(uid, "0");
    assert.deepEqual(map!.trim().split(/\s+/).map(Number), [0, sb.ids.base, 65536]);
    assert.ok(sb.ids.base >= 0x7000_0000);
    assert.equal(sysctl, "refused");
    assert.notEqual(readFileSync("/proc/sys/kernel/core_pattern", "utf8").trim(), "x");
  });

  it("files made inside keep the sandbox's ids on disk (idmapped root), not the host range", async () => {
    await sh(`touch ${root}/by-root && touch ${root}/by-user && chown 1000:1000 ${root}/by-user`);
    assert.equal(statSync(join(root, "by-root")).uid, 0);
    assert.equal(statSync(join(root, "by-user")).uid, 1000);
    assert.equal(statSync(join(root, "by-user")).gid, 1000);
  });

  it("it has loopback only, no host network", async () => {
    const r = await sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '");
    assert.deepEqual(r.stdout.trim().split("\n"), ["lo"]);
  });

  describe("with --network=outbound", () => {
    let server: Server;
    let port = 0;
    let hits = 0;
    before(async () => {
      server = createServer((_q, r) => {
        hits++;
        r.end("host service\n");
      });
      await new Promise<void>((ok) => server.listen(0, "0.0.0.0", ok));
      port = (server.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((ok) => server.close(() => ok())));

    const net = (script: string) => sb.run({ view: "host", network: "outbound" }, ["/bin/bash", "-c", script], { okCodes: [1] });
    const probe = (addr: string) => `timeout 5 bash -c 'exec 3<>/dev/tcp/${addr}/${port}' 2>/dev/null && echo OPEN || echo closed`;

    it("it gets a tap device with a default route", async () => {
      const r = await net("cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' ' | sort; grep -c '^tap0[[:space:]]*00000000' /proc/net/route");
      assert.deepEqual(r.stdout.trim().split("\n"), ["lo", "tap0", "1"]);
    });

    it("it cannot reach this host: not its loopback, not the user-mode gateway to it, not its own addresses", async () => {
      const own = Object.values(networkInterfaces()).flat().filter((i) => i && i.family === "IPv4" && !i.internal).map((i) => i!.address);
      const targets = ["127.0.0.1", "10.0.2.2", ...own];
      const r = await net(targets.map(probe).join("; "));
      assert.deepEqual(r.stdout.trim().split("\n"), targets.map(() => "closed"), `targets ${targets.join(", ")}`);
      assert.equal(hits, 0, "the host's service saw no request");
    });

    it("it reaches the outside: the host's own Debian archive answers", async () => {
      const uri = hostDebianUri(await hostCodename()).replace(/\/$/, "");
      const r = await net(`/usr/lib/apt/apt-helper download-file ${uri}/dists/${await hostCodename()}/Release /tmp/Release >/dev/null && grep -c '^Codename:' /tmp/Release`);
      assert.equal(r.stdout.trim(), "1");
    });

    it("without it, the same request has no network at all", async () => {
      const r = await sh(`cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' '`);
      assert.deepEqual(r.stdout.trim().split("\n"), ["lo"]);
    });
  });

  it("a fork bomb is stopped at the task limit with a sentence saying so", async () => {
    const t0 = Date.now();
    await assert.rejects(sh("b() { b | b & }; b; sleep 60"), (e: Error) => /limit of 64 tasks/.test(e.message) && /--sandbox-tasks/.test(e.message));
    assert.ok(Date.now() - t0 < 30_000, "stopped long before the timeout");
    const r = await sh("echo still works");
    assert.equal(r.stdout.trim(), "still works");
  });

  it("a memory hog is killed inside the sandbox and named", async () => {
    await assert.rejects(sh("head -c 400M /dev/zero | tail > /dev/null"), (e: Error) => /out of memory/.test(e.message) && /96 MiB/.test(e.message));
  });

  it("a script that runs too long is stopped at its timeout", async () => {
    await assert.rejects(sh("sleep 30", { timeoutMs: 1500 }), (e: Error) => /longer than 2 s/.test(e.message));
  });

  it("closing releases the id range, the idmapped root and the cgroup", async () => {
    const lock = sb.ids.lock;
    assert.ok(existsSync(lock));
    await sb.close();
    assert.ok(!existsSync(lock));
    assert.ok(!readFileSync("/proc/self/mountinfo", "utf8").includes(join(tmp, "work", "sandbox-root")));
    assert.equal(statSync(join(tmp, "work")).mode & 0o777, 0o700);
    assert.equal(DEFAULT_LIMITS.tasks, 4096);
  });
});
