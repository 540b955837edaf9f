// The daemon's logging (winston): one line per event on stderr, with journald's "<N>" priority prefix when
// systemd started us (it sets JOURNAL_STREAM), and one log file per session in its state dir.
import { createWriteStream, type WriteStream } from "node:fs";
import winston from "winston";

/** syslog priorities: what journald, LogMessage and the session log all use. */
export const PRIORITY = { emerg: 0, alert: 1, crit: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 } as const;
export type Level = keyof typeof PRIORITY;

export function levelOfPriority(p: number): Level {
  const entry = Object.entries(PRIORITY).find(([, v]) => v === p);
  return (entry?.[0] as Level | undefined) ?? "info";
}

function journaldLine(): winston.Logform.Format {
  return winston.format.printf((i) => `<${PRIORITY[i.level as Level] ?? 6}>${String(i.message)}${fields(i)}`);
}

function plainLine(): winston.Logform.Format {
  return winston.format.printf((i) => `${String(i.timestamp)} ${i.level}: ${String(i.message)}${fields(i)}`);
}

/** Extra metadata as " key=value" pairs, so a line stays one line. */
function fields(i: winston.Logform.TransformableInfo): string {
  let s = "";
  for (const [k, v] of Object.entries(i)) {
    if (k === "level" || k === "message" || k === "timestamp" || typeof k === "symbol") continue;
    s += ` ${k}=${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v ?? null)}`;
  }
  return s.replace(/\n/g, "\\n");
}

export type Logger = winston.Logger;

/** The daemon's logger. `journald` defaults to whether systemd connected stderr to the journal. */
export function createLogger(opts: { level?: Level; journald?: boolean } = {}): Logger {
  const journald = opts.journald ?? process.env.JOURNAL_STREAM !== undefined;
  return winston.createLogger({
    levels: PRIORITY,
    level: opts.level ?? (process.env.IMGCREATED_DEBUG ? "debug" : "info"),
    format: journald ? journaldLine() : winston.format.combine(winston.format.timestamp(), plainLine()),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(PRIORITY) })],
  });
}

/** The file stream under each session logger, ended by endSessionLogger once the logger has drained. */
const sessionStreams = new WeakMap<Logger, WriteStream>();

/**
 * A session's own log file (<state-dir>/sessions/<id>/log): timestamped lines, appended across restarts.
 * Written through our own stream with an error handler: a session log that cannot be written (closed
 * under a late line, a full disk) must never take the daemon and every other session down with it.
 */
export function createSessionLogger(file: string): Logger {
  const stream = createWriteStream(file, { flags: "a", mode: 0o600 });
  stream.on("error", () => undefined);
  const logger = winston.createLogger({
    levels: PRIORITY,
    level: "debug",
    format: winston.format.combine(winston.format.timestamp(), plainLine()),
    transports: [new winston.transports.Stream({ stream })],
  });
  logger.on("error", () => undefined);
  sessionStreams.set(logger, stream);
  return logger;
}

/** Ends a session logger after every line written so far has reached the file, then closes the file. */
export async function endSessionLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    logger.on("finish", () => {
      clearTimeout(timer);
      resolve();
    });
    logger.end();
  });
  const stream = sessionStreams.get(logger);
  if (stream) await new Promise<void>((resolve) => stream.end(resolve));
}
