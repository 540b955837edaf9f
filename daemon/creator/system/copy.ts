// Copying image files: a reflink (FICLONE, instant and shared until written) where the filesystem has
// them (btrfs, xfs), else a copy that keeps the holes of a sparse image. GNU cp does both.
import { run } from "./exec.js";

export async function copyImage(from: string, to: string, signal?: AbortSignal): Promise<void> {
  await run(["cp", "--reflink=auto", "--sparse=always", "--", from, to], signal ? { signal } : {});
}
