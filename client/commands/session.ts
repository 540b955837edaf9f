// `imgcreate session ...`: long-lived sessions driven one stage at a time. A session outlives the
// client; these commands only start, watch or end its jobs.
import { userInfo } from "node:os";
import { EXIT } from "../errors.js";
import { readKickstart } from "../kickstart.js";
import type { Connection, SessionInfo, Stage } from "../connection/types.js";
import { pickRenderer } from "../progress/renderers.js";
import { formatBytes, formatTable } from "../progress/format.js";
import { Interrupt, runStage } from "./stages.js";
import { checkOutdir, sessionOptions } from "./build.js";
import { runShell } from "./shell.js";
import { withConnection, type Context } from "./context.js";

type Values = Record<string, string | boolean | undefined>;

export async function sessionCreate(ctx: Context, kickstart: string, values: Values): Promise<number> {
  const ks = await readKickstart(kickstart);
  for (const w of ks.warnings) ctx.err.write(`${w}\n`);
  const id = await withConnection(ctx, (c) => c.createSession(ks.text, ks.includes, { ...sessionOptions(values, kickstart, ["session", "create"]), ...ks.where }));
  ctx.out.write(ctx.json ? JSON.stringify({ session: id }) + "\n" : `${id}\n`);
  return EXIT.ok;
}

function ownerName(uid: number): string {
  if (uid === userInfo().uid) return userInfo().username;
  return String(uid);
}

function jobText(s: SessionInfo): string {
  if (!s.job) return "-";
  const pct = s.job.progress === undefined ? "" : ` ${Math.floor(s.job.progress * 100)}%`;
  return `${s.job.operation} ${s.job.status}${pct}`;
}

export function sessionTable(list: SessionInfo[]): string {
  return formatTable([["ID", "NAME", "OWNER", "STATE", "JOB"], ...list.map((s) => [s.id, s.name, ownerName(s.owner), s.state, jobText(s)])]);
}

export async function sessionList(ctx: Context): Promise<number> {
  const list = await withConnection(ctx, (c) => c.listSessions());
  if (ctx.json) for (const s of list) ctx.out.write(JSON.stringify(s) + "\n");
  else ctx.out.write(list.length ? sessionTable(list) : "no sessions\n");
  return EXIT.ok;
}

export async function sessionShow(ctx: Context, id: string): Promise<number> {
  const s = await withConnection(ctx, (c) => c.getSession(id));
  if (ctx.json) {
    ctx.out.write(JSON.stringify(s) + "\n");
    return EXIT.ok;
  }
  const lines = [
    `Session:   ${s.id}`,
    `Name:      ${s.name}`,
    `Type:      ${s.type}`,
    `Owner:     ${ownerName(s.owner)} (uid ${s.owner})`,
    `State:     ${s.state}`,
    `Job:       ${jobText(s)}${s.job?.bytes ? `, ${formatBytes(s.job.bytes)}` : ""}`,
    `Artifacts: ${s.artifacts.length ? s.artifacts.join("\n           ") : "-"}`,
    `Checkpoints: ${Object.keys(s.checkpointUsage).length ? Object.entries(s.checkpointUsage).map(([n, b]) => `${n} (${formatBytes(b)})`).join(", ") : "-"}`,
  ];
  ctx.out.write(lines.join("\n") + "\n");
  return EXIT.ok;
}

/** One stage with progress. Ctrl-C cancels it; the session stays (it is long-lived by design). */
export async function sessionStage(ctx: Context, id: string, stage: Stage, values: Values): Promise<number> {
  const outdir = stage === "package" ? checkOutdir(typeof values["output"] === "string" ? values["output"] : ".") : undefined;
  const conn = await ctx.connect();
  const render = pickRenderer(ctx.json, ctx.out);
  const interrupt = new Interrupt((m) => render.note(m));
  try {
    await runStage(conn, id, stage, render, interrupt, outdir);
    render.finish();
    if (stage === "package") {
      const info = await conn.getSession(id);
      for (const a of info.artifacts) ctx.out.write(ctx.json ? JSON.stringify({ event: "artifact", path: a }) + "\n" : `wrote ${a}\n`);
    }
    return EXIT.ok;
  } finally {
    render.finish();
    interrupt.dispose();
    conn.disconnect();
  }
}

export async function sessionCancel(ctx: Context, id: string): Promise<number> {
  await withConnection(ctx, (c) => c.cancel(id));
  return EXIT.ok;
}

export async function sessionClose(ctx: Context, id: string): Promise<number> {
  await withConnection(ctx, (c) => c.closeSession(id));
  return EXIT.ok;
}

export async function sessionShell(ctx: Context, id: string, argv: string[]): Promise<number> {
  return withConnection(ctx, (c) => runShell(c, id, argv));
}

export async function sessionLogs(ctx: Context, id: string, follow: boolean): Promise<number> {
  const stop = new AbortController();
  const onInt = () => stop.abort();
  process.on("SIGINT", onInt);
  try {
    await withConnection(ctx, async (c) => {
      // The log so far (Session.GetLog), then, with --follow, the running job's lines until it ends.
      await c.logs(id, (line) => ctx.out.write(ctx.json ? JSON.stringify({ session: id, line }) + "\n" : line + "\n"), follow, stop.signal);
      // A pipe takes writes asynchronously: let the history reach it before the client exits.
      await new Promise<void>((r) => ctx.out.write("", () => r()));
    });
  } finally {
    process.off("SIGINT", onInt);
  }
  return EXIT.ok;
}
