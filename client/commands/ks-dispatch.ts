// `imgcreate ks ...` belongs to the kickstart tool (client/commands/ks.ts, runKs(argv, io)); this only
// hands it the words and the streams of this process.
import { runKs } from "./ks.js";

export async function runKsCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  return runKs(argv, { stdout: out, stderr: err, cwd: process.cwd() });
}
