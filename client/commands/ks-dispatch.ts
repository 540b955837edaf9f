// `imgcreate ks ...` belongs to the kickstart tool (client/commands/ks.ts, runKs(argv, io)); this only
// hands it the words and the streams, and turns a missing module into a clear error.
import { readFileSync } from "node:fs";
import { EXIT } from "../errors.js";

type RunKs = (argv: string[], io: unknown) => number | Promise<number>;

// Loaded by name: ks.ts is written in parallel and this file must build without it.
const KS_MODULE = "./ks.js";

export async function runKsCommand(argv: string[], out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  let runKs: RunKs | undefined;
  try {
    runKs = ((await import(KS_MODULE)) as { runKs?: RunKs }).runKs;
  } catch {
    runKs = undefined;
  }
  if (!runKs) {
    err.write("imgcreate: the kickstart tool is not built in this installation (run `npm run build`)\n");
    return EXIT.failed;
  }
  const io = {
    stdout: out,
    stderr: err,
    out: (s: string) => out.write(s),
    err: (s: string) => err.write(s),
    cwd: process.cwd(),
    readFile: (p: string) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    },
  };
  return await runKs(argv, io);
}
