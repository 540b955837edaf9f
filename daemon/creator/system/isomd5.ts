// Checksums of a finished ISO: an MD5 implanted in the ISO's application area (implantisomd5, so
// `checkisomd5` and dracut's rd.live.check can verify the medium) and a SHA256 file beside it.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { pipeline } from "node:stream/promises";
import { runTool } from "./livetools.js";

export async function implantIsoMd5(iso: string, signal?: AbortSignal): Promise<void> {
  await runTool(["implantisomd5", "--force", iso], { signal });
}

/** True when `checkisomd5` verifies the medium. */
export async function checkIsoMd5(iso: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await runTool(["checkisomd5", iso], { signal });
    return true;
  } catch {
    return false;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** Writes `<iso>.sha256` in `sha256sum` format (check it with `sha256sum -c` in the ISO's directory). */
export async function writeSha256(iso: string): Promise<string> {
  const out = iso + ".sha256";
  await writeFile(out, `${await sha256File(iso)}  ${basename(iso)}\n`);
  return out;
}
