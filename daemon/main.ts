// imgcreated: the root daemon. Parses its options, refuses to start when it lacks what it needs (root, fd
// passing, its bus name), recovers the sessions a previous run left, then serves the API on the system bus
// and on the JSON-RPC socket until SIGTERM or --idle-exit.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import dbus from "dbus-next";
import { ImgcreateError } from "./errors.js";
import { DEFAULT_CACHE_DIR, DEFAULT_SOCKET, DEFAULT_STATE_DIR } from "./api/names.js";
import { DEFAULT_LIMITS, deviceMapperAvailable } from "./creator/index.js";
import { CallGate, ownBusName } from "./transports/dbus/gate.js";
// Everything else is imported once the bus connection is on its way (see main): the name is owned sooner.

const USAGE = `usage: imgcreated [--bus system|none] [--socket PATH|none] [--state-dir DIR] [--cache-dir DIR]
                  [--max-jobs N] [--idle-exit SECONDS] [--debug]
                  [--sandbox-tasks N] [--sandbox-memory MIB] [--script-timeout SECONDS]
                  [--root-cache-size MIB]`;

/** The cache of installed roots' default bound: room for a handful of live images. */
const DEFAULT_ROOT_CACHE_MIB = 16384;

interface Config {
  bus: "system" | "none";
  socket: string | null;
  stateDir: string;
  cacheDir: string;
  maxJobs: number;
  idleExit: number;
  debug: boolean;
  /** What each session's sandbox may use (tasks, memory, one %post's run time). */
  limits: { tasks: number; memoryBytes: number; scriptTimeoutMs: number };
  /** Bound of the cache of installed roots in bytes (<cache-dir>/roots); 0: no cache. */
  rootCacheBytes: number;
}

function parseConfig(argv: string[]): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      bus: { type: "string", default: "system" },
      socket: { type: "string", default: DEFAULT_SOCKET },
      "state-dir": { type: "string", default: DEFAULT_STATE_DIR },
      "cache-dir": { type: "string", default: DEFAULT_CACHE_DIR },
      "max-jobs": { type: "string", default: "2" },
      "idle-exit": { type: "string", default: "0" },
      debug: { type: "boolean", default: false },
      "sandbox-tasks": { type: "string", default: String(DEFAULT_LIMITS.tasks) },
      "sandbox-memory": { type: "string", default: String(DEFAULT_LIMITS.memoryBytes / 2 ** 20) },
      "script-timeout": { type: "string", default: String(DEFAULT_LIMITS.scriptTimeoutMs / 1000) },
      "root-cache-size": { type: "string", default: String(DEFAULT_ROOT_CACHE_MIB) },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  const bus = values.bus!;
  if (bus !== "system" && bus !== "none") throw new ImgcreateError("InvalidArgs", `--bus must be system or none, not "${bus}"`);
  const maxJobs = Number(values["max-jobs"]);
  if (!Number.isInteger(maxJobs) || maxJobs < 1) throw new ImgcreateError("InvalidArgs", `--max-jobs must be a whole number ≥ 1`);
  const idleExit = Number(values["idle-exit"]);
  if (!Number.isFinite(idleExit) || idleExit < 0) throw new ImgcreateError("InvalidArgs", `--idle-exit must be a number of seconds ≥ 0 (0: never)`);
  for (const d of ["state-dir", "cache-dir"] as const) {
    if (!values[d]!.startsWith("/")) throw new ImgcreateError("InvalidArgs", `--${d} must be an absolute path`);
  }
  const socket = values.socket === "none" ? null : values.socket!;
  if (socket !== null && !socket.startsWith("/")) throw new ImgcreateError("InvalidArgs", `--socket must be an absolute path or none`);
  if (bus === "none" && socket === null) throw new ImgcreateError("InvalidArgs", "--bus none and --socket none leave nothing to serve");
  const positive = (name: "sandbox-tasks" | "sandbox-memory" | "script-timeout") => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new ImgcreateError("InvalidArgs", `--${name} must be a whole number ≥ 1`);
    return n;
  };
  const limits = { tasks: positive("sandbox-tasks"), memoryBytes: positive("sandbox-memory") * 2 ** 20, scriptTimeoutMs: positive("script-timeout") * 1000 };
  const rootCacheMiB = Number(values["root-cache-size"]);
  if (!Number.isInteger(rootCacheMiB) || rootCacheMiB < 0) throw new ImgcreateError("InvalidArgs", `--root-cache-size must be a whole number of MiB ≥ 0 (0: no cache of installed roots)`);
  return { bus, socket, stateDir: values["state-dir"]!, cacheDir: values["cache-dir"]!, maxJobs, idleExit, debug: values.debug!, limits, rootCacheBytes: rootCacheMiB * 2 ** 20 };
}

/** dbus-next passes fds only through the optional native usocket; without it the bus drops us at the first fd. */
function requireUsocket(): void {
  try {
    createRequire(import.meta.url)("usocket");
  } catch {
    throw new ImgcreateError(
      "Failed",
      "dbus-next cannot pass file descriptors here: its native module usocket is missing. Reinstall with " +
        "`npm_config_nodedir=/usr npm install usocket` (Debian packages: nodejs, build-essential, python3)",
    );
  }
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").some((d) => d !== "" && existsSync(`${d}/${tool}`));
}

