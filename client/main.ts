// `imgcreate`: what people type. Parses the command line from the help table, dispatches, and turns every
// failure into one sentence on stderr and a documented exit status — never a stack trace.
import { parseCommandLine, type ParsedCommand } from "./args.js";
import { commandHelp, mainHelp } from "./help.js";
import { EXIT, describeError, exitCodeFor } from "./errors.js";
import { makeContext, type Context } from "./commands/context.js";
import type { Stage } from "./connection/types.js";
import { asImgcreateError } from "../daemon/errors.js";

export const VERSION = "0.1.0";

async function dispatch(p: ParsedCommand, ctx: Context): Promise<number> {
  // Commands are loaded when used, so `--help` and usage errors answer without loading D-Bus, qemu helpers, ...
  const { build, sessionOptions } = await import("./commands/build.js");
  const { sessionCancel, sessionClose, sessionCreate, sessionList, sessionLogs, sessionShell, sessionShow, sessionStage } = await import("./commands/session.js");
  const spec = p.spec!;
  const v = p.values;
  const [cmd, sub] = spec.path;
  const arg = p.positionals[0]!;
  switch (cmd) {
    case "build":
      if (typeof v["session"] === "string") return (await import("./commands/rebuild.js")).rebuild(ctx, v["session"], p.positionals[0], typeof v["output"] === "string" ? v["output"] : ".");
      return build(ctx, {
        kickstart: arg,
        outdir: typeof v["output"] === "string" ? v["output"] : ".",
        options: sessionOptions(v, arg),
        shell: v["shell"] === true,
        keepSession: v["keep-session"] === true,
      });
    case "shell":
      return sessionShell(ctx, arg, p.passthrough);
    case "boot-test":
      return (await import("./commands/boot-test.js")).bootTest(ctx, arg, v);
    case "version":
      return version(ctx);
    case "cache": {
      const { cacheList, cachePrune } = await import("./commands/cache.js");
      return sub === "list" ? cacheList(ctx) : cachePrune(ctx, v["max-size"]);
    }
    case "session":
      switch (sub) {
        case "create": return sessionCreate(ctx, arg, v);
        case "edit": return (await import("./commands/rebuild.js")).sessionEdit(ctx, arg, p.positionals[1]!);
        case "list": return sessionList(ctx);
        case "show": return sessionShow(ctx, arg);
        case "cancel": return sessionCancel(ctx, arg);
        case "close": return sessionClose(ctx, arg);
        case "shell": return sessionShell(ctx, arg, p.passthrough);
        case "logs": return sessionLogs(ctx, arg, v["follow"] === true);
        case "clone": return (await import("./commands/checkpoint.js")).sessionClone(ctx, arg, typeof v["name"] === "string" ? v["name"] : undefined);
        case "checkpoint": return (await import("./commands/checkpoint.js")).sessionCheckpoint(ctx, arg, p.positionals[1]!);
        case "rollback": return (await import("./commands/checkpoint.js")).sessionRollback(ctx, arg, p.positionals[1]!);
        case "checkpoints": return (await import("./commands/checkpoint.js")).sessionCheckpoints(ctx, arg);
        case "drop-checkpoint": return (await import("./commands/checkpoint.js")).sessionDropCheckpoint(ctx, arg, p.positionals[1]!);
        default: return sessionStage(ctx, arg, sub as Stage, v);
      }
  }
  throw new Error(`no handler for ${spec.path.join(" ")}`);
}

async function version(ctx: Context): Promise<number> {
  let daemon = "not reachable";
  try {
    const conn = await ctx.connect();
    try {
      daemon = `${await conn.version()} (${conn.transport})`;
    } finally {
      conn.disconnect();
    }
  } catch {
    // the client's version is still worth printing
  }
  ctx.out.write(ctx.json ? JSON.stringify({ client: VERSION, daemon }) + "\n" : `imgcreate ${VERSION}\nimgcreated ${daemon}\n`);
  return EXIT.ok;
}

/** Runs the CLI and returns the exit status (tests call this; the bin calls main()). */
export async function run(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    err.write(`imgcreate: ${describeError(e)}\n`);
    return exitCodeFor(e);
  }
  const ctx = makeContext(parsed.globals, out, err);
  if (parsed.ks) return (await import("./commands/ks-dispatch.js")).runKsCommand(parsed.ks.argv, out, err);
  if (parsed.globals.help) {
    out.write(parsed.spec ? commandHelp(parsed.spec) : mainHelp());
    return EXIT.ok;
  }
  try {
    return await dispatch(parsed, ctx);
  } catch (e) {
    const code = exitCodeFor(e);
    if (code === EXIT.cancelled) err.write("imgcreate: cancelled\n");
    else err.write(`imgcreate: ${describeError(e)}\n`);
    if (ctx.json && parsed.spec?.path[0] !== "build") {
      out.write(JSON.stringify({ event: "error", error: asImgcreateError(e).code, exitCode: code, message: describeError(e) }) + "\n");
    }
    return code;
  }
}

export async function main(): Promise<void> {
  // Anything that escapes is still reported as a sentence, not a stack trace.
  process.on("uncaughtException", (e) => {
    process.stderr.write(`imgcreate: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.failed);
  });
  const code = await run(process.argv.slice(2));
  process.exitCode = code;
  // Let streams drain, then leave even if a library keeps a handle open.
  setImmediate(() => process.exit(code));
}

// Only when run as the program (bin/imgcreate imports this module for its side effect).
if (process.argv[1] && /(?:^|\/)(imgcreate|main\.[jt]s)$/.test(process.argv[1])) void main();
