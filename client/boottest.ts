// Proof that a live ISO boots: qemu-system-x86_64, headless, serial console on a pipe, BIOS (SeaBIOS)
// or UEFI (OVMF), the ISO as a CD or as a USB disk; waits for a marker line with a timeout.
// KVM is used only where a short probe shows a guest kernel really runs under it (on nested or
// paravirtual hosts /dev/kvm may open and still not boot a stock kernel); otherwise TCG.
import { execa, type ResultPromise } from "execa";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ImgcreateError } from "../daemon/errors.js";

export type Firmware = "bios" | "uefi";
export type BootMedia = "cdrom" | "usb";
export type Accel = "kvm" | "tcg";

export interface BootTestOptions {
  firmware?: Firmware;
  media?: BootMedia;
  /** The line to wait for on the serial console (a substring or a pattern). */
  marker?: string | RegExp;
  /** Give up after this long (default 6 minutes). */
  timeoutMs?: number;
  memoryMiB?: number;
  cpus?: number;
  /** "auto" (default) probes once whether KVM really boots a kernel, and caches the answer. */
  accel?: Accel | "auto";
  /** Every serial line as it arrives. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BootTestResult {
  ok: boolean;
  /** Seconds from starting qemu to the marker (or to giving up). */
  seconds: number;
  accel: Accel;
  firmware: Firmware;
  media: BootMedia;
  /** The line that matched. */
  markerLine?: string;
  /** Why it failed: "timeout", "qemu exited (…)", "cancelled". */
  reason?: string;
  /** The last serial lines (up to 40), for a failure report. */
  lastLines: string[];
}

export const DEFAULT_MARKER = "IMGCREATE-BOOT-OK";
const QEMU = "qemu-system-x86_64";
const OVMF_CANDIDATES = ["/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF.fd", "/usr/share/qemu/OVMF.fd"];
const PROBE_CACHE = "/run/imgcreate/kvm-probe.json";

