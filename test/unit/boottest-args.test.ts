// The boot helper's pure parts: the qemu command line it builds for each firmware and medium, and the
// report a user reads when a boot fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bootTest, formatBootResult, qemuArgs, type BootTestResult } from "../../client/boottest.js";
import { ImgcreateError } from "../../daemon/errors.js";

const base = { memoryMiB: 1024, cpus: 2 } as const;

function after(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test("a BIOS CD boot uses SeaBIOS and attaches the ISO read-only as a CD", () => {
  const a = qemuArgs("/x/live.iso", { ...base, firmware: "bios", media: "cdrom", accel: "tcg" });
  assert.equal(a.includes("-bios"), false);
  const drive = after(a, "-drive")[0]!;
  assert.match(drive, /file=\/x\/live\.iso/);
  assert.match(drive, /media=cdrom/);
  assert.match(drive, /readonly=on/);
  assert.ok(after(a, "-device").some((d) => d.startsWith("ide-cd,")));
});

test("a UEFI boot loads OVMF", () => {
  const a = qemuArgs("/x/live.iso", { ...base, firmware: "uefi", media: "cdrom", accel: "tcg" });
  assert.match(after(a, "-bios")[0]!, /OVMF\.fd$/);
});

test("a USB boot attaches the raw disk to a USB controller as a throwaway snapshot", () => {
  const a = qemuArgs("/x/disk.raw", { ...base, firmware: "bios", media: "usb", accel: "tcg" });
  assert.match(after(a, "-drive")[0]!, /snapshot=on/);
  assert.ok(after(a, "-device").some((d) => d.startsWith("usb-storage,")));
  assert.ok(after(a, "-device").some((d) => d.startsWith("qemu-xhci")));
});

test("TCG uses multi-threaded emulation with the qemu64 CPU; KVM the host CPU", () => {
  const t = qemuArgs("/x.iso", { ...base, firmware: "bios", media: "cdrom", accel: "tcg" });
  assert.deepEqual(after(t, "-accel"), ["tcg,thread=multi"]);
  assert.deepEqual(after(t, "-cpu"), ["qemu64"]);
  const k = qemuArgs("/x.iso", { ...base, firmware: "bios", media: "cdrom", accel: "kvm" });
  assert.deepEqual(after(k, "-accel"), ["kvm"]);
});

test("the serial console is on stdio and nothing graphical starts", () => {
  const a = qemuArgs("/x.iso", { ...base, firmware: "bios", media: "cdrom", accel: "tcg" });
  assert.deepEqual(after(a, "-serial"), ["stdio"]);
  assert.deepEqual(after(a, "-display"), ["none"]);
  assert.ok(a.includes("-no-reboot"));
});

test("a failed boot reports the reason and the last serial lines; a good one the time", () => {
  const r: BootTestResult = { ok: false, seconds: 12.3, accel: "tcg", firmware: "uefi", media: "cdrom", reason: "timeout after 10 s", lastLines: ["Booting `Start'", "dracut: FATAL: no root"] };
  const text = formatBootResult(r);
  assert.match(text, /UEFI cdrom boot \(tcg\) failed after 12\.3 s: timeout after 10 s/);
  assert.match(text, /dracut: FATAL: no root/);
  assert.match(formatBootResult({ ...r, ok: true, reason: undefined }), /marker after 12\.3 s/);
});

test("booting a file that does not exist is an InvalidArgs error, not a crash", async () => {
  await assert.rejects(bootTest("/nonexistent/live.iso"), (e: unknown) => e instanceof ImgcreateError && e.code === "InvalidArgs");
});
