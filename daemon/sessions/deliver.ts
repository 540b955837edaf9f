// Artifacts reach the caller with the caller's own rights: root opens the artifact (in its private state
// dir) and hands the open file to a child that runs as the caller's uid, gid and groups (setpriv) and creates
// the target with O_EXCL|O_NOFOLLOW (dd conv=excl oflag=nofollow). Root never opens a path the caller names,
// so no symlink or race in destdir can make root write elsewhere; the new file belongs to the caller.
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { spawn } from "node:child_process";
import { execa } from "execa";
import { ImgcreateError } from "../errors.js";

export interface Identity {
  uid: number;
  gid: number;
}

function asUser(who: Identity): string[] {
  return ["setpriv", `--reuid=${who.uid}`, `--regid=${who.gid}`, "--init-groups", "--reset-env", "--"];
}

/** Refuses (InvalidArgs) a destdir that is not a directory the caller can write, checked as the caller. */
export async function checkDestdir(who: Identity, destdir: string): Promise<void> {
  const r = await execa(asUser(who)[0]!, [...asUser(who).slice(1), "/bin/sh", "-c", 'test -d "$1" && test -w "$1" && test -x "$1"', "sh", destdir], {
    reject: false,
    stdin: "ignore",
  });
  if (r.exitCode !== 0) {
    throw new ImgcreateError("InvalidArgs", `destdir ${destdir} is not a directory you can write; choose one of your own`, { destdir });
  }
}

/** Copies one root-owned artifact into destdir as the caller. Returns the new path. */
export async function deliver(who: Identity, artifact: string, destdir: string, signal?: AbortSignal): Promise<string> {
  const target = `${destdir.replace(/\/+$/, "")}/${basename(artifact)}`;
  const src = await open(artifact, "r");
  try {
    const argv = [...asUser(who), "dd", `of=${target}`, "bs=4M", "conv=excl,fsync", "oflag=nofollow", "status=none"];
    const r = await run(argv, src.fd, signal);
    if (signal?.aborted) throw new ImgcreateError("Cancelled", "cancelled while copying the artifacts");
    if (r.code !== 0) {
      const why = r.stderr.trim().split("\n").pop() ?? "";
      throw new ImgcreateError("Failed", `could not write ${target} as uid ${who.uid}: ${why} (remove an existing file of that name, or choose another destdir)`, {
        target,
      });
    }
  } finally {
    await src.close();
  }
  return target;
}

/** Runs argv with stdin from an fd we hold (execa takes no raw fd), collecting stderr; waits for the exit. */
function run(argv: string[], stdinFd: number, signal?: AbortSignal): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [stdinFd, "ignore", "pipe"], signal, killSignal: "SIGKILL" });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4096)));
    child.on("error", (e) => {
      if ((e as { name?: string }).name !== "AbortError") reject(e);
    });
    child.on("close", (code) => resolve({ code, stderr }));
  });
}
