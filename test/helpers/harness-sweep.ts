// Removing the harness's temp dir safely. The daemon under test mounts things (install roots with
// /proc, /sys and /dev bound inside) and attaches loop devices under its state dir. If a test leaves one
// behind, a plain recursive delete would walk into a bind-mounted /dev or /sys of the host. So: unmount
// and detach what is under the dir (reporting it, since it is a leak), and delete with
// --one-file-system so nothing mounted is ever crossed.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Mount points under dir, deepest first (mountinfo escapes spaces etc. as \\ooo). */
export function mountsUnder(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => unescape(l.split(" ")[4] ?? ""))
    .filter((mp) => mp.startsWith(dir + "/"))
    .sort((a, b) => b.split("/").length - a.split("/").length);
}

/** Loop devices whose backing file is under dir. */
export function loopsUnder(dir: string): string[] {
  let out = "";
  try {
    out = execFileSync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
  } catch {
    return [];
  }
  return out
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, file]) => name && file?.startsWith(dir + "/"))
    .map(([name]) => name!);
}

/**
 * Unmounts and detaches whatever is under dir, then deletes dir without crossing file systems.
 * Returns what had to be cleaned up (empty when the tests left nothing behind).
 */
export function sweepAndRemove(dir: string): string[] {
  const found: string[] = [];
  for (const mp of mountsUnder(dir)) {
    found.push(`mount ${mp}`);
    try {
      execFileSync("umount", ["--lazy", mp], { stdio: "ignore" });
    } catch {
      /* gone with its parent */
    }
  }
  for (const dev of loopsUnder(dir)) {
    found.push(`loop ${dev}`);
    try {
      execFileSync("losetup", ["--detach", dev], { stdio: "ignore" });
    } catch {
      /* autoclear got there first */
    }
  }
  execFileSync("rm", ["-rf", "--one-file-system", dir], { stdio: "ignore" });
  return found;
}
