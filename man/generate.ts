// Writes man/imgcreate.1, man/imgcreated.8 and completion/imgcreate.bash from the help tables.
// Run: node --import tsx man/generate.ts   (the unit test client-docs checks the files are current)
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bashCompletion, imgcreateManPage, renderMan, roff } from "../client/docs.js";

export const DOC_DATE = "November 2026";

export interface DaemonOption {
  name: string;
  arg?: string;
  help: string;
}

/**
 * imgcreated's options. When the daemon exports its own table (DAEMON_OPTIONS from daemon/options.ts),
 * that one is used, so its --help and this page share a source; this copy is the fallback.
 */
const FALLBACK_DAEMON_OPTIONS: DaemonOption[] = [
  { name: "bus", arg: "system|none", help: "Own org.imgcreate.ImageCreator1 on the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured), or not at all." },
  { name: "socket", arg: "PATH|none", help: "Serve JSON-RPC 2.0 (one JSON text per line) on this Unix socket (default /run/imgcreated/api.sock)." },
  { name: "state-dir", arg: "DIR", help: "Where sessions live: each one's image files, mounts, journal and log under sessions/ID/ (default /var/lib/imgcreated)." },
  { name: "cache-dir", arg: "DIR", help: "Shared package cache (default /var/cache/imgcreated)." },
  { name: "max-jobs", arg: "N", help: "How many stage jobs run at once across sessions; others queue." },
  { name: "idle-exit", arg: "SECONDS", help: "Exit after this long with no session running (D-Bus activation starts it again)." },
  { name: "sandbox-tasks", arg: "N", help: "Most tasks (processes and threads) one session's sandbox may run at once (default 4096); reaching it stops the command (a fork bomb fails its session)." },
  { name: "sandbox-memory", arg: "MIB", help: "Most memory one session's sandbox may use (default 4096 MiB); the kernel's OOM killer acts inside the sandbox only." },
  { name: "script-timeout", arg: "SECONDS", help: "How long one %post may run before it is stopped (default 1800)." },
  { name: "root-cache-size", arg: "MIB", help: "Bound of the cache of installed roots under CACHE-DIR/roots (default 16384 MiB; least recently used entries go first); 0 turns it off." },
  { name: "help", help: "Show the options and exit." },
];

async function daemonOptions(): Promise<DaemonOption[]> {
  try {
    const m = (await import("../daemon/options.js")) as { DAEMON_OPTIONS?: DaemonOption[] };
    if (Array.isArray(m.DAEMON_OPTIONS)) return m.DAEMON_OPTIONS;
  } catch {
    // not there: use the fallback
  }
  return FALLBACK_DAEMON_OPTIONS;
}

export async function imgcreatedManPage(): Promise<string> {
  const opts = await daemonOptions();
  return renderMan({
    name: "imgcreated",
    section: 8,
    date: DOC_DATE,
    summary: "the imgcreate image-building system service",
    synopsis: ["imgcreated [\\fIOPTIONS\\fR]"],
    sections: [
      {
        title: "DESCRIPTION",
        body:
          roff(
            "imgcreated is the root daemon behind imgcreate(1) and the livecd-creator front end. It owns everything privileged in an image build: loop devices, device-mapper tables, mounts, the install root and everything run inside it (sandboxed with bubblewrap). Unprivileged users drive long-lived build sessions through it over D-Bus (org.imgcreate.ImageCreator1 on the system bus) or JSON-RPC on a Unix socket; every call is authorized by polkit. Each acquired resource is journaled before use, so after a crash the daemon releases what a dead build left and marks its session interrupted.",
          ) + "\n",
      },
      { title: "OPTIONS", body: opts.map((o) => `.TP\n\\fB\\-\\-${roff(o.name)}\\fR${o.arg ? ` \\fI${roff(o.arg)}\\fR` : ""}\n${roff(o.help)}\n`).join("") },
      {
        title: "POLKIT ACTIONS",
        body: [
          ["org.imgcreate.build", "create and drive your own sessions (the example rules give it to the group imgbuilders)"],
          ["org.imgcreate.shell", "open a root shell inside a session's install root"],
          ["org.imgcreate.run-host-scripts", "run a kickstart with %post \\-\\-nochroot"],
          ["org.imgcreate.manage-others", "act on sessions of other users"],
        ]
          .map(([a, t]) => `.TP\n\\fB${roff(a!)}\\fR\n${t}\n`)
          .join(""),
      },
      {
        title: "FILES",
        body: [
          ["/run/imgcreated/api.sock", "the JSON-RPC socket"],
          ["/var/lib/imgcreated/sessions/", "session state, journals, logs and work files"],
          ["/var/cache/imgcreated/", "the shared package cache"],
          ["/usr/share/polkit-1/actions/org.imgcreate.policy", "the polkit actions"],
        ]
          .map(([f, t]) => `.TP\n\\fI${roff(f!)}\\fR\n${t}\n`)
          .join(""),
      },
      { title: "SEE ALSO", body: "\\fBimgcreate\\fR(1), \\fBpolkit\\fR(8), \\fBdbus\\-daemon\\fR(1)\n" },
    ],
  });
}

export async function generated(): Promise<Record<string, string>> {
  return {
    "man/imgcreate.1": imgcreateManPage(DOC_DATE),
    "man/imgcreated.8": await imgcreatedManPage(),
    "completion/imgcreate.bash": bashCompletion(),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  for (const [path, text] of Object.entries(await generated())) {
    writeFileSync(root + path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
