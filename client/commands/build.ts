// `imgcreate build KICKSTART`: the one-shot build. Checks the kickstart locally, creates a session, runs
// the stages one by one with live progress, writes the artifact into DIR with the user's rights, and
// closes the session — also when it fails or is cancelled (unless --keep-session).
import { accessSync, constants, statSync } from "node:fs";
import { resolve } from "node:path";
import { formatCompression, parseCompression } from "../../daemon/compression.js";
import { ImgcreateError, asImgcreateError } from "../../daemon/errors.js";
import { EXIT, describeError, usageError } from "../errors.js";
import { readKickstart, defaultName } from "../kickstart.js";
import { STAGES, type Connection, type SessionOptions } from "../connection/types.js";
import { pickRenderer, type Renderer } from "../progress/renderers.js";
import { Interrupt, runStage } from "./stages.js";
import { runShell } from "./shell.js";
import type { Context } from "./context.js";

export interface BuildRequest {
  kickstart: string;
  outdir: string;
  options: SessionOptions;
  shell: boolean;
  keepSession: boolean;
  /** How to show progress (default: picked from --json and whether stdout is a terminal). */
  renderer?: Renderer;
}

/** --compression TYPE[:LEVEL], checked here with the daemon's own rules so a typo is a usage error before any work. */
export function compressionOption(text: string | undefined, command: string[]): string | undefined {
  if (text === undefined) return undefined;
  try {
    return formatCompression(parseCompression(text));
  } catch (err) {
    throw usageError(`--compression: ${asImgcreateError(err).message}`, command);
  }
}

/** Session options from parsed command-line values (shared with `session create` and the compat front ends). */
export function sessionOptions(values: Record<string, string | boolean | undefined>, kickstart: string, command = ["build"]): SessionOptions {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const type = str("type") as SessionOptions["type"];
  const o: SessionOptions = {
    name: str("name") ?? defaultName(kickstart),
    type,
    fslabel: str("fslabel"),
    title: str("title"),
    product: str("product"),
    releasever: str("releasever"),
    compression: compressionOption(str("compression") ?? str("compression-type"), command),
  };
  if (values["flat-squashfs"] === true) o["flat-squashfs"] = true;
  return o;
}

/** The output directory must exist and be writable by the user running the client: the daemon writes as them. */
export function checkOutdir(dir: string): string {
  const abs = resolve(dir);
  try {
    if (!statSync(abs).isDirectory()) throw usageError(`${abs} is not a directory`, ["build"]);
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof ImgcreateError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new ImgcreateError("InvalidArgs", code === "ENOENT" ? `output directory ${abs} does not exist; create it or choose another with -o` : `you cannot write to ${abs}; choose another directory with -o`, { exitCode: EXIT.usage });
  }
  return abs;
}

export async function build(ctx: Context, req: BuildRequest): Promise<number> {
  const ks = await readKickstart(req.kickstart);
  for (const w of ks.warnings) ctx.err.write(`${w}\n`);
  const outdir = checkOutdir(req.outdir);
  const conn = await ctx.connect();
  const render = req.renderer ?? pickRenderer(ctx.json, ctx.out);
  const interrupt = new Interrupt((m) => render.note(m));
  let id: string | undefined;
  try {
    id = await conn.createSession(ks.text, ks.includes, { ...req.options, ...ks.where });
    render.note(`session ${id} created (${req.options.name})`, { session: id });
    await runAll(conn, id, outdir, render, interrupt, req.shell);
    const info = await conn.getSession(id);
    render.finish();
    for (const a of info.artifacts) ctx.out.write(ctx.json ? JSON.stringify({ event: "artifact", path: a }) + "\n" : `wrote ${a}\n`);
    if (ctx.json) ctx.out.write(JSON.stringify({ event: "result", success: true, session: id, artifacts: info.artifacts }) + "\n");
    return EXIT.ok;
  } catch (err) {
    render.finish();
    const e = interrupt.interrupted ? new ImgcreateError("Cancelled", "cancelled") : err;
    if (ctx.json) ctx.out.write(JSON.stringify({ event: "result", success: false, session: id ?? null, error: (e as ImgcreateError).code ?? "Failed", message: describeError(e) }) + "\n");
    throw e;
  } finally {
    if (id !== undefined) await finishSession(ctx, conn, id, req.keepSession, interrupt.interrupted);
    interrupt.dispose();
    conn.disconnect();
  }
}

async function runAll(conn: Connection, id: string, outdir: string, render: Renderer, interrupt: Interrupt, shell: boolean): Promise<void> {
  for (const stage of STAGES) {
    await runStage(conn, id, stage, render, interrupt, stage === "package" ? outdir : undefined);
    if (stage === "configure" && shell) {
      render.finish();
      const status = await runShell(conn, id, []);
      if (status !== 0) render.note(`shell exited with status ${status}; continuing the build`);
      if (interrupt.interrupted) throw new ImgcreateError("Cancelled", "cancelled");
    }
  }
}

/** Close the session (cancelled and failed ones too) unless asked to keep it; say where it is when kept. */
async function finishSession(ctx: Context, conn: Connection, id: string, keep: boolean, cancelled: boolean): Promise<void> {
  if (keep) {
    if (!ctx.json) ctx.err.write(`session ${id} kept: see \`imgcreate session show ${id}\`, close it with \`imgcreate session close ${id}\`\n`);
    return;
  }
  try {
    await conn.closeSession(id);
  } catch (err) {
    ctx.err.write(`imgcreate: could not close session ${id}: ${describeError(err)}; close it with \`imgcreate session close ${id}\`\n`);
  }
  if (cancelled && !ctx.json) ctx.err.write(`cancelled; session ${id} closed\n`);
}
