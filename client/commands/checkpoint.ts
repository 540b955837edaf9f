// `imgcreate session clone|checkpoint|rollback|checkpoints|drop-checkpoint`: copies of a session's image
// to try something and go back, or to branch a build. Each is one quick call; the daemon does the work.
import { EXIT } from "../errors.js";
import { formatBytes, formatTable } from "../progress/format.js";
import { withConnection, type Context } from "./context.js";

export async function sessionClone(ctx: Context, id: string, name: string | undefined): Promise<number> {
  const clone = await withConnection(ctx, (c) => c.cloneSession(id, name));
  ctx.out.write(ctx.json ? JSON.stringify({ session: clone, from: id }) + "\n" : `${clone}\n`);
  return EXIT.ok;
}

export async function sessionCheckpoint(ctx: Context, id: string, name: string): Promise<number> {
  await withConnection(ctx, (c) => c.checkpoint(id, name));
  return EXIT.ok;
}

export async function sessionRollback(ctx: Context, id: string, name: string): Promise<number> {
  await withConnection(ctx, (c) => c.rollback(id, name));
  return EXIT.ok;
}

export async function sessionCheckpoints(ctx: Context, id: string): Promise<number> {
  // ListCheckpoints also brings the session's CheckpointUsage up to date.
  const [names, usage] = await withConnection(ctx, async (c) => [await c.listCheckpoints(id), (await c.getSession(id)).checkpointUsage] as const);
  if (ctx.json) for (const n of names) ctx.out.write(JSON.stringify({ session: id, checkpoint: n, bytes: usage[n] ?? 0 }) + "\n");
  else ctx.out.write(names.length ? formatTable([["CHECKPOINT", "SIZE"], ...names.map((n) => [n, formatBytes(usage[n] ?? 0)])]) : "no checkpoints\n");
  return EXIT.ok;
}

export async function sessionDropCheckpoint(ctx: Context, id: string, name: string): Promise<number> {
  await withConnection(ctx, (c) => c.dropCheckpoint(id, name));
  return EXIT.ok;
}
