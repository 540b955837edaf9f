// `imgcreate boot-test ISO [--uefi|--bios]`: the live-image work's boot proof (client/boottest.ts), offered
// to users. It runs qemu as the user, on a file the user can read; no daemon is involved.
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { ImgcreateError } from "../../daemon/errors.js";
import { EXIT, usageError } from "../errors.js";
import type { Context } from "./context.js";

type Values = Record<string, string | boolean | undefined>;
export interface BootRequest {
  iso: string;
  firmware: "bios" | "uefi";
  marker?: string;
  timeoutSec: number;
  log: (line: string) => void;
}
export interface BootOutcome {
  ok: boolean;
  seconds?: number;
  message?: string;
  tail?: string[];
}

// Loaded by name: boottest.ts is written in parallel and this file must build without it.
const BOOTTEST_MODULE = "../boottest.js";

export function bootRequest(iso: string, v: Values, log: (l: string) => void): BootRequest {
  if (v["uefi"] === true && v["bios"] === true) throw usageError("choose one of --uefi and --bios", ["boot-test"]);
  const timeout = typeof v["timeout"] === "string" ? Number(v["timeout"]) : 600;
  if (!Number.isInteger(timeout) || timeout <= 0) throw usageError(`--timeout needs a whole number of seconds, not '${String(v["timeout"])}'`, ["boot-test"]);
  const abs = resolve(iso);
  try {
    accessSync(abs, constants.R_OK);
  } catch {
    throw new ImgcreateError("InvalidArgs", `cannot read ${abs}; give the path of a live ISO you can read`, { exitCode: EXIT.usage });
  }
  return { iso: abs, firmware: v["uefi"] === true ? "uefi" : "bios", marker: typeof v["marker"] === "string" ? v["marker"] : undefined, timeoutSec: timeout, log };
}

export async function bootTest(ctx: Context, iso: string, v: Values): Promise<number> {
  const req = bootRequest(iso, v, (l) => ctx.err.write(l + "\n"));
  let mod: Record<string, unknown>;
  try {
    mod = (await import(BOOTTEST_MODULE)) as Record<string, unknown>;
  } catch {
    throw new ImgcreateError("Failed", "boot-test is not built in this installation (run `npm run build`)");
  }
  const fn = (mod["bootTest"] ?? mod["bootIso"] ?? mod["default"]) as ((r: BootRequest) => Promise<BootOutcome>) | undefined;
  if (typeof fn !== "function") throw new ImgcreateError("Failed", "boot-test helper has no entry point");
  const r = await fn(req);
  if (ctx.json) ctx.out.write(JSON.stringify({ event: "boot-test", iso: req.iso, firmware: req.firmware, ...r }) + "\n");
  else if (r.ok) ctx.out.write(`booted ${req.iso} (${req.firmware}) to the marker in ${r.seconds?.toFixed(0) ?? "?"} s\n`);
  else ctx.err.write(`boot-test failed: ${r.message ?? "no marker"}\n${(r.tail ?? []).map((l) => "  " + l).join("\n")}\n`);
  return r.ok ? EXIT.ok : EXIT.failed;
}
