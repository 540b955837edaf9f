// The sandbox attack suite (issue 9): code from a kickstart must be no more powerful than the user who sent
// it. As alice (imgbuilders; polkit gives her org.imgcreate.build and org.imgcreate.shell, nothing else),
// a session from a small minbase kickstart runs every attack in test/integration/attacks/*.sh twice:
// as a chrooted %post (one section each) and through Session.OpenShell over JSON-RPC (bash -c, one shell
// each) in the configured root. The resource attacks (fork bomb, memory hog, fills) run their %post
// forms in a second session: a sandbox that stops one by failing the session (as issue 9 asks) must not
// keep the shell attacks from running, and a failed session refuses OpenShell. Each attack prints one line, "ATTACK <name> BLOCKED <why>" or
// "ATTACK <name> ESCAPED <evidence>"; the test then looks at the host side where there is one: the
// sysctls it read before (put back at once if changed), marker files in a host-only directory, a
// 127.0.0.1-only HTTP server, an abstract and a path unix socket, a canary process, the host's mounts,
// the host's free space, the setuid file seen from the host, the daemon still answering and no sandbox
// process left behind. It prints every result and "N attacks tried, M succeeded", and fails listing the
// escapes. Written against the external interface only (kickstart text, OpenShell): it does not care how
// the sandbox is built.
//
// Run: npx tsc -p . && node --test dist/test/integration/sandbox-attacks.test.js (about 2 minutes, under the
// harness's machine-wide lock). The nets: IMGCREATE_ATTACK_FORK_NET (processes, default 3000) and
// IMGCREATE_ATTACK_MEM_NET_MIB (default 4096); a sandbox limit above a net is reported as no limit.
//
// Safety: nothing an attack does may change the host if it succeeds (see attacks/lib.sh): sysctls get
// back the value read, sysrq-trigger and /sys files are only opened; the fork bomb, the memory hog and
// the fills stop at the nets below even with no sandbox limit at all.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { PROJECT_ROOT, startHarness, type Harness } from "../helpers/harness.js";
import { findLeaks } from "../helpers/leaks.js";
import { PY, rawJsonRpc } from "./service-clients.js";

const ATTACK_DIR = join(PROJECT_ROOT, "test/integration/attacks");
/** Resource attacks run last (in this order): if the sandbox stops one by failing the session, the rest has run. */
const RESOURCE_ATTACKS = ["disk-fill", "tmpfs-fill", "memory-hog", "fork-bomb"];
/** The suite's own safety nets: a sandbox limit above these is reported as no limit. */
const FORK_NET = Number(process.env.IMGCREATE_ATTACK_FORK_NET ?? 3000);
const MEM_NET_MIB = Number(process.env.IMGCREATE_ATTACK_MEM_NET_MIB ?? 4096);
const PART_MIB = 800;
const FILL_NET_MIB = PART_MIB + 256;
const SHELL_TIMEOUT_S = 240;

/** alice may build and open shells; nobody here may run host scripts or manage others. */
const RULES = `// Installed by sandbox-attacks.test.ts (test harness) and removed when it stops.
polkit.addRule(function (action, subject) {
  if (action.id.indexOf("org.imgcreate.") !== 0) return polkit.Result.NOT_HANDLED;
  if (subject.isInGroup("imgbuilders") && (action.id === "org.imgcreate.build" || action.id === "org.imgcreate.shell")) return polkit.Result.YES;
  return polkit.Result.NOT_HANDLED;
});
`;

type Verdict = "BLOCKED" | "ESCAPED" | "NO-RESULT" | "NOT-REACHED";
interface Result {
  name: string;
  mode: "post" | "shell";
  verdict: Verdict;
  detail: string;
  host: string[]; // evidence found on the host side
}

