// Running host tools: one place that turns a failed command into an ImgcreateError carrying the
// command, its exit status and its last output lines, streams output as lines, and cancels with
// an AbortSignal by killing the whole process group (children included), never leaving a process behind.
import { execa, type ResultPromise } from "execa";
import { ImgcreateError } from "../../errors.js";
import { killTree } from "./process.js";

export interface RunOptions {
  signal?: AbortSignal;
  /** Each line of stdout and stderr, as it comes. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  input?: string;
  env?: Record<string, string>;
  /** Do not inherit the daemon's environment (for anything that runs code from the image). */
  cleanEnv?: boolean;
  cwd?: string;
  /** Exit codes that are not failures (e2fsck's 1 = "errors fixed"). */
  okCodes?: number[];
  /** Open fds handed to the child as its fds 3, 4, ... (the sandbox's user namespace and seccomp program). */
  extraFds?: number[];
  /** Called with the pid right after spawn (the journal records it). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The last lines of combined output, for error messages. */
  tail: string[];
}

const TAIL_LINES = 20;

export class CommandError extends ImgcreateError {
  constructor(readonly argv: string[], readonly result: RunResult) {
    super(
      "Failed",
      `${argv[0]} failed with exit status ${result.exitCode}: ${result.tail.slice(-5).join(" | ") || "(no output)"}`,
      { argv, exitCode: result.exitCode, tail: result.tail },
    );
  }
}

function cancelled(argv: string[]): ImgcreateError {
  return new ImgcreateError("Cancelled", `cancelled while running ${argv[0]}`, { argv });
}

/** Runs argv[0] with argv[1..]; resolves with its output, rejects with CommandError or Cancelled. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.signal?.aborted) throw cancelled(argv);
  const tail: string[] = [];
  let stdout = "";
  let stderr = "";
  const child: ResultPromise = execa(argv[0]!, argv.slice(1), {
    reject: false,
    detached: true, // its own process group, so a cancel reaches its children too
    ...(opts.extraFds?.length
      ? {
          // execa hands a number in stdio[3+] to the child as that fd (its types do not list it).
          stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe", ...opts.extraFds] as unknown as ["pipe", "pipe", "pipe"],
          ...(opts.input === undefined ? {} : { input: opts.input }),
        }
      : opts.input === undefined
        ? { stdin: "ignore" as const }
        : { input: opts.input }),
    env: opts.env,
    extendEnv: !opts.cleanEnv,
    cwd: opts.cwd,
    buffer: false,
    stripFinalNewline: false,
    encoding: "utf8",
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  const onAbort = () => {
    if (child.pid !== undefined) void killTree(child.pid);
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const collect = (stream: "stdout" | "stderr") => async () => {
    const src = stream === "stdout" ? child.stdout : child.stderr;
    if (!src) return;
    let partial = "";
    for await (const chunk of src) {
      const text = partial + chunk.toString();
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) emit(line, stream);
    }
    if (partial !== "") emit(partial, stream);
  };
  const emit = (line: string, stream: "stdout" | "stderr") => {
    if (stream === "stdout") stdout += line + "\n";
    else stderr += line + "\n";
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    opts.onLine?.(line, stream);
  };
  try {
    const [res] = await Promise.all([child, collect("stdout")(), collect("stderr")()]);
    const result: RunResult = { exitCode: res.exitCode ?? -1, stdout, stderr, tail };
    if (opts.signal?.aborted) throw cancelled(argv);
    if (res.failed && !(opts.okCodes ?? []).includes(result.exitCode)) {
      if (res.exitCode === undefined && !res.signal) {
        throw new ImgcreateError("Failed", `cannot run ${argv[0]}: ${res.shortMessage}`, { argv });
      }
      throw new CommandError(argv, result);
    }
    return result;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
