// `imgcreate build --session ID [KICKSTART]` and `imgcreate session edit ID KICKSTART`: the loop a user
// iterates in. The kept session's image is mounted again as it was left, Install adds and removes the
// package difference, Configure runs the settings and %post again, and the artifact is written anew.
import { ImgcreateError } from "../../daemon/errors.js";
import { EXIT } from "../errors.js";
import { readKickstart } from "../kickstart.js";
import { STAGES, type Connection, type Stage } from "../connection/types.js";
import { pickRenderer } from "../progress/renderers.js";
import { Interrupt, runStage } from "./stages.js";
import { checkOutdir } from "./build.js";
import type { Context } from "./context.js";

/** Sends the kickstart at path (read and checked here, with your rights) as the session's new one. */
async function sendKickstart(ctx: Context, conn: Connection, id: string, path: string): Promise<void> {
  const ks = await readKickstart(path);
  for (const w of ks.warnings) ctx.err.write(`${w}\n`);
  await conn.setKickstart(id, ks.text, ks.includes, ks.where);
}

export async function sessionEdit(ctx: Context, id: string, kickstart: string): Promise<number> {
  const conn = await ctx.connect();
  try {
    await sendKickstart(ctx, conn, id, kickstart);
  } finally {
    conn.disconnect();
  }
  if (ctx.json) ctx.out.write(JSON.stringify({ event: "kickstart-replaced", session: id }) + "\n");
  return EXIT.ok;
}

/** The stages still to run from a session's state (a mounted session goes on from where it is). */
function stagesFrom(state: string): Stage[] {
  const next: Record<string, Stage> = { mounted: "install", installed: "configure", configured: "unmount", unmounted: "mount", packaged: "mount" };
  const first = next[state] ?? "mount";
  return STAGES.slice(STAGES.indexOf(first));
}

export async function rebuild(ctx: Context, id: string, kickstart: string | undefined, outdir: string): Promise<number> {
  const out = checkOutdir(outdir);
  const conn = await ctx.connect();
  const render = pickRenderer(ctx.json, ctx.out);
  const interrupt = new Interrupt((m) => render.note(m));
  try {
    if (kickstart !== undefined) await sendKickstart(ctx, conn, id, kickstart);
    const before = await conn.getSession(id);
    if (before.job) throw new ImgcreateError("Busy", `session ${id} is running a ${before.job.operation} job`);
    render.note(`rebuilding session ${id} (${before.name}) from ${before.state}`, { session: id });
    for (const stage of stagesFrom(before.state)) await runStage(conn, id, stage, render, interrupt, stage === "package" ? out : undefined);
    const info = await conn.getSession(id);
    render.finish();
    for (const a of info.artifacts) ctx.out.write(ctx.json ? JSON.stringify({ event: "artifact", path: a }) + "\n" : `wrote ${a}\n`);
    if (ctx.json) ctx.out.write(JSON.stringify({ event: "result", success: true, session: id, artifacts: info.artifacts }) + "\n");
    return EXIT.ok;
  } finally {
    render.finish();
    interrupt.dispose();
    conn.disconnect();
  }
}
