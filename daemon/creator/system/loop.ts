// Loop devices: the one module that owns them. attach() binds a file to a free device in ONE
// command: `losetup --find --show` asks the kernel for a free device and configures it with a single
// LOOP_CONFIGURE ioctl, retrying on EBUSY, so two sessions can never race for the same device
// (livecd-tools' `losetup -f` then `losetup DEV FILE` could).
import { ImgcreateError } from "../../errors.js";
import { run } from "./exec.js";

/** Attaches file to a free loop device and returns the device path (/dev/loopN). */
export async function attach(file: string, opts: { readOnly?: boolean } = {}): Promise<string> {
  const args = ["losetup", "--find", "--show", "--nooverlap"];
  if (opts.readOnly) args.push("--read-only");
  const res = await run([...args, file]);
  return res.stdout.trim();
}

/**
 * The loop devices currently bound to file (by the kernel's own record of the backing file); with
 * readOnly, only the read-only ones (another session's clone reading this session's image).
 */
export async function devicesFor(file: string, opts: { readOnly?: boolean } = {}): Promise<string[]> {
  const res = await run(["losetup", "--noheadings", "--raw", "--output", "NAME,RO", "--associated", file]);
  return res.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, ro]) => name && (!opts.readOnly || ro === "1"))
    .map(([name]) => name!);
}

/** Detaches dev; retries briefly because udev or a just-finished umount may still hold it. */
export async function detach(dev: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run(["losetup", "--detach", dev]);
      return;
    } catch (err) {
      // ENXIO: the device is bound to nothing any more (another detach or autoclear got there first).
      if (/No such device or address/.test((err as Error).message)) return;
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Detaches every loop device bound to file and waits until the kernel has really let go: a detach
 * while something (udev's probe after an umount) still has the device open only marks it for
 * autoclear, and the file stays bound until that opener closes.
 */
export async function detachFile(file: string, opts: { readOnly?: boolean; timeoutMs?: number } = {}): Promise<void> {
  for (const dev of await devicesFor(file, opts)) await detach(dev);
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const left = await devicesFor(file, opts);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new ImgcreateError("Busy", `loop device ${left.join(", ")} for ${file} is still held open after detaching; close what uses it and clean up again`, { devices: left });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
