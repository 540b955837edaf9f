// What "nothing leaks" means, checked the way a user would: losetup, mountinfo, dmsetup, ps, /tmp, and
// the sandboxes' id range locks and cgroups.
// Every privileged test calls assertNoLeaks() in its `after` hook; zz-leaks.test.ts runs it last.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { TMP_PREFIX } from "./tmp.js";
import * as dm from "../../daemon/creator/system/dm.js";

/** Paths whose appearance in a mount, loop device or process means it is ours. */
const OURS = [/imgcreate/, /imgcreated/];

function loopDevices(): string[] {
  try {
    const out = execFileSync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
    return out.split("\n").filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

function ourMounts(): string[] {
  const lines = readFileSync("/proc/self/mountinfo", "utf8").split("\n");
  return lines
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => OURS.some((re) => re.test(mp)));
}

function dmTables(): string[] {
  if (!dm.available()) return [];
  try {
    const out = execFileSync("dmsetup", ["ls"], { encoding: "utf8" });
    return out.split("\n").filter((l) => l.trim() !== "" && !/No devices found/.test(l));
  } catch {
    return [];
  }
}

/** Processes we may have started: the daemon, bus, polkitd, qemu, mmdebstrap, bwrap, the GTK test's X server, app and AT-SPI helpers — not ourselves or our ancestors. */
function strayProcesses(): string[] {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    mine.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      break;
    }
  }
  const found: string[] = [];
  for (const d of readdirSync("/proc")) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      continue;
    }
    // Judge by the program (first two argv words, for interpreters), not by arguments that merely mention a name.
    const prog = cmd.split(" ").slice(0, 2).map((w) => w.split("/").pop()).join(" ");
    if (/imgcreated|qemu-system|mmdebstrap|mksquashfs|bwrap|polkitd|Xvfb|at-spi|imgcreate-gtk/.test(prog) || /^gjs -m \S*gtk-app/.test(cmd.replace(/^\S*\//, "")) || /daemon\/main\.(ts|js)/.test(cmd) || /^dbus-daemon .*(imgcreate|at-spi2)/.test(cmd.replace(/^\S*\//, ""))) {
      found.push(`${pid} ${cmd.slice(0, 160)}`);
    }
  }
  return found;
}

/** Sandbox id ranges still held (/run/imgcreated/idranges/<slot>) and sandbox cgroups still there. */
function sandboxLeftovers(): string[] {
  const out: string[] = [];
  const locks = "/run/imgcreated/idranges";
  for (const slot of existsSync(locks) ? readdirSync(locks) : []) out.push(`id range ${locks}/${slot}`);
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const n of names) {
      if (n.startsWith("imgcreate-") && !n.startsWith("imgcreate-test-daemon-")) out.push(`cgroup ${dir}/${n}`);
      else if (depth > 0) walk(`${dir}/${n}`, depth - 1);
    }
  };
  for (const root of ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"]) walk(root, 2);
  return [...new Set(out)];
}

function tmpLeftovers(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(TMP_PREFIX));
}

export interface LeakReport {
  loops: string[];
  mounts: string[];
  dm: string[];
  processes: string[];
  sandboxes: string[];
  tmp: string[];
}

export function findLeaks(opts: { tmp?: boolean } = {}): LeakReport {
  return {
    loops: loopDevices(),
    mounts: ourMounts(),
    dm: dmTables(),
    processes: strayProcesses(),
    sandboxes: sandboxLeftovers(),
    tmp: opts.tmp === false ? [] : tmpLeftovers(),
  };
}

/** Throws with a readable list when anything of ours is left. Pass {tmp:false} while a suite's own tmp dir still exists. */
export function assertNoLeaks(opts: { tmp?: boolean } = {}): void {
  const r = findLeaks(opts);
  const bad = Object.entries(r).filter(([, v]) => v.length > 0);
  if (bad.length > 0) {
    throw new Error("leaked: " + bad.map(([k, v]) => `${k}: ${v.join("; ")}`).join(" | "));
  }
}
