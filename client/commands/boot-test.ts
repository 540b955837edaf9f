// `imgcreate boot-test ISO [--uefi|--bios]`: the live-image work's boot proof (client/boottest.ts), offered
// to users. It runs qemu as the user, on a file the user can read; no daemon is involved.
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { ImgcreateError } from "../../daemon/errors.js";
import { EXIT, usageError } from "../errors.js";
import type { Context } from "./context.js";
import { fit } from "../progress/format.js";
import { bootTest as runBootTest, formatBootResult, DEFAULT_MARKER, type BootTestOptions } from "../boottest.js";

type Values = Record<string, string | boolean | undefined>;

/**
 * Without --marker: the test images' marker, or any image's serial console getting its login service —
 * what a user's own image shows when it has booted (a bare "login:" prompt has no newline to end its line).
 */
export const DEFAULT_BOOT_PROOF = new RegExp(`${DEFAULT_MARKER}|Serial Getty on ttyS0|Started serial-getty@ttyS0`);

export interface BootRequest {
  iso: string;
  options: BootTestOptions;
}

export function bootRequest(iso: string, v: Values, onLine?: (l: string) => void): BootRequest {
  if (v["uefi"] === true && v["bios"] === true) throw usageError("choose one of --uefi and --bios", ["boot-test"]);
  const timeout = typeof v["timeout"] === "string" ? Number(v["timeout"]) : 600;
  if (!Number.isInteger(timeout) || timeout <= 0) throw usageError(`--timeout needs a whole number of seconds, not '${String(v["timeout"])}'`, ["boot-test"]);
  const abs = resolve(iso);
  try {
    accessSync(abs, constants.R_OK);
  } catch {
    throw new ImgcreateError("InvalidArgs", `cannot read ${abs}; give the path of a live ISO you can read`, { exitCode: EXIT.usage });
  }
  const marker = typeof v["marker"] === "string" ? v["marker"] : DEFAULT_BOOT_PROOF;
  return { iso: abs, options: { firmware: v["uefi"] === true ? "uefi" : "bios", marker, timeoutMs: timeout * 1000, onLine } };
}

export async function bootTest(ctx: Context, iso: string, v: Values): Promise<number> {
  const stop = new AbortController();
  const onInt = () => stop.abort();
  process.on("SIGINT", onInt);
  try {
    // On a terminal, the latest serial console line is shown in place while waiting.
    const live = !ctx.json && ctx.err.isTTY === true;
    const width = () => Math.max(20, (ctx.err.columns || 80) - 1);
    const req = bootRequest(iso, v, live ? (line) => void ctx.err.write(`\r\x1b[2K${fit(line, width())}`) : undefined);
    req.options.signal = stop.signal;
    if (!ctx.json) ctx.err.write(`booting ${req.iso} (${req.options.firmware}) in qemu; waiting for ${req.options.marker instanceof RegExp ? "the system to come up" : `'${req.options.marker}'`} on the serial console...\n`);
    const r = await runBootTest(req.iso, req.options);
    if (live) ctx.err.write("\r\x1b[2K");
    if (ctx.json) ctx.out.write(JSON.stringify({ event: "boot-test", iso: req.iso, ...r }) + "\n");
    else (r.ok ? ctx.out : ctx.err).write(formatBootResult(r) + "\n");
    if (!r.ok && stop.signal.aborted) return EXIT.cancelled;
    return r.ok ? EXIT.ok : EXIT.failed;
  } finally {
    process.off("SIGINT", onInt);
  }
}
