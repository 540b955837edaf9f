// The bubblewrap command lines: what the sandbox unshares, hides and drops, for each view. (That the
// boundary holds is proven by test/integration/sandbox-attacks.test.ts against a real daemon.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { bwrapArgs, launcher, ROOT_CAPS } from "../../daemon/creator/system/sandbox.js";
import { basePatterns } from "../../daemon/creator/packages/apt-download.js";

const paths = { root: "/w/root", idroot: "/w/sandbox-root" };
const fds = { userns: 3, seccomp: 4 };
const pairs = (a: string[], flag: string) => a.flatMap((x, i) => (x === flag ? [a.slice(i + 1, i + 3).join(" ")] : []));

test("every view joins the daemon's user namespace as its root, and unshares network, pid, ipc, uts and cgroup", () => {
  for (const view of ["chroot", "host", "install"] as const) {
    const a = bwrapArgs({ view }, paths, fds);
    assert.deepEqual(a.slice(0, 6), ["--userns", "3", "--uid", "0", "--gid", "0"], view);
    for (const f of ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--die-with-parent", "--clearenv"]) assert.ok(a.includes(f), `${view}: ${f}`);
    assert.deepEqual(pairs(a, "--seccomp"), ["4 --clearenv"], view);
    assert.ok(!a.includes("--share-net") && !a.includes("--dev-bind"), view);
  }
});

test("chroot view: the idmapped root becomes /, fresh /proc and /dev, empty /run, masks, no SYS_ADMIN", () => {
  const a = bwrapArgs({ view: "chroot" }, paths, fds);
  const s = a.join(" ");
  assert.ok(s.includes("--bind /w/sandbox-root /"), "the idmapped view, never the plain mount");
  assert.ok(!s.includes("--bind /w/root"));
  assert.ok(s.includes("--proc /proc --dev /dev"));
  assert.ok(s.includes("--tmpfs /run"));
  assert.ok(s.includes("--ro-bind /sys /sys"));
  for (const m of ["/proc/keys", "/proc/timer_list"]) if (s.includes(m)) assert.ok(s.includes(`--ro-bind /dev/null ${m}`), m);
  assert.ok(s.includes("--tmpfs /sys/firmware --remount-ro /sys/firmware") || !s.includes("/sys/firmware"));
  assert.ok(s.includes("--cap-drop ALL"));
  assert.ok(!ROOT_CAPS.includes("CAP_SYS_ADMIN") && !a.includes("CAP_SYS_ADMIN"));
});

test("host view (%post --nochroot): host system dirs read-only (never all of /), private /tmp, only the root and LIVE_ROOT writable", () => {
  const a = bwrapArgs({ view: "host", writable: ["/tmp/w/live"], readable: ["/tmp/w/s"] }, { root: "/tmp/w/root", idroot: "/tmp/w/sandbox-root" }, fds);
  const s = a.join(" ");
  assert.ok(s.includes("--ro-bind /usr /usr --ro-bind /etc /etc"));
  assert.ok(!s.includes("--ro-bind / /") && !s.includes("--bind / /"), "a bind of / would pin other sessions' mounts");
  assert.ok(!/--(ro-)?bind \/(var|home|root|tmp) /.test(s));
  assert.ok(s.indexOf("--bind /tmp/w/sandbox-root /tmp/w/root") > s.indexOf("--tmpfs /tmp"), "the root at its host path, idmapped");
  assert.ok(s.includes("--bind /tmp/w/live /tmp/w/live"));
  assert.ok(s.includes("--ro-bind /tmp/w/s /tmp/w/s"));
  assert.ok(!a.includes("ALL") || pairs(a, "--cap-add").every((p) => !p.startsWith("ALL")));
});

test("install view: every capability, but only inside the user namespace", () => {
  const a = bwrapArgs({ view: "install", writable: ["/w/apt"] }, paths, fds);
  assert.ok(a.join(" ").includes("--cap-drop ALL --cap-add ALL"));
  assert.ok(a.join(" ").includes("--userns 3"));
});

test("environment: cleared, then only PATH and what the caller sets", () => {
  const a = bwrapArgs({ view: "chroot", env: { INSTALL_ROOT: "/r" } }, paths, fds);
  assert.deepEqual(pairs(a, "--setenv").map((p) => p.split(" ")[0]), ["PATH", "INSTALL_ROOT"]);
});

test("the launcher enters the cgroup before anything forks, then drops to the range's first uid with no groups", () => {
  const l = launcher(["/cg/pids/x/cgroup.procs", "/cg/memory/x/cgroup.procs"], 1879048192);
  assert.equal(l[0], "/bin/sh");
  assert.deepEqual(l.slice(4, 7), ["/cg/pids/x/cgroup.procs", "/cg/memory/x/cgroup.procs", "--"]);
  assert.deepEqual(l.slice(7), ["setpriv", "--reuid=1879048192", "--regid=1879048192", "--clear-groups", "--"]);
});

test("the host downloads what mmdebstrap installs: the variant's base set and apt", () => {
  const p = basePatterns("minbase", "bookworm", "amd64");
  assert.deepEqual(p, [
    "?narrow(?or(?archive(^bookworm$),?codename(^bookworm$)),?architecture(amd64),?essential)",
    "?narrow(?or(?archive(^bookworm$),?codename(^bookworm$)),?architecture(amd64),?priority(required))",
    "apt",
  ]);
  assert.equal(basePatterns("essential", "s", "a").length, 1);
  assert.deepEqual(basePatterns("apt", "s", "a").slice(1), ["apt"]);
});
