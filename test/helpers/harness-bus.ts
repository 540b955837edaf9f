// A private system bus and a real polkitd for tests (LESSONS.md "A real system bus and real polkit").
// The machine's /run/dbus/system_bus_socket is never touched: the bus is a copy of the system bus
// configuration listening in our temp dir, with our D-Bus policy conf in a private system.d.
import { readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { startLogged, stopChild, waitUntil, tail, isRunning, type LoggedChild } from "./harness-proc.js";

const SYSTEM_CONF = "/usr/share/dbus-1/system.conf";
const POLKITD = "/usr/lib/polkit-1/polkitd";

/**
 * The machine's system.conf, made private: own socket, no fork/pidfile/syslog/activation helper, our
 * system.d. With `servicesDir`, the bus activates services from there itself (no setuid helper), and
 * keeps running as root instead of messagebus so that what it starts runs as root, like User=root.
 */
export function privateBusConfig(socketPath: string, privateSystemD: string, servicesDir?: string): string {
  let conf = readFileSync(SYSTEM_CONF, "utf8");
  const drop = [/<fork\/>/g, /<pidfile>[^<]*<\/pidfile>/g, /<syslog\/>/g, /<standard_system_servicedirs\/>/g, /<servicehelper>[^<]*<\/servicehelper>/g];
  for (const re of drop) conf = conf.replace(re, "");
  conf = conf.replace(/<listen>[^<]*<\/listen>/, `<listen>unix:path=${socketPath}</listen>`);
  // Relative includedirs are relative to the config file's directory: make them absolute.
  conf = conf.replace(/<includedir>(?!\/)([^<]*)<\/includedir>/g, "<includedir>/usr/share/dbus-1/$1</includedir>");
  let extra = `  <includedir>${privateSystemD}</includedir>\n`;
  if (servicesDir) {
    conf = conf.replace(/<user>[^<]*<\/user>/g, "");
    extra += `  <servicedir>${servicesDir}</servicedir>\n`;
  }
  return conf.replace("</busconfig>", `${extra}</busconfig>`);
}

export interface PrivateBus extends LoggedChild {
  address: string;
}

/** Starts dbus-daemon on a config in `dir` with `policyFiles` in its private system.d; resolves with its address. */
export async function startPrivateBus(dir: string, policyFiles: string[], env: NodeJS.ProcessEnv, servicesDir?: string): Promise<PrivateBus> {
  const systemD = join(dir, "system.d");
  mkdirSync(systemD, { recursive: true });
  for (const f of policyFiles) copyFileSync(f, join(systemD, f.split("/").pop()!));
  const conf = join(dir, "bus.conf");
  const socket = join(dir, "system_bus_socket");
  writeFileSync(conf, privateBusConfig(socket, systemD, servicesDir));
  const bus = startLogged("dbus-daemon", [`--config-file=${conf}`, "--nofork", "--nopidfile", "--print-address=3"], {
    // Services it activates inherit this environment: they must find this bus, not the machine's.
    env: { ...env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` },
    log: join(dir, "bus.log"),
    extraStdio: ["pipe"],
  });
  const fd3 = bus.child.stdio[3] as NodeJS.ReadableStream;
  let printed = "";
  fd3.on("data", (d: Buffer) => (printed += d.toString()));
  await waitUntil(() => printed.includes("\n"), {
    timeoutMs: 10_000,
    what: "private dbus-daemon",
    abort: () => (isRunning(bus.child) ? undefined : `exited: ${tail(bus.log)}`),
  });
  return { ...bus, address: printed.split("\n")[0]!.trim() };
}

/** Whether `name` has an owner on the bus in env (busctl honours DBUS_SYSTEM_BUS_ADDRESS). */
export async function nameHasOwner(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const r = await execa("busctl", ["--system", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", name], { env, reject: false });
  return r.exitCode === 0 && r.stdout.trim() === "b true";
}

/** polkitd without --no-debug (with it, errors go to a syslog that does not exist here). */
export async function startPolkitd(dir: string, env: NodeJS.ProcessEnv): Promise<LoggedChild> {
  const pk = startLogged(POLKITD, [], { env, log: join(dir, "polkitd.log") });
  await waitUntil(() => nameHasOwner("org.freedesktop.PolicyKit1", env), {
    timeoutMs: 15_000,
    what: "polkitd",
    abort: () => (isRunning(pk.child) ? undefined : `exited: ${tail(pk.log)}`),
  });
  return pk;
}

/** Fails naming the action when polkitd did not load it (it drops a whole invalid .policy file). */
export async function assertActionsLoaded(actions: readonly string[], env: NodeJS.ProcessEnv, polkitLog: string): Promise<void> {
  for (const id of actions) {
    const r = await execa("pkaction", ["--action-id", id], { env, reject: false });
    if (r.exitCode !== 0) throw new Error(`polkitd did not load action ${id}: ${r.stderr.trim()}\n${tail(polkitLog)}`);
  }
}

/** The pid of the process owning `name` on the bus, if any (GetConnectionUnixProcessID). */
export async function ownerPid(name: string, env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const r = await execa("busctl", ["--system", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", name], { env, reject: false });
  const m = /^u (\d+)/.exec(r.stdout.trim());
  return r.exitCode === 0 && m ? Number(m[1]) : undefined;
}

export { stopChild };
