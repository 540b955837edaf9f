// Outbound network for a sandbox whose kickstart asks for it (%addon org_imgcreate --network=outbound).
// The sandbox keeps its own network namespace; slirp4netns (Debian's, a user-mode TCP/IP stack) gives
// it a tap device whose traffic leaves through ordinary sockets of the slirp4netns process. That
// process runs as the sandbox's own unprivileged host uid, in the sandbox's cgroup, with its seccomp
// filter on and host loopback off (10.0.2.2 does not lead to the host's 127.0.0.1). Its sockets are
// host sockets, so one nftables table of the daemon's keeps every uid of imgcreated's sandbox ranges
// off this host's own addresses (any address the kernel calls local: loopback, the host's interfaces)
// and off link-local 169.254.0.0/16 and fe80::/10 (cloud metadata services); only DNS to a local
// resolver stays open, since /etc/resolv.conf may name one. Everything else is the internet as the
// host sees it.
import { execa } from "execa";
import { closeSync, openSync, readlinkSync } from "node:fs";
import { stat } from "node:fs/promises";
import { ImgcreateError } from "../../errors.js";
import type { Journal } from "../journal.js";
import { run } from "./exec.js";
import { ID_BASE } from "./idrange.js";
import { processTree } from "./process.js";

const LAST_ID = 0x7fff_ffff;

/** The daemon's nftables table: the sandboxes' uids never reach this host or link-local addresses. */
export function hostFilter(): string {
  const who = `meta skuid ${ID_BASE}-${LAST_ID}`;
  return `table inet imgcreated
delete table inet imgcreated
table inet imgcreated {
  chain sandbox-output {
    type filter hook output priority filter; policy accept;
    ${who} fib daddr type local udp dport 53 accept
    ${who} fib daddr type local tcp dport 53 accept
    ${who} fib daddr type local reject
    ${who} ip daddr 169.254.0.0/16 reject
    ${who} ip6 daddr fe80::/10 reject
  }
}
`;
}

let filtered: Promise<void> | undefined;

/** Installs the table once per daemon (idempotent: it replaces an earlier one). */
export function ensureHostFilter(): Promise<void> {
  filtered ??= execa("nft", ["-f", "-"], { input: hostFilter() })
    .then(() => undefined)
    .catch((err: Error) => {
      filtered = undefined;
      throw new ImgcreateError(
        "Failed",
        `outbound network for %post needs nftables to keep it off this host's own addresses (install Debian's nftables): ${err.message.split("\n")[0]}`,
      );
    });
  return filtered;
}

/** The sandbox's first process in its own network namespace, below the launcher's pid. */
async function sandboxInit(launcher: number): Promise<number> {
  const ours = readlinkSync("/proc/self/ns/net");
  for (let i = 0; i < 250; i++) {
    for (const pid of await processTree(launcher)) {
      let ns: string;
      try {
        ns = readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        continue;
      }
      if (ns !== ours) return pid;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new ImgcreateError("Failed", "the sandbox's network namespace did not appear: cannot give it outbound network");
}

export interface Attached {
  stop(): Promise<void>;
}

/**
 * Starts slirp4netns for the sandbox started by launcher, as uid through prefix (the sandbox's own
 * launcher: its cgroup, its uid). Returns a handle that stops it; it is journaled while it runs.
 */
export async function attach(launcher: number, prefix: string[], journal: Journal): Promise<Attached> {
  await ensureHostFilter();
  if (((await stat("/dev/net/tun").catch(() => undefined))?.mode ?? 0) % 8 < 6) {
    throw new ImgcreateError("Failed", "outbound network for %post needs /dev/net/tun usable by unprivileged users (mode 0666, as Debian's udev sets it): chmod 0666 /dev/net/tun");
  }
  const init = await sandboxInit(launcher);
  // Opened by the daemon (root) and handed over, so the unprivileged slirp4netns needs no access to /proc/PID.
  const netns = openSync(`/proc/${init}/ns/net`, "r");
  const userns = openSync(`/proc/${init}/ns/user`, "r");
  const argv = [
    ...prefix,
    "slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-seccomp",
    "--userns-path=/proc/self/fd/4", "--netns-type=path", "/proc/self/fd/3", "tap0",
  ];
  const stopper = new AbortController();
  let open = true;
  const closeFds = () => {
    if (!open) return;
    open = false;
    closeSync(netns);
    closeSync(userns);
  };
  const done = journal
    .trackProcess(argv, (onSpawn) =>
      run(argv, {
        extraFds: [netns, userns],
        signal: stopper.signal,
        cleanEnv: true,
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
        onSpawn: (pid) => {
          onSpawn(pid);
          closeFds(); // the child has its own copies now
        },
      }),
    )
    .catch(() => undefined)
    .finally(closeFds);
  return {
    async stop() {
      stopper.abort();
      await done;
    },
  };
}