function which(tool: string): boolean {
  const dirs = (process.env.PATH ?? "/usr/bin:/bin").split(":").concat(["/usr/bin", "/usr/sbin"]);
  return dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function ovmfPath(): string {
  const p = OVMF_CANDIDATES.find((c) => existsSync(c));
  if (!p) throw new ImgcreateError("Failed", "UEFI firmware (OVMF.fd) not found: install the Debian package ovmf");
  return p;
}

function requireQemu(): void {
  if (!which(QEMU)) throw new ImgcreateError("Failed", `${QEMU} not found: install the Debian package qemu-system-x86`);
}

function accelArgs(accel: Accel): string[] {
  // -cpu max caused soft lockups under TCG here; qemu64 is slow but steady.
  return accel === "kvm" ? ["-accel", "kvm", "-cpu", "host"] : ["-accel", "tcg,thread=multi", "-cpu", "qemu64"];
}

/** qemu's arguments for one boot. The medium is opened read-only / as a throwaway snapshot: a test never changes it. */
export function qemuArgs(image: string, o: { firmware: Firmware; media: BootMedia; accel: Accel; memoryMiB: number; cpus: number }): string[] {
  const args = [
    "-machine", "q35", ...accelArgs(o.accel), "-m", String(o.memoryMiB), "-smp", String(o.cpus),
    "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
  ];
  if (o.firmware === "uefi") args.push("-bios", ovmfPath());
  if (o.media === "cdrom") {
    args.push("-drive", `file=${image},media=cdrom,if=none,id=live,readonly=on,format=raw`, "-device", "ide-cd,drive=live,bootindex=0");
  } else {
    args.push("-drive", `file=${image},if=none,id=live,format=raw,snapshot=on`,
      "-device", "qemu-xhci,id=xhci", "-device", "usb-storage,bus=xhci.0,drive=live,removable=on,bootindex=0");
  }
  return args;
}

function matches(line: string, marker: string | RegExp): boolean {
  return typeof marker === "string" ? line.includes(marker) : marker.test(line);
}

interface RunResult {
  ok: boolean;
  line?: string;
  reason?: string;
  lastLines: string[];
  ms: number;
}

/** Starts qemu, reads serial lines until the marker, an exit, the timeout or a cancel; always stops and reaps qemu. */
async function runQemu(args: string[], marker: string | RegExp, timeoutMs: number, onLine?: (l: string) => void, signal?: AbortSignal): Promise<RunResult> {
  const started = Date.now();
  const lastLines: string[] = [];
  const child: ResultPromise = execa(QEMU, args, { stdin: "ignore", stderr: "pipe", reject: false, buffer: false, forceKillAfterDelay: 5000 });
  let done!: (r: Omit<RunResult, "lastLines" | "ms">) => void;
  const finished = new Promise<Omit<RunResult, "lastLines" | "ms">>((res) => (done = res));
  let partial = "";
  const take = (line: string): void => {
    // Strip the firmware's terminal escapes so the lines read as text.
    const clean = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\x00-\x08\x0b-\x1f]/g, "").trimEnd();
    if (clean === "") return;
    lastLines.push(clean);
    if (lastLines.length > 40) lastLines.shift();
    onLine?.(clean);
    if (matches(clean, marker)) done({ ok: true, line: clean });
  };
  child.stdout?.setEncoding("latin1");
  child.stdout?.on("data", (chunk: string) => {
    const parts = (partial + chunk).split(/\r?\n|\r/);
    partial = parts.pop() ?? "";
    parts.forEach(take);
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (c: string) => (stderr = (stderr + c).slice(-2000)));
  const timer = setTimeout(() => done({ ok: false, reason: `timeout after ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
  const onAbort = (): void => done({ ok: false, reason: "cancelled" });
  signal?.addEventListener("abort", onAbort, { once: true });
  void child.then((r) => {
    if (partial) take(partial);
    done({ ok: false, reason: `qemu exited (${r.exitCode ?? r.signal}) ${stderr.trim().split("\n").slice(-3).join(" / ")}`.trim() });
  });
  const result = await finished;
  clearTimeout(timer);
  signal?.removeEventListener("abort", onAbort);
  child.kill("SIGTERM");
  await child;
  return { ...result, lastLines, ms: Date.now() - started };
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
}

let probed: Accel | undefined;

/**
 * Does KVM really boot a kernel here? Boots `kernel` (no initramfs, no root) under KVM and waits for it
 * to reach the point where it looks for a root file system. The answer is cached per host boot.
 */
export async function probeAccel(kernel: string, timeoutMs = 30_000): Promise<Accel> {
  if (probed) return probed;
  try {
    const c = JSON.parse(await readFile(PROBE_CACHE, "utf8")) as { bootId: string; accel: Accel };
    if (c.bootId === bootId()) return (probed = c.accel);
  } catch {
    // no cache yet
  }
  let accel: Accel = "tcg";
  if (existsSync("/dev/kvm")) {
    const args = [...accelArgs("kvm"), "-m", "512", "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio",
      "-no-reboot", "-nic", "none", "-kernel", kernel, "-append", "console=ttyS0 panic=-1"];
    const r = await runQemu(args, /VFS: Unable to mount root|Kernel panic|Run \/init|No working init/, timeoutMs);
    if (r.ok) accel = "kvm";
  }
  await mkdir(dirname(PROBE_CACHE), { recursive: true }).catch(() => undefined);
  await writeFile(PROBE_CACHE, JSON.stringify({ bootId: bootId(), accel })).catch(() => undefined);
  return (probed = accel);
}

/** Pulls the kernel out of the ISO (xorriso: ISOs are never mounted) for the KVM probe. */
async function probeKernelOf(iso: string): Promise<Accel> {
  if (!existsSync("/dev/kvm")) return "tcg";
  if (probed) return probed;
  const dir = await mkdtemp(join(tmpdir(), "imgcreate-probe-"));
  try {
    const k = join(dir, "vmlinuz");
    const r = await execa("xorriso", ["-osirrox", "on", "-indev", iso, "-extract", "/images/pxeboot/vmlinuz", k], { reject: false });
    if (r.exitCode !== 0 || !existsSync(k)) return "tcg";
    return await probeAccel(k);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Boots `image` (an ISO, or a raw disk copy of it for media "usb") and waits for the marker. */
export async function bootTest(image: string, opts: BootTestOptions = {}): Promise<BootTestResult> {
  requireQemu();
  if (!existsSync(image)) throw new ImgcreateError("InvalidArgs", `${image} does not exist`);
  const firmware = opts.firmware ?? "bios";
  const media = opts.media ?? "cdrom";
  const accel = opts.accel && opts.accel !== "auto" ? opts.accel : await probeKernelOf(image);
  const args = qemuArgs(image, { firmware, media, accel, memoryMiB: opts.memoryMiB ?? 1536, cpus: opts.cpus ?? 2 });
  const r = await runQemu(args, opts.marker ?? DEFAULT_MARKER, opts.timeoutMs ?? 6 * 60_000, opts.onLine, opts.signal);
  return { ok: r.ok, seconds: r.ms / 1000, accel, firmware, media, markerLine: r.line, reason: r.reason, lastLines: r.lastLines };
}

/** A short human report: the time on success, the reason and the last serial lines on failure. */
export function formatBootResult(r: BootTestResult): string {
  const head = `${r.firmware.toUpperCase()} ${r.media} boot (${r.accel})`;
  if (r.ok) return `${head}: marker after ${r.seconds.toFixed(1)} s`;
  return [`${head} failed after ${r.seconds.toFixed(1)} s: ${r.reason}`, "last serial lines:", ...r.lastLines.map((l) => "  " + l)].join("\n");
}
