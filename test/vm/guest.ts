// What the test VM boots: Debian's own kernel (linux-image, fetched with apt-get download and kept in a
// cache dir), and an initramfs of busybox-static (fetched the same way) whose /init loads the modules
// the guest needs, mounts the host's / read-only over 9p, gives it a scratch disk on /tmp, and runs one
// command chrooted there; its exit status is printed as a marker line before the VM powers off.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOrder, moduleIndex } from "./kernel-modules.js";
import { debianPackage } from "../helpers/debian-package.js";

export const EXIT_MARKER = "IMGCREATE-VM-EXIT=";

/** Modules the guest loads before running anything: virtio, 9p for the host's tree, and what the tests use (crc32c before what needs it at load: libcrc32c for xfs). */
const MODULES = ["virtio_pci", "virtio_blk", "9pnet_virtio", "9p", "loop", "dm_mod", "dm_snapshot", "dm_mirror", "crc32c_generic", "ext4", "xfs", "btrfs"];

export interface Guest {
  kernel: string;
  initrd: string;
  version: string;
}

const run = (argv: string[], cwd?: string): string => execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", cwd, stdio: ["ignore", "pipe", "pipe"] });

/** The versioned kernel package linux-image-amd64 points at (e.g. linux-image-6.1.0-57-amd64). */
function kernelPackage(): string {
  let out: string;
  try {
    out = run(["apt-cache", "depends", "linux-image-amd64"]);
  } catch {
    // A fresh machine may have no package lists yet.
    run(["apt-get", "update", "-q"]);
    out = run(["apt-cache", "depends", "linux-image-amd64"]);
  }
  const m = /Depends: (linux-image-[0-9][^\s]*)/.exec(out);
  if (!m) throw new Error(`apt-cache depends linux-image-amd64 names no kernel package:\n${out}`);
  return m[1]!;
}

/** The init script: load modules, mount the host, run /cmd in it, print the marker, power off. */
function initScript(): string {
  return `#!/bin/busybox sh
B=/bin/busybox
$B mkdir -p /proc /sys /dev /host
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
for m in $($B cat /modules); do $B insmod /mod/$m 2>/dev/null || echo "imgcreate-vm: insmod $m failed"; done
finish() { echo "${EXIT_MARKER}$1"; $B sync; $B poweroff -f; }
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host || finish 125
H=/host
$B mount -t proc proc $H/proc
$B mount -t sysfs sys $H/sys
$B mount -t cgroup2 cgroup2 $H/sys/fs/cgroup && echo "+pids +memory" > $H/sys/fs/cgroup/cgroup.subtree_control
$B mount -t devtmpfs dev $H/dev
$B mkdir -p $H/dev/pts $H/dev/shm
$B mount -t devpts devpts $H/dev/pts
$B mount -t tmpfs tmpfs $H/dev/shm
$B mount -t tmpfs -o mode=755 tmpfs $H/run
$B mount -t tmpfs tmpfs $H/var/tmp
$B chroot $H /sbin/mkfs.ext4 -q -F /dev/vda >/dev/null || finish 125
$B mount -t ext4 /dev/vda $H/tmp || finish 125
$B chmod 1777 $H/tmp
$B cp /cmd $H/tmp/.imgcreate-vm-cmd
# switch_root, not chroot: a chrooted process may not make user namespaces (the sandbox needs them).
# The new init prints the marker and ends; the kernel then panics (panic=-1 reboots, qemu -no-reboot exits).
exec $B switch_root $H /bin/sh -c '/bin/sh /tmp/.imgcreate-vm-cmd; echo "${EXIT_MARKER}$?"; sync'
`;
}

/** Builds (once per kernel) the kernel and initramfs under cacheDir; the command goes in per run (see initrdWith). */
export function prepareGuest(cacheDir: string): Guest & { modules: string[]; tree: string } {
  mkdirSync(cacheDir, { recursive: true });
  const pkg = kernelPackage();
  const k = debianPackage(cacheDir, pkg);
  const bb = debianPackage(cacheDir, "busybox-static");
  const version = readdirSync(join(k, "lib/modules"))[0]!;
  const order = loadOrder(moduleIndex(join(k, "lib/modules", version)), MODULES);
  // Named after what goes in, so a changed init script or module list makes a new one.
  const tag = createHash("sha256").update(initScript()).update(order.join("\n")).digest("hex").slice(0, 12);
  const tree = join(cacheDir, `initramfs-${version}-${tag}`);
  if (!existsSync(join(tree, "init"))) {
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(join(tree, "bin"), { recursive: true });
    mkdirSync(join(tree, "mod"));
    copyFileSync(join(bb, "bin/busybox"), join(tree, "bin/busybox"));
    chmodSync(join(tree, "bin/busybox"), 0o755);
    for (const ko of order) copyFileSync(ko, join(tree, "mod", ko.split("/").pop()!));
    writeFileSync(join(tree, "modules"), order.map((ko) => ko.split("/").pop()).join("\n") + "\n");
    writeFileSync(join(tree, "init"), initScript(), { mode: 0o755 });
  }
  return { kernel: join(k, "boot", `vmlinuz-${version}`), initrd: "", version, modules: order, tree };
}

/** Writes an initramfs (newc cpio, by busybox) of tree plus /cmd holding the shell command to run. */
export function initrdWith(tree: string, command: string, out: string): void {
  writeFileSync(join(tree, "cmd"), command + "\n", { mode: 0o644 });
  const files = run(["find", ".", "-mindepth", "1"], tree);
  execFileSync(join(tree, "bin/busybox"), ["cpio", "-o", "-H", "newc", "-F", out], { cwd: tree, input: files, stdio: ["pipe", "ignore", "pipe"] });
}
