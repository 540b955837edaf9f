// The in-VM tests look at a clone while the kernel still copies its image, and kill the daemon then.
// How long that copy takes depends on the machine (a 768 MiB root in a few seconds under TCG), so a
// test that merely looks soon enough fails where the machine is fast. dm-mirror's resync throttle
// (a module parameter, the percentage of time its copy may spend on I/O; lvm2's own tests lower it the
// same way) set to 0 makes every copy job sleep first: the copy crawls until the test lets it go.
import { readFileSync, writeFileSync } from "node:fs";

const THROTTLE = "/sys/module/dm_mirror/parameters/raid1_resync_throttle";

/** Slows every mirror copy to a crawl; returns what lets them run at full speed again. */
export function holdMirrorCopies(): () => void {
  const before = readFileSync(THROTTLE, "utf8").trim();
  writeFileSync(THROTTLE, "0");
  return () => writeFileSync(THROTTLE, before);
}
