// Temporary directories for tests: one prefix, so the leak check can find anything left behind.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const TMP_PREFIX = "imgcreate-test-";

/** A fresh directory under the system temp dir; remove it with removeTmp (or rm -rf). */
export async function makeTmp(tag = ""): Promise<string> {
  return mkdtemp(join(tmpdir(), TMP_PREFIX + (tag ? tag + "-" : "")));
}

export async function removeTmp(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
