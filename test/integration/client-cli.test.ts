// The imgcreate client end to end, as a user would use it: against the real daemon on a private
// system bus with real polkitd, as alice (in imgbuilders) and bob (not). Two real image installs:
// a one-shot --json build, and a staged session whose install runs on a terminal (tmux) and which
// then serves the remote shell tests. Ctrl-C mid-install must leave nothing behind.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { startHarness, type Harness } from "../helpers/harness.js";
import { findLeaks } from "../helpers/leaks.js";
import { writeSmallKs, Tmux, imgcreateAs, jsonLines, ourProgram, userDir, writeUserFile } from "./client-cli.js";

let h: Harness;
let home: string; // alice's work directory
let tmux: Tmux;

before(async () => {
  h = await startHarness({ daemon: true });
  home = userDir(h, "alice", "alice");
  writeSmallKs(home, "small.ks");
  writeUserFile(join(home, "broken.ks"), "lang C.UTF-8\ntimezone UTC\nfrobnicate --now\n");
  tmux = new Tmux(join(h.dir, "tmux.sock"));
});

after(async () => {
  tmux?.kill();
  await h?.stop({ assertNoLeaks: true });
});

function sessionsOf(stdout: string): Record<string, unknown>[] {
  return jsonLines(stdout);
}

describe("errors a user can meet", () => {
  test("bob, not in imgbuilders, is told he is not authorized and what to do (exit 3)", async () => {
    const bobHome = userDir(h, "bob", "bob");
    writeSmallKs(bobHome, "small.ks");
    const list = await imgcreateAs(h, "bob", ["session", "list"], bobHome);
    assert.equal(list.exitCode, 3, list.stderr);
    assert.match(list.stderr, /^imgcreate: not authorized: .*imgbuilders/);
    const build = await imgcreateAs(h, "bob", ["build", "--type", "loop", "small.ks"], bobHome);
    assert.equal(build.exitCode, 3, build.stderr);
    assert.doesNotMatch(build.stderr, /\n\s+at /, "no stack trace");
  });

  test("an unreachable daemon gives exit 4 and says how to start it", async () => {
    const r = await imgcreateAs(h, "alice", ["--socket", join(h.dir, "nothing.sock"), "session", "list"], home);
    assert.equal(r.exitCode, 4);
    assert.match(r.stderr, /cannot reach imgcreated: no socket at .*nothing\.sock\. Start it/);
  });

  test("a broken kickstart is refused before anything is built, with FILE:LINE (exit 2)", async () => {
    const r = await imgcreateAs(h, "alice", ["build", "--type", "loop", "broken.ks"], home);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr, /broken\.ks:3: error: .*frobnicate/);
    const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
    assert.deepEqual(sessionsOf(list.stdout), [], "no session was created");
  });

  test("a session id that does not exist is an error, not a crash", async () => {
    const r = await imgcreateAs(h, "alice", ["session", "show", "nosuch"], home);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /^imgcreate: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe("one-shot build", () => {
  test("alice builds a loop image with --json and --shell: every stage reported in order, a shell after configure, artifact hers, session closed", { timeout: 900_000 }, async () => {
    const out = userDir(h, "alice", "out-json");
    // --shell after configure reads its commands from our stdin (no terminal here).
    const input = "cat /etc/imgcreate-client-marker\nexit\n";
    const r = await imgcreateAs(h, "alice", ["--json", "build", "--type", "loop", "--name", "jsontest", "--shell", "-o", out, "small.ks"], home, 900_000, input);
    assert.equal(r.exitCode, 0, r.stderr + r.stdout.slice(-2000));
    // The shell's own output shares stdout with the JSON lines.
    assert.match(r.stdout, /client-test-marker\r?$/m, "the shell saw the configured install root");
    const ev = jsonLines(r.stdout.split("\n").filter((l) => l.startsWith("{")).join("\n"));
    const stages = ev.filter((e) => e["event"] === "stage-end").map((e) => [e["stage"], e["success"]]);
    assert.deepEqual(stages, [["mount", true], ["install", true], ["configure", true], ["unmount", true], ["package", true]]);
    const progress = ev.filter((e) => e["event"] === "progress");
    assert.ok(progress.length > 0, "progress events");
    assert.ok(progress.every((e) => e["fraction"] === null || (typeof e["fraction"] === "number" && e["fraction"] >= 0 && e["fraction"] <= 1)));
    assert.ok(ev.some((e) => e["event"] === "log" && typeof e["line"] === "string"), "log lines");
    const result = ev.at(-1)!;
    assert.equal(result["event"], "result");
    assert.equal(result["success"], true);
    const artifacts = result["artifacts"] as string[];
    assert.equal(artifacts.length, 1);
    assert.equal(artifacts[0], join(out, "jsontest.img"));
    assert.equal(statSync(artifacts[0]!).uid, h.users.alice.uid, "the image belongs to alice");
    const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
    assert.deepEqual(sessionsOf(list.stdout), [], "the session was closed");
  });

  test("Ctrl-C mid-install cancels, closes the session, exits 130 and leaves nothing behind", { timeout: 600_000 }, async () => {
    const out = userDir(h, "alice", "out-cancel");
    const [cmd, ...pre] = ourProgram("imgcreate");
    const child = h.spawnAs("alice", cmd!, [...pre, "build", "--type", "loop", "--name", "cancelled", "-o", out, "small.ks"], { cwd: home });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 300_000;
    while (!/install(:|\|) /.test(stdout.replace(/install: started/, "")) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.match(stdout, /install: started/, stderr);
    const status = await h.stopSpawned(child, "SIGINT");
    assert.equal(status.code, 130, `stdout:\n${stdout.slice(-1500)}\nstderr:\n${stderr}`);
    assert.match(stderr, /cancelled; session \w+ closed/);
    assert.ok(!existsSync(join(out, "cancelled.img")));
    const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
    assert.deepEqual(sessionsOf(list.stdout), []);
    // Other test suites may run on this machine at the same time: judge only what belongs to this daemon.
    const leaks = findLeaks({ tmp: false });
    const ours = (l: string) => l.includes(h.stateDir);
    assert.deepEqual(leaks.loops.filter(ours), []);
    assert.deepEqual(leaks.mounts.filter(ours), []);
    assert.deepEqual(leaks.processes.filter((p) => ours(p) && !p.startsWith(`${h.daemonPid} `)), []);
  });
});

describe("staged session, on a terminal", () => {
  let id = "";
  const env = () => ({ DBUS_SYSTEM_BUS_ADDRESS: h.busAddress, TERM: "xterm-256color" });
  const cli = () => ourProgram("imgcreate");

  test("session create prints an id; list and show report it as alice's, state created", async () => {
    const r = await imgcreateAs(h, "alice", ["session", "create", "--type", "loop", "--name", "staged", "small.ks"], home);
    assert.equal(r.exitCode, 0, r.stderr);
    id = r.stdout.trim();
    assert.match(id, /^[A-Za-z0-9_]+$/);
    const list = await imgcreateAs(h, "alice", ["session", "list"], home);
    assert.match(list.stdout, new RegExp(`^${id}\\s+staged\\s+alice\\s+created\\s+-$`, "m"));
    const show = await imgcreateAs(h, "alice", ["--json", "session", "show", id], home);
    const s = jsonLines(show.stdout)[0]!;
    assert.equal(s["state"], "created");
    assert.equal(s["owner"], h.users.alice.uid);
    const bob = await imgcreateAs(h, "bob", ["session", "close", id], home);
    assert.equal(bob.exitCode, 3, "bob may not touch alice's session");
  });

  test("mount over the JSON-RPC socket, with --json progress", { timeout: 120_000 }, async () => {
    const r = await imgcreateAs(h, "alice", ["--json", "--transport", "socket", "--socket", h.socketPath, "session", "mount", id], home);
    assert.equal(r.exitCode, 0, r.stderr);
    const ends = jsonLines(r.stdout).filter((e) => e["event"] === "stage-end");
    assert.deepEqual(ends.map((e) => [e["stage"], e["success"]]), [["mount", true]]);
  });

  test("install on a terminal: one bar redrawn in place, ending clean", { timeout: 900_000 }, async () => {
    await tmux.start("install", "alice", env(), home, [...cli(), "session", "install", id]);
    const running = await tmux.waitFor("install", /install\s+\[[#-]+\]\s+\d+%/, 300_000);
    assert.match(running, /install\s+\[/);
    // Meanwhile, from another client: `session logs --follow` streams the job's lines and ends with it.
    const [cmd, ...pre] = ourProgram("imgcreate");
    const follower = h.spawnAs("alice", cmd!, [...pre, "session", "logs", "--follow", id], { cwd: home });
    let followed = "";
    follower.stdout!.on("data", (d: Buffer) => (followed += d.toString()));
    const followerDone = new Promise<number | null>((r) => follower.once("exit", (code) => r(code)));
    const screen = await tmux.waitFor("install", /EXIT:\d+/, 900_000);
    assert.match(screen, /EXIT:0/, screen);
    assert.equal(await Promise.race([followerDone, new Promise((r) => setTimeout(() => r("still running"), 15_000))]), 0);
    assert.ok(followed.split("\n").length > 3, `followed log lines:\n${followed}`);
    const history = await tmux.capture("install", true);
    const lines = history.split("\n");
    // Redrawn in place: exactly one install line in the whole scrollback, finished, and nothing after it but the exit.
    const installLines = lines.filter((l) => /^install\s+\[/.test(l));
    assert.equal(installLines.length, 1, history);
    assert.match(installLines[0]!, /^install\s+\[#{20}\] done in \d+:\d\d$/);
    const after = lines.slice(lines.indexOf(installLines[0]!) + 1).filter((l) => l.trim() !== "");
    assert.deepEqual(after, ["EXIT:0"], "no stale log line or half-drawn bar left");
    // The cursor is visible again: tmux reports the pane's cursor flag.
  });

  test("configure, then the remote shell runs commands in the install root, follows a resize, returns the status", { timeout: 300_000 }, async () => {
    const c = await imgcreateAs(h, "alice", ["session", "configure", id], home, 300_000);
    assert.equal(c.exitCode, 0, c.stderr);
    await tmux.start("shell", "alice", env(), home, [...cli(), "shell", id], { cols: 100, rows: 30 });
    await tmux.waitFor("shell", /[#$]\s*$/m, 30_000);
    await tmux.keys("shell", "cat /etc/imgcreate-client-marker", "Enter");
    await tmux.waitFor("shell", /^client-test-marker/m, 10_000);
    await tmux.keys("shell", "stty size", "Enter");
    await tmux.waitFor("shell", /^30 100$/m, 10_000);
    await tmux.resize("shell", 120, 40);
    await new Promise((r) => setTimeout(r, 500));
    await tmux.keys("shell", "clear; stty size", "Enter");
    await tmux.waitFor("shell", /^40 120$/m, 10_000);
    // Ctrl-C goes to the shell's command, not to the client.
    await tmux.keys("shell", "sleep 60", "Enter");
    await new Promise((r) => setTimeout(r, 500));
    await tmux.keys("shell", "C-c");
    await tmux.keys("shell", "echo still-$((40+2))", "Enter");
    await tmux.waitFor("shell", /^still-42$/m, 10_000);
    await tmux.keys("shell", "exit 7", "Enter");
    await tmux.waitFor("shell", /EXIT:7/, 10_000);
  });

  test("over the JSON-RPC socket the remote shell follows a resize too (Session.ShellResize)", { timeout: 120_000 }, async () => {
    await tmux.start("rpcshell", "alice", env(), home, [...cli(), "--transport", "socket", "--socket", h.socketPath, "shell", id], { cols: 90, rows: 25 });
    await tmux.waitFor("rpcshell", /[#$]\s*$/m, 30_000);
    await tmux.keys("rpcshell", "stty size", "Enter");
    await tmux.waitFor("rpcshell", /^25 90$/m, 10_000);
    await tmux.resize("rpcshell", 110, 35);
    await new Promise((r) => setTimeout(r, 500));
    await tmux.keys("rpcshell", "clear; stty size", "Enter");
    await tmux.waitFor("rpcshell", /^35 110$/m, 10_000);
    await tmux.keys("rpcshell", "exit 3", "Enter");
    await tmux.waitFor("rpcshell", /EXIT:3/, 10_000);
  });

  test("shell ID -- COMMAND passes the command's exit status through, without a terminal", async () => {
    const ok = await imgcreateAs(h, "alice", ["shell", id, "--", "cat", "/etc/imgcreate-client-marker"], home);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stdout, /client-test-marker/);
    const bad = await imgcreateAs(h, "alice", ["shell", id, "--", "sh", "-c", "exit 5"], home);
    assert.equal(bad.exitCode, 5, bad.stderr);
    const bob = await imgcreateAs(h, "bob", ["shell", id, "--", "true"], home);
    assert.equal(bob.exitCode, 3, "bob gets no shell in alice's session");
  });

  test("session logs ID prints the session's past log lines (no job running), on D-Bus and the socket; bob may not", async () => {
    for (const via of [[], ["--transport", "socket", "--socket", h.socketPath]]) {
      const r = await imgcreateAs(h, "alice", [...via, "session", "logs", id], home);
      assert.equal(r.exitCode, 0, `${via.join(" ")}: ${r.stderr}\n--- daemon log:\n${h.daemonLog().slice(-3000)}`);
      assert.match(r.stdout, /job \d+: configure started/, `${via.join(" ")}: ${r.stdout.slice(-2000)}`);
      assert.match(r.stdout, /job \d+: configure completed/);
    }
    const bob = await imgcreateAs(h, "bob", ["session", "logs", id], home);
    assert.equal(bob.exitCode, 3, bob.stderr);
  });

  test("unmount, package into alice's directory, close", { timeout: 300_000 }, async () => {
    const out = userDir(h, "alice", "out-staged");
    const u = await imgcreateAs(h, "alice", ["session", "unmount", id], home);
    assert.equal(u.exitCode, 0, u.stderr);
    const p = await imgcreateAs(h, "alice", ["--json", "session", "package", id, "-o", out], home, 300_000);
    assert.equal(p.exitCode, 0, p.stderr);
    const art = jsonLines(p.stdout).filter((e) => e["event"] === "artifact").map((e) => e["path"]);
    assert.deepEqual(art, [join(out, "staged.img")]);
    assert.equal(statSync(join(out, "staged.img")).uid, h.users.alice.uid);
    // Mount from packaged re-opens the image (issue 10); configure needs a mounted root.
    const wrong = await imgcreateAs(h, "alice", ["session", "configure", id], home);
    assert.equal(wrong.exitCode, 1, "a stage out of order is refused");
    assert.match(wrong.stderr, /imgcreate session show/);
    assert.equal((await imgcreateAs(h, "alice", ["session", "close", id], home)).exitCode, 0);
    const list = await imgcreateAs(h, "alice", ["--json", "session", "list"], home);
    assert.deepEqual(sessionsOf(list.stdout), []);
  });
});

describe("when the daemon dies", () => {
  test("a client waiting on a job does not hang: exit 1 with a sentence; the session is interrupted after restart", { timeout: 300_000 }, async () => {
    const c = await imgcreateAs(h, "alice", ["session", "create", "--type", "loop", "--name", "victim", "small.ks"], home);
    assert.equal(c.exitCode, 0, c.stderr);
    const id = c.stdout.trim();
    const m = await imgcreateAs(h, "alice", ["session", "mount", id], home, 120_000);
    assert.equal(m.exitCode, 0, m.stderr);
    const [cmd, ...pre] = ourProgram("imgcreate");
    const child = h.spawnAs("alice", cmd!, [...pre, "session", "install", id], { cwd: home });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const deadline = Date.now() + 120_000;
    while (!/install: started/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    await h.stopDaemon("SIGKILL");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("hung"), 20_000))]);
    assert.equal(code, 1, `stdout:\n${stdout.slice(-800)}\nstderr:\n${stderr}`);
    assert.match(stderr, /imgcreate: install failed: imgcreated stopped while the job was running/);
    await h.restartDaemon();
    const show = await imgcreateAs(h, "alice", ["--json", "session", "show", id], home);
    assert.equal(jsonLines(show.stdout)[0]!["state"], "interrupted");
    assert.equal((await imgcreateAs(h, "alice", ["session", "close", id], home)).exitCode, 0);
  });
});