function attackNames(): string[] {
  const all = readdirSync(ATTACK_DIR)
    .filter((f) => f.endsWith(".sh") && f !== "lib.sh")
    .map((f) => f.slice(0, -3))
    .sort();
  for (const r of RESOURCE_ATTACKS) assert.ok(all.includes(r), `attack ${r}.sh exists`);
  return [...all.filter((n) => !RESOURCE_ATTACKS.includes(n)), ...RESOURCE_ATTACKS];
}

/** Opens a shell over JSON-RPC as the calling user, runs argv, prints {output, status} or {error}. */
const SHELL_CLIENT = String.raw`
import base64, json, socket, sys
path, session, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
argv = json.loads(sys.stdin.read())
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(timeout); f = s.makefile("rwb")
f.write((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Session.OpenShell", "params": {"session": session, "argv": argv}}) + "\n").encode()); f.flush()
out, data = {}, b""
try:
    while True:
        line = f.readline()
        if not line: out["error"] = "connection closed"; break
        m = json.loads(line)
        if m.get("id") == 1 and "error" in m: out["error"] = m["error"]; break
        if m.get("method") == "Shell.Output": data += base64.b64decode(m["params"]["data"])
        elif m.get("method") == "Shell.Exited": out["status"] = m["params"]["status"]; break
except socket.timeout:
    out["error"] = "no Shell.Exited within %ds" % timeout
out["output"] = data.decode(errors="replace")
print(json.dumps(out))
`;

/**
 * Runs one stage as the calling user and waits for its Job.Completed, keeping the log lines of priority
 * info or higher (the install stage sends tens of thousands of debug lines). Prints {result, completed, lines}.
 */
const STAGE_CLIENT = String.raw`
import json, socket, sys
path, session, method = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX); s.connect(path); f = s.makefile("rwb")
f.write((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "Session." + method, "params": {"session": session}}) + "\n").encode()); f.flush()
out, lines, job = {}, [], None
while True:
    line = f.readline()
    if not line: out["error"] = "connection closed"; break
    m = json.loads(line)
    if m.get("id") == 1:
        if "error" in m: out["error"] = m["error"]; break
        job = m["result"]
    elif m.get("method") == "Job.LogMessage":
        p = m["params"]
        if p.get("priority", 7) <= 6 or "ATTACK " in p.get("line", ""): lines.append(p["line"])
    elif m.get("method") == "Job.Completed" and (job is None or m["params"].get("job") == job):
        out["completed"] = m["params"]; break
out["lines"] = lines[-20000:]
print(json.dumps(out))
`;

/** Listens on the abstract unix socket @NAME and prints "conn" for every connection. */
const ABSTRACT_SERVER = String.raw`
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind("\0" + sys.argv[1]); s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept(); print("conn", flush=True); c.close()
`;

const LINE = /ATTACK (\S+) (BLOCKED|ESCAPED) ?([^\r\n]*)/g;

function readSysctl(name: string): string {
  return readFileSync(`/proc/sys/kernel/${name}`, "utf8");
}

/** Pids of every descendant of pid (from /proc/PID/task/*\/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: number[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        /* gone */
      }
      for (const k of kids) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 120);
  } catch {
    return "?";
  }
}

function freeMiB(path: string): number {
  const s = statfsSync(path);
  return Math.floor((s.bavail * s.bsize) / 2 ** 20);
}

