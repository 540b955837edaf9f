// Copying image files: a reflink (FICLONE, instant and shared until written) where the filesystem has
// them (btrfs, xfs), else a copy that keeps the holes of a sparse image. GNU cp does both; asking for
// the reflink first tells us which one happened, so the log can name it.
import { rm } from "node:fs/promises";
import { run } from "./exec.js";

export type CopyMethod = "reflink" | "sparse copy";

export async function copyImage(from: string, to: string, signal?: AbortSignal): Promise<CopyMethod> {
  const opts = signal ? { signal } : {};
  try {
    await run(["cp", "--reflink=always", "--", from, to], opts);
    return "reflink";
  } catch (err) {
    if (signal?.aborted) throw err;
    await rm(to, { force: true });
  }
  await run(["cp", "--sparse=always", "--", from, to], opts);
  return "sparse copy";
}
