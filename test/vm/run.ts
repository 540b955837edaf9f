// The test VM runner: boots Debian's own kernel in qemu with the host's / shared read-only (9p) and a
// scratch disk on /tmp, runs `node --test FILE...` there as root (in the guest, where device-mapper
// exists), and returns the output and exit status. KVM only when asked (IMGCREATE_VM_ACCEL=kvm): on
// these machines it does not boot stock kernels, so TCG is the default.
//   node dist/test/vm/run.js dist/test/vm/inside/dm.test.js     prints the output, exits with its status
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { EXIT_MARKER, initrdWith, prepareGuest } from "./guest.js";

export const VM_CACHE = "/var/cache/imgcreated/vm-test";

export interface VmResult {
  /** The command's exit status in the guest, or undefined when the VM ended without the marker. */
  status: number | undefined;
  output: string;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs node --test on files (absolute or relative to the cwd) inside the VM. */
export async function runInVm(files: string[], opts: { timeoutMs?: number; onOutput?: (s: string) => void } = {}): Promise<VmResult> {
  const guest = prepareGuest(VM_CACHE);
  const work = mkdtempSync(join(tmpdir(), "imgcreate-vm-"));
  try {
    const initrd = join(work, "initrd.cpio");
    const cwd = process.cwd();
    const cmd = `cd ${quote(cwd)} && NO_COLOR=1 exec ${quote(process.execPath)} --test --test-concurrency=1 ${files.map((f) => quote(resolve(f))).join(" ")} 2>&1`;
    initrdWith(guest.tree, cmd, initrd);
    const scratch = join(work, "scratch.img");
    writeFileSync(scratch, "");
    rmSync(scratch);
    await new Promise<void>((r, j) => spawn("truncate", ["-s", "4G", scratch]).once("exit", (c) => (c === 0 ? r() : j(new Error("truncate failed")))));
    const accel = process.env["IMGCREATE_VM_ACCEL"] === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt"];
    const args = [
      ...accel, "-m", "3072", "-smp", "2", "-nodefaults", "-no-reboot", "-display", "none", "-serial", "stdio",
      "-kernel", guest.kernel, "-initrd", initrd,
      "-append", "console=ttyS0 panic=-1 quiet loglevel=1",
      "-fsdev", "local,id=host,path=/,security_model=none,readonly=on,multidevs=remap",
      "-device", "virtio-9p-pci,fsdev=host,mount_tag=host",
      "-drive", `file=${scratch},if=virtio,format=raw`,
    ];
    const child = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    // Decoded as streams: a character split between two chunks stays one character.
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    const onData = (d: string) => {
      const s = d.replaceAll("\r", "");
      output += s;
      opts.onOutput?.(s);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30 * 60_000);
    await new Promise((r) => child.once("exit", r));
    clearTimeout(timer);
    const m = new RegExp(`^${EXIT_MARKER}(\\d+)$`, "m").exec(output);
    return { status: m ? Number(m[1]) : undefined, output };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write("usage: node dist/test/vm/run.js TEST-FILE...\n");
    process.exit(2);
  }
  const r = await runInVm(files, { onOutput: (s) => process.stdout.write(s) });
  if (r.status === undefined) process.stderr.write("the VM ended without the command's exit status (it crashed or timed out)\n");
  process.exit(r.status ?? 1);
}
