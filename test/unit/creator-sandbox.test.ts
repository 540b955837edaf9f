// The bubblewrap command lines: what the sandbox unshares, hides and drops, for both views.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bwrapArgs, ROOT_CAPS } from "../../daemon/creator/system/sandbox.js";

const pairs = (a: string[], flag: string) => a.flatMap((x, i) => (x === flag ? [a.slice(i + 1, i + 3).join(" ")] : []));

test("chroot view: the root becomes /, own pid/ipc/uts namespaces, fresh /proc and /dev, empty /run, no SYS_ADMIN", () => {
  const a = bwrapArgs({ root: "/w/root", view: "chroot" });
  assert.deepEqual(a.slice(0, 3), ["--bind", "/w/root", "/"]);
  for (const f of ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--clearenv"]) assert.ok(a.includes(f), f);
  assert.ok(pairs(a, "--tmpfs").includes("/run --unshare-pid") || a.join(" ").includes("--tmpfs /run"));
  assert.ok(a.join(" ").includes("--proc /proc --dev /dev"));
  assert.ok(a.join(" ").includes("--cap-drop ALL"));
  assert.ok(!ROOT_CAPS.includes("CAP_SYS_ADMIN"));
  assert.ok(!a.includes("--share-net") && !a.includes("--dev-bind"));
});

test("host view (%post --nochroot): host system dirs read-only (never all of /), private /tmp, only the root and LIVE_ROOT writable", () => {
  const a = bwrapArgs({ root: "/tmp/w/root", view: "host", writable: ["/tmp/w/live"], readable: ["/tmp/w/s"] });
  const s = a.join(" ");
  assert.ok(s.startsWith("--ro-bind /usr /usr --ro-bind /etc /etc"));
  assert.ok(!s.includes("--ro-bind / /") && !s.includes("--bind / /"), "a bind of / would pin other sessions' mounts");
  assert.ok(!/--(ro-)?bind \/(var|home|root|tmp) /.test(s));
  assert.ok(s.indexOf("--bind /tmp/w/root /tmp/w/root") > s.indexOf("--tmpfs /tmp"));
  assert.ok(s.includes("--bind /tmp/w/live /tmp/w/live"));
  assert.ok(s.includes("--ro-bind /tmp/w/s /tmp/w/s"));
  assert.ok(s.includes("--tmpfs /run"));
});

test("environment: cleared, then only PATH and what the caller sets", () => {
  const a = bwrapArgs({ root: "/r", view: "chroot", env: { INSTALL_ROOT: "/r" } });
  assert.deepEqual(pairs(a, "--setenv").map((p) => p.split(" ")[0]), ["PATH", "INSTALL_ROOT"]);
});