describe("the sandbox holds against attacks from %post and the shell, as alice", { timeout: 3_000_000 }, () => {
  let h: Harness;
  const token = randomBytes(8).toString("hex");
  let hostDir = "";
  let sessionPath = "";
  let resourceSession = "";
  let rootOnHost = "";
  let foreignFds = "";
  const results: Result[] = [];
  const names = attackNames();
  // Host-side witnesses.
  let http: HttpServer | undefined;
  let httpPort = 0;
  const httpRequests: string[] = [];
  let abstract: ChildProcess | undefined;
  let pathSock: NetServer | undefined;
  const abstractConns: number[] = [];
  const pathConns: number[] = [];
  let canary: ChildProcess | undefined;
  let canaryDeaths = 0;
  const sysctls: Record<string, string> = {};
  const sysctlChanges: string[] = [];
  let freeBefore = 0;
  let configure: { success: boolean; message: string; lines: string[] } = { success: false, message: "", lines: [] };
  let hostNs = "";

  const abstractName = `imgcreate-attack-${token}`;
  const canaryPrefix = "imgcreate-attack-canary-";

  const killCanary = () => stopCanary(); // the canary must not outlive a test process that dies early

  function startCanary(): void {
    // A "sleep" whose argv[0] is the tag; it dies with the test process (pdeathsig survives exec).
    const c = spawn("setpriv", ["--pdeathsig", "KILL", "--", "bash", "-c", 'exec -a "$0" sleep 3600', `${canaryPrefix}${token}`], { stdio: "ignore" });
    c.on("error", () => {});
    c.once("exit", () => {
      if (canary === c) canaryDeaths++;
    });
    canary = c;
  }

  function stopCanary(): void {
    const c = canary;
    canary = undefined;
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  }

  /** Puts back any sysctl an attack changed; returns what changed. Also called from after(). */
  function restoreSysctls(): string[] {
    const changed: string[] = [];
    for (const [name, value] of Object.entries(sysctls)) {
      let now = "";
      try {
        now = readSysctl(name);
      } catch {
        continue;
      }
      if (now !== value) {
        changed.push(`kernel.${name} was changed to ${JSON.stringify(now.trim())} (restored to ${JSON.stringify(value.trim())})`);
        writeFileSync(`/proc/sys/kernel/${name}`, value);
      }
    }
    sysctlChanges.push(...changed);
    return changed;
  }

  function preamble(name: string, mode: "post" | "shell"): string {
    const v: Record<string, string | number> = {
      ATTACK_NAME: name,
      ATTACK_MODE: mode,
      ATTACK_TOKEN: token,
      ATTACK_HOST_DIR: hostDir,
      ATTACK_HTTP_PORT: httpPort,
      ATTACK_BUS_SOCKET: h.busAddress.replace(/^unix:path=/, "").replace(/,.*$/, ""),
      ATTACK_API_SOCKET: h.socketPath,
      ATTACK_ABSTRACT: abstractName,
      ATTACK_HOST_NS: hostNs,
      ATTACK_CANARY_TAG_PREFIX: canaryPrefix,
      ATTACK_FORK_NET: FORK_NET,
      ATTACK_MEM_NET_MIB: MEM_NET_MIB,
      ATTACK_FILL_NET_MIB: FILL_NET_MIB,
      ATTACK_FOREIGN_FDS: foreignFds,
    };
    return Object.entries(v).map(([k, x]) => `${k}='${String(x).replace(/'/g, "")}'`).join("\n") + "\n";
  }

  function script(name: string, mode: "post" | "shell"): string {
    const text = preamble(name, mode) + readFileSync(join(ATTACK_DIR, "lib.sh"), "utf8") + readFileSync(join(ATTACK_DIR, `${name}.sh`), "utf8");
    // A line starting with % would end the kickstart section.
    assert.doesNotMatch(text, /^\s*%/m, `${name}.sh: no line may start with %`);
    return text;
  }

  function kickstart(which: string[]): string {
    const posts = which.map((n) => {
      let s = `%post --interpreter=/bin/bash\n${script(n, "post")}%end\n`;
      // The daemon itself writes --log output into the root: the symlink attack planted this path.
      if (n === "symlink-host-path") s += `%post --log=/root/attack-symlink.log\necho "a log line the daemon writes"\n%end\n`;
      return s;
    });
    return `# sandbox attack suite (test/integration/sandbox-attacks.test.ts)
lang C.UTF-8
keyboard us
timezone UTC
part / --size=${PART_MIB} --fstype=ext4
%addon org_imgcreate --variant=minbase
%end
%packages
%end
${posts.join("")}`;
  }

  function record(name: string, mode: "post" | "shell", verdict: Verdict, detail: string): Result {
    const r: Result = { name, mode, verdict, detail, host: [] };
    results.push(r);
    return r;
  }

  function find(name: string, mode: "post" | "shell"): Result {
    return results.find((r) => r.name === name && r.mode === mode) ?? record(name, mode, "NO-RESULT", "(a host-side finding only)");
  }

  function hostEscape(name: string, mode: "post" | "shell", evidence: string): void {
    const r = find(name, mode);
    r.host.push(evidence);
  }

  /** Everything the host can see of the attacks since the last call; current = the shell attack just run. */
  async function hostChecks(mode: "post" | "shell", current?: string): Promise<void> {
    const blame = (fallback: string) => current ?? fallback;
    for (const c of restoreSysctls()) hostEscape(blame(c.includes("modprobe") ? "sysctl-modprobe" : "sysctl-core-pattern"), mode, c);
    for (const f of readdirSync(hostDir)) {
      if (f === "canary" || f === "canary.sock") continue;
      const m = /^escaped-(.+)-(post|shell|daemon-log)$/.exec(f);
      const who = m ? m[1]! : blame("proc-root-write");
      hostEscape(who, mode, `host file ${join(hostDir, f)} was written${m?.[2] === "daemon-log" ? " by the daemon's --log through the planted symlink" : ""}`);
      rmSync(join(hostDir, f), { recursive: true, force: true });
    }
    for (const req of httpRequests.splice(0)) {
      const m = /^\/attack\/([^/]+)\//.exec(req);
      hostEscape(m ? m[1]! : blame("host-loopback"), mode, `the host's 127.0.0.1 HTTP server got GET ${req}`);
    }
    if (abstractConns.splice(0).length > 0) hostEscape(blame("abstract-socket"), mode, `the host's abstract socket @${abstractName} was connected to`);
    if (pathConns.splice(0).length > 0) hostEscape(blame("unix-socket-paths"), mode, `the host's socket ${join(hostDir, "canary.sock")} was connected to`);
    const daemonLog = `/var/tmp/imgcreate-attack-${token}-daemon-log`;
    if (existsSync(daemonLog)) {
      hostEscape("symlink-host-path", "post", `the daemon wrote ${daemonLog} on the host (--log through the planted symlink)`);
      rmSync(daemonLog, { force: true });
    }
    if (canaryDeaths > 0) {
      canaryDeaths = 0;
      hostEscape(blame("host-processes"), mode, "the host's canary process was killed");
      startCanary();
    }
    const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(token));
    if (mounts.length > 0) hostEscape(blame("mount"), mode, `host mounts appeared: ${mounts.map((l) => l.split(" ")[4]).join(", ")}`);
    // No process of the sandbox may outlive what started it (the stage, or the shell).
    const daemon = h.daemonPid;
    assert.ok(daemon, `the daemon is still running (after ${current ?? mode}): ${h.daemonLog().slice(-2000)}`);
    let left: number[] = [];
    for (let i = 0; i < 50; i++) {
      left = descendants(daemon);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    if (left.length > 0) {
      hostEscape(blame("process-left"), mode, `processes outlived it: ${left.slice(0, 5).map((p) => `${p} ${cmdline(p)}`).join("; ")}`);
      for (const p of left) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          /* gone */
        }
      }
    }
  }

  async function daemonAnswers(): Promise<void> {
    const r = await rawJsonRpc(h, "alice", [{ method: "Manager.ListSessions", params: {} }]);
    assert.equal(r.results[0]?.error, undefined, `the daemon answers alice: ${JSON.stringify(r.results[0])}`);
  }

  async function stage(method: string, session = sessionPath): Promise<{ success: boolean; message: string; lines: string[] }> {
    const r = await h.runAs("alice", PY, ["-c", STAGE_CLIENT, h.socketPath, session, method], { timeoutMs: 1_200_000 });
    assert.equal(r.exitCode, 0, `${method} client: ${r.stderr.slice(-1000)}`);
    const out = JSON.parse(r.stdout) as { error?: unknown; completed?: { success: boolean; message: string }; lines: string[] };
    assert.equal(out.error, undefined, `${method}: ${JSON.stringify(out.error)}`);
    return { success: out.completed?.success === true, message: String(out.completed?.message ?? ""), lines: out.lines };
  }

  async function createSession(name: string, ks: string): Promise<string> {
    const c = await rawJsonRpc(h, "alice", [{ method: "Manager.CreateSession", params: { kickstart: ks, includes: {}, options: { name, type: "loop" } } }]);
    assert.equal(c.results[0]?.error, undefined, JSON.stringify(c.results[0]));
    return String(c.results[0]!.result);
  }

  /** Lines of one configure run → results; returns the attacks that printed nothing, in order. */
  function collect(lines: string[], which: string[]): string[] {
    const seen = new Set<string>();
    for (const l of lines) {
      for (const m of l.matchAll(LINE)) {
        if (seen.has(m[1]!) || !which.includes(m[1]!)) continue; // one line per attack; a second one is ignored
        seen.add(m[1]!);
        record(m[1]!, "post", m[2] as Verdict, m[3] ?? "");
      }
    }
    return which.filter((n) => !seen.has(n));
  }

  before(async () => {
    // fds this test process hands down to everything it starts (its own environment's, not the daemon's)
    foreignFds = readdirSync("/proc/self/fd")
      .filter((fd) => Number(fd) > 2)
      .filter((fd) => {
        try {
          return (parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? "0", 8) & 0o2000000) === 0;
        } catch {
          return false;
        }
      })
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return "";
        }
      })
      .filter((t) => t !== "" && !t.includes(" "))
      .join(" ");
    // Limits well below the suite's own safety nets, so a stop by the sandbox is told apart from one by the nets.
    h = await startHarness({ daemon: true, rules: RULES, daemonArgs: ["--sandbox-tasks", "512", "--sandbox-memory", "1024"] });
    for (const n of ["core_pattern", "modprobe"]) if (existsSync(`/proc/sys/kernel/${n}`)) sysctls[n] = readSysctl(n);
    hostNs = ["user", "mnt", "pid", "net", "ipc", "uts", "cgroup"].map((t) => readlinkSync(`/proc/self/ns/${t}`)).join(" ");
    assert.match(readFileSync("/etc/shadow", "utf8"), /^alice:/m, "the host's shadow has alice (host-shadow looks for her)");
    // The host-only directory: it exists on the host and nowhere in the image.
    hostDir = join(h.dir, `attack-host-${token}`);
    mkdirSync(hostDir, { mode: 0o755 });
    chmodSync(hostDir, 0o755);
    writeFileSync(join(hostDir, "canary"), token + "\n");
    http = createHttpServer((req, res) => {
      httpRequests.push(req.url ?? "?");
      res.end(`host-only ${token}\n`);
    });
    await new Promise<void>((r) => http!.listen(0, "127.0.0.1", () => r()));
    httpPort = (http.address() as { port: number }).port;
    // Node pads abstract names to the full sun_path, which no ordinary client matches: Python binds it exactly.
    abstract = spawn("setpriv", ["--pdeathsig", "KILL", "--", PY, "-c", ABSTRACT_SERVER, abstractName], { stdio: ["ignore", "pipe", "inherit"] });
    abstract.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      abstract!.stdout!.on("data", (d: Buffer) => {
        buf += d.toString();
        if (buf.includes("ready")) resolve();
        for (const _ of (d.toString().match(/conn/g) ?? [])) abstractConns.push(Date.now());
      });
      abstract!.once("exit", (code) => reject(new Error(`abstract socket server exited (${code})`)));
    });
    pathSock = createNetServer((s) => {
      pathConns.push(Date.now());
      s.destroy();
    });
    await new Promise<void>((r) => pathSock!.listen(join(hostDir, "canary.sock"), () => r()));
    chmodSync(join(hostDir, "canary.sock"), 0o777);
    startCanary();
    process.on("exit", killCanary);
  });

  after(async () => {
    try {
      restoreSysctls(); // never leave a changed sysctl behind, whatever failed
      stopCanary();
      process.off("exit", killCanary);
      await new Promise((r) => http?.close(r) ?? r(undefined));
      abstract?.kill("SIGKILL");
      await new Promise((r) => pathSock?.close(r) ?? r(undefined));
      // A mount an attack left on the host (it carries the token in its path) goes before the harness stops.
      for (const l of readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((x) => x.includes(token)).reverse()) {
        await h?.run("umount", ["-l", l.split(" ")[4]!]);
      }
      for (const sp of [sessionPath, resourceSession]) {
        if (sp) await rawJsonRpc(h, "alice", [{ method: "Session.Close", params: { session: sp } }]).catch(() => {});
      }
    } finally {
      const dir = h?.dir;
      await h?.stop();
      // Other suites may run on this machine meanwhile: judge only what is ours (our harness dir, our token).
      const leaks = findLeaks({ tmp: false });
      const ours = (l: string) => (dir !== undefined && l.includes(dir)) || l.includes(token);
      const mine = [...leaks.loops, ...leaks.mounts, ...leaks.processes].filter(ours);
      assert.deepEqual(mine, [], "nothing of this suite is left: loop devices, mounts, processes");
    }
  });

  it("alice's session installs a minbase root and runs one %post per attack", { timeout: 1_500_000 }, async () => {
    const main = names.filter((n) => !RESOURCE_ATTACKS.includes(n));
    sessionPath = await createSession("attacks", kickstart(main));
    rootOnHost = join(h.stateDir, "sessions", sessionPath.split("/").pop()!, "work", "root");
    for (const st of ["Mount", "Install"]) {
      const r = await stage(st);
      assert.ok(r.success, `${st} failed: ${r.message}\n${r.lines.slice(-20).join("\n")}`);
    }
    freeBefore = freeMiB(h.dir);
    configure = await stage("Configure");
    for (const n of collect(configure.lines, main)) {
      record(n, "post", "NO-RESULT", `no ATTACK line from its %post (configure ${configure.success ? "succeeded" : "failed: " + configure.message})`);
    }
    await hostChecks("post");
    await daemonAnswers();
    assert.ok(configure.success, `configure failed: ${configure.message}`);
  });

  it("a setuid-root file planted in the image gives no host user root", async () => {
    for (const mode of ["post"] as const) {
      const f = join(rootOnHost, `usr/local/bin/attack-suid-${mode}`);
      if (!existsSync(f)) continue;
      const r = await h.runAs("alice", f, ["-p", "-c", "id -u"], { timeoutMs: 30_000 });
      if (r.stdout.trim() === "0") hostEscape("setuid-plant", mode, `alice ran ${f} from the host and got uid 0`);
    }
  });

  it("the same attacks through Session.OpenShell, one shell each", { timeout: 1_500_000 }, async () => {
    for (const n of names) {
      freeBefore = freeMiB(h.dir);
      const r = await h.runAs("alice", PY, ["-c", SHELL_CLIENT, h.socketPath, sessionPath, String(SHELL_TIMEOUT_S)], {
        input: JSON.stringify(["/bin/bash", "-c", script(n, "shell")]),
        timeoutMs: (SHELL_TIMEOUT_S + 30) * 1000,
      });
      let out: { output?: string; status?: number; error?: unknown } = {};
      try {
        out = JSON.parse(r.stdout) as typeof out;
      } catch {
        out = { error: `shell client failed (${r.exitCode}): ${r.stderr.slice(-500)}` };
      }
      const m = [...(out.output ?? "").matchAll(LINE)].find((x) => x[1] === n);
      if (m) record(n, "shell", m[2] as Verdict, m[3] ?? "");
      else if (RESOURCE_ATTACKS.includes(n) && out.error === undefined && (out.status ?? 0) >= 128) record(n, "shell", "BLOCKED", `no line: the shell was killed (status ${out.status})`);
      else record(n, "shell", "NO-RESULT", `no ATTACK line (status ${out.status}, error ${JSON.stringify(out.error)}): ${(out.output ?? "").slice(-300)}`);
      await hostChecks("shell", n);
      if (n === "disk-fill") {
        const drop = freeBefore - freeMiB(h.dir);
        if (drop > PART_MIB + 512) hostEscape("disk-fill", "shell", `the host's free space dropped by ${drop} MiB (the image is ${PART_MIB} MiB)`);
      }
      if (n === "setuid-plant") {
        const f = join(rootOnHost, "usr/local/bin/attack-suid-shell");
        if (existsSync(f)) {
          const s = await h.runAs("alice", f, ["-p", "-c", "id -u"], { timeoutMs: 30_000 });
          if (s.stdout.trim() === "0") hostEscape("setuid-plant", "shell", `alice ran ${f} from the host and got uid 0`);
        }
      }
    }
    await daemonAnswers();
  });

  it("the resource attacks as %post, in a second session", { timeout: 1_500_000 }, async () => {
    resourceSession = await createSession("attacks-rsrc", kickstart(RESOURCE_ATTACKS));
    for (const st of ["Mount", "Install"]) {
      const r = await stage(st, resourceSession);
      assert.ok(r.success, `${st} failed: ${r.message}\n${r.lines.slice(-20).join("\n")}`);
    }
    freeBefore = freeMiB(h.dir);
    const c = await stage("Configure", resourceSession);
    const missing = collect(c.lines, RESOURCE_ATTACKS);
    for (const [i, n] of missing.entries()) {
      // The first one without a line, when configure failed: the sandbox stopped it by failing the session
      // (what issue 9 asks for). The ones after it never ran as %post (they did through the shell).
      if (c.success) record(n, "post", "NO-RESULT", "no ATTACK line from its %post (configure succeeded)");
      else if (i === 0) record(n, "post", "BLOCKED", `no line: the %post was stopped and the session failed: ${c.message}`);
      else record(n, "post", "NOT-REACHED", `not run as %post: the session failed at ${missing[0]} (tried through the shell)`);
    }
    await hostChecks("post");
    const drop = freeBefore - freeMiB(h.dir);
    if (drop > PART_MIB + 512) hostEscape("disk-fill", "post", `the host's free space dropped by ${drop} MiB (the image is ${PART_MIB} MiB)`);
    await daemonAnswers();
    const close = await rawJsonRpc(h, "alice", [{ method: "Session.Close", params: { session: resourceSession } }]);
    assert.equal(close.results[0]?.error, undefined, JSON.stringify(close.results[0]));
    resourceSession = "";
  });

  it("no attack escaped", () => {
    const escaped: string[] = [];
    const noResult: string[] = [];
    const lines: string[] = [];
    for (const r of results) {
      const verdict = r.host.length > 0 ? "ESCAPED" : r.verdict;
      const detail = [r.detail, ...r.host.map((x) => `host: ${x}`)].join(" | ");
      lines.push(`${verdict.padEnd(9)} ${`${r.name}/${r.mode}`.padEnd(28)} ${detail}`);
      if (verdict === "ESCAPED") escaped.push(`${r.name}/${r.mode}: ${detail}`);
      if (verdict === "NO-RESULT") noResult.push(`${r.name}/${r.mode}: ${detail}`);
    }
    const summary = `${results.length} attacks tried, ${escaped.length} succeeded${noResult.length ? `, ${noResult.length} gave no result` : ""}`;
    console.log(["", "sandbox attack results:", ...lines, summary, ""].join("\n"));
    if (sysctlChanges.length > 0) console.log(`sysctls an attack changed (put back): ${sysctlChanges.join("; ")}`);
    assert.deepEqual(escaped, [], summary);
    assert.deepEqual(noResult, [], summary);
  });
});
