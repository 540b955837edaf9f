// configure(): %post scripts, in file order. A chrooted script runs in the install root under the
// sandbox with an empty environment (as livecd-tools does); a --nochroot one runs with the host
// read-only, only INSTALL_ROOT and LIVE_ROOT writable, and those two variables set. Output streams
// as log lines; --log writes it to that path inside the install root; --erroronfail turns a
// non-zero exit into a stage failure naming the script's FILE:LINE and its last output lines.
import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import type { Script } from "../../kickstart/model.js";
import type { RootOps } from "./root-ops.js";

export interface ScriptContext {
  ops: RootOps;
  /** Host directory for --nochroot script files (inside the session's work dir). */
  scratch: string;
  liveRoot: string;
  signal?: AbortSignal;
  /** How long one script may run. */
  timeoutMs?: number;
  /** "outbound": the scripts get a user-mode network to the outside (never this host); default none. */
  network?: "none" | "outbound";
}

const TAIL = 10;

async function runOne(s: Script, index: number, ctx: ScriptContext): Promise<{ exitCode: number; output: string[] }> {
  const output: string[] = [];
  const onLine = (l: string) => {
    output.push(l);
    ctx.ops.log("info", l);
  };
  const base = {
    okCodes: Array.from({ length: 255 }, (_, i) => i + 1),
    onLine,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.timeoutMs ? { timeoutMs: ctx.timeoutMs } : {}),
  };
  const sandbox = ctx.ops.sandbox;
  const track = <T>(argv: string[], fn: (o: typeof base & { onSpawn?: (pid: number) => void }) => Promise<T>): Promise<T> =>
    ctx.ops.journal ? ctx.ops.journal.trackProcess(argv, (onSpawn) => fn({ ...base, onSpawn })) : fn(base);
  if (s.nochroot) {
    await mkdir(ctx.scratch, { recursive: true });
    const file = join(ctx.scratch, `post-${index}`);
    await writeFile(file, s.body, { mode: 0o700 });
    await chown(file, sandbox.ids.base, sandbox.ids.base); // readable by the sandbox's root only
    try {
      const res = await track([s.interpreter, file], (o) =>
        sandbox.run(
          { view: "host", writable: [ctx.liveRoot], readable: [file], env: { INSTALL_ROOT: ctx.ops.root, LIVE_ROOT: ctx.liveRoot }, network: ctx.network ?? "none" },
          [s.interpreter, file],
          o,
        ),
      );
      return { exitCode: res.exitCode, output };
    } finally {
      await rm(file, { force: true });
    }
  }
  const file = `/tmp/imgcreate-post-${index}`;
  await ctx.ops.write(file, s.body, "0700");
  try {
    const res = await track([s.interpreter, file], (o) => sandbox.run({ view: "chroot", env: { HOME: "/root" }, network: ctx.network ?? "none" }, [s.interpreter, file], o));
    return { exitCode: res.exitCode, output };
  } finally {
    await ctx.ops.sh('rm -f "$1"', [file]);
  }
}

export async function runPostScripts(scripts: Script[], ctx: ScriptContext): Promise<void> {
  const posts = scripts.filter((s) => s.type === "post");
  for (const [i, s] of posts.entries()) {
    ctx.ops.log("info", `running %post${s.nochroot ? " --nochroot" : ""} from ${s.file}:${s.line}`);
    const { exitCode, output } = await runOne(s, i, ctx);
    if (s.log) await ctx.ops.sh('mkdir -p "$(dirname "$1")" && cat >> "$1"', [s.log], { input: output.map((l) => l + "\n").join("") });
    if (exitCode === 0) continue;
    const tail = output.slice(-TAIL);
    if (s.erroronfail) {
      throw new ImgcreateError(
        "Failed",
        `${s.file}:${s.line}: %post failed with exit status ${exitCode} (--erroronfail)${tail.length ? `; last output: ${tail.join(" | ")}` : ""}`,
        { file: s.file, line: s.line, exitCode, tail },
      );
    }
    ctx.ops.log("warning", `${s.file}:${s.line}: %post exited with status ${exitCode}; continuing (no --erroronfail)`);
  }
}