function features(types: string[]): string[] {
  const f: string[] = [];
  if (deviceMapperAvailable()) f.push("device-mapper");
  if (existsSync("/dev/kvm")) f.push("kvm");
  if (onPath("mmdebstrap")) f.push("apt");
  if (onPath("dnf")) f.push("dnf");
  return [...f, ...types];
}

/** package.json's version: one level up from daemon/main.ts, two from dist/daemon/main.js. */
function version(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "imgcreate" && pkg.version) return pkg.version;
    } catch {
      /* try the next */
    }
  }
  return "0";
}

async function connectSystemBus(required: boolean, warn: (m: string) => void): Promise<dbus.MessageBus | null> {
  const addr = process.env.DBUS_SYSTEM_BUS_ADDRESS ?? "unix:path=/var/run/dbus/system_bus_socket";
  if (!required && !process.env.DBUS_SYSTEM_BUS_ADDRESS && !existsSync("/var/run/dbus/system_bus_socket")) return null;
  const bus = dbus.systemBus({ negotiateUnixFd: true } as never);
  try {
    await new Promise<void>((resolve, reject) => {
      bus.once("connect", () => resolve());
      bus.once("error", (e: Error) => reject(e));
    });
  } catch (err) {
    if (!required) {
      warn(`no system bus (${addr}): polkit unreachable, only root may call`);
      return null;
    }
    throw new ImgcreateError("Failed", `cannot connect to the system bus at ${addr}: ${(err as Error).message} (is dbus running?)`);
  }
  return bus;
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    throw new ImgcreateError("NotAuthorized", "imgcreated must run as root (it attaches loop devices and mounts filesystems); start it with systemd or sudo");
  }
  if (cfg.bus === "system") requireUsocket();
  // Connect and own the name while the rest of the daemon loads; calls wait at the gate until it is ready.
  const early: string[] = [];
  const busReady = (async () => {
    const bus = await connectSystemBus(cfg.bus === "system", (m) => early.push(m));
    const gate = bus && cfg.bus === "system" ? new CallGate(bus) : undefined;
    if (bus && cfg.bus === "system") await ownBusName(bus);
    return { bus, gate };
  })();
  const [{ createLogger }, { Polkit }, { ApiService }, { loadEngine }, { SessionRegistry }, { DbusTransport }, { JsonRpcTransport }] = await Promise.all([
    import("./log.js"),
    import("./auth/polkit.js"),
    import("./api/service.js"),
    import("./sessions/engine.js"),
    import("./sessions/registry.js"),
    import("./transports/dbus/server.js"),
    import("./transports/jsonrpc/server.js"),
  ]);
  const log = createLogger({ level: cfg.debug ? "debug" : undefined });
  const { bus, gate } = await busReady;
  for (const m of early) log.warning(m);
  bus?.on("error", (e: Error) => log.error(`system bus: ${e.message}`));
  const engine = await loadEngine();
  const registry = new SessionRegistry({ stateDir: cfg.stateDir, cacheDir: cfg.cacheDir, maxJobs: cfg.maxJobs, limits: cfg.limits, rootCacheBytes: cfg.rootCacheBytes, engine, log });
  await registry.load();
  const polkit = new Polkit(bus);
  const api = new ApiService(registry, polkit, { version: version(), features: features(engine.types) });

  const jsonrpc = cfg.socket ? new JsonRpcTransport(api, polkit, log) : undefined;
  if (jsonrpc && cfg.socket) await jsonrpc.listen(cfg.socket);
  if (bus && gate) await new DbusTransport(bus, api, polkit, log).start(gate);
  log.info(`imgcreated ${api.info.version} ready: bus ${cfg.bus}, socket ${cfg.socket ?? "none"}, ${registry.sessions.size} session(s), engine types: ${engine.types.join(", ") || "none"}`);

  let stopping = false;
  const stop = async (why: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping (${why})`);
    await registry.shutdown().catch((e: unknown) => log.error(`shutdown: ${(e as Error)?.message ?? String(e)}`));
    await jsonrpc?.close();
    bus?.disconnect();
    process.exit(code);
  };
  // A bug must not leave loop devices and mounts behind: say what happened, release what we hold, exit non-zero.
  process.on("uncaughtException", (err) => {
    log.crit(`internal error: ${err?.stack ?? String(err)}`);
    void stop("internal error", 1);
  });
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("unhandledRejection", (err) => log.error(`unhandled: ${(err as Error)?.stack ?? String(err)}`));

  if (cfg.idleExit > 0) {
    let idleSince = Date.now();
    setInterval(() => {
      if (registry.busy()) idleSince = Date.now();
      else if (Date.now() - idleSince >= cfg.idleExit * 1000) void stop(`idle for ${cfg.idleExit} s`);
    }, Math.min(1000, cfg.idleExit * 500)).unref();
  }
}

main().catch((err: unknown) => {
  const msg = err instanceof ImgcreateError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`imgcreated: ${msg}\n`);
  process.exit(1);
});
