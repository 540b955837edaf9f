// Temporary directories for tests: one prefix, so the leak check can find anything left behind.
import { chmod, mkdtemp } from "node:fs/promises";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TMP_PREFIX = "imgcreate-test-";

/** A fresh directory under the system temp dir; remove it with removeTmp (or rm -rf). */
export async function makeTmp(tag = ""): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), TMP_PREFIX + (tag ? tag + "-" : "")));
  // Searchable by everyone, as the daemon's state dir is: the sandbox runs as an unprivileged uid.
  await chmod(dir, 0o711);
  return dir;
}

/** rm --one-file-system: a leaked bind mount of /dev or /sys below dir is never walked into and emptied. */
export async function removeTmp(dir: string): Promise<void> {
  await promisify(execFile)("rm", ["-rf", "--one-file-system", "--", dir]);
}
