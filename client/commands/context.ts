// What every command gets: where to write, whether to speak JSON, and how to reach the daemon.
import type { Globals } from "../args.js";
import { connect } from "../connection/index.js";
import type { Connection } from "../connection/types.js";

export interface Context {
  globals: Globals;
  json: boolean;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  connect(): Promise<Connection>;
}

export function makeContext(globals: Globals, out = process.stdout, err = process.stderr): Context {
  return { globals, json: globals.json, out, err, connect: () => connect({ transport: globals.transport, socket: globals.socket }) };
}

/** Runs fn on a connection to the daemon that is closed afterwards, whatever happens. */
export async function withConnection<T>(ctx: Context, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await ctx.connect();
  try {
    return await fn(conn);
  } finally {
    conn.disconnect();
  }
}
