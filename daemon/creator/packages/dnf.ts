// The dnf backend (Fedora, CentOS, AlmaLinux, Rocky): dnf's library through a short driver
// (dnf-driver.ts), in two runs. On the host, with the network, the driver resolves the request
// against an empty scratch root and downloads into the shared cache (one flock for every build);
// nothing of the image is read there. Then, in the root's sandbox with no network, it resolves again
// from a private copy of that cache, imports the repositories' keys, checks signatures and runs the
// rpm transaction: every scriptlet runs as the sandbox's root, never as the host's.
import { createHash } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import { run, CommandError } from "../system/exec.js";
import { toolVersion } from "../system/tools.js";
import { backendDir, type InstallContext, type PackageBackend, type PackageRequest, type PreparedInstall, type RepoConfig, type Spec } from "./backend.js";
import { DNF_DRIVER, DNF_EVENT, type DriverEvent, type DriverRequest } from "./dnf-driver.js";
import { dnfRepos, installedRepoFiles, type DnfRepos } from "./dnf-repos.js";
import { isGlob, missingError, where } from "./request.js";

const PYTHON = "/usr/bin/python3";
/** Seconds a repository may stall before it counts as unreachable (dnf retries twice). */
const REPO_TIMEOUT = 30;

/**
 * Inside the sandbox, before the driver: the root gets /dev, /proc and /sys as package scriptlets
 * expect them (mounts in the sandbox's own namespace, gone with it).
 */
const KERNEL_MOUNTS =
  'r=$1; shift; for d in dev proc sys; do mkdir -p "$r/$d"; done; ' +
  'mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" && exec "$@"';

/** One build's files: the driver, its requests, keys, logs and the private copy of the cache. */
interface Build {
  dir: string;
  driver: string;
  repos: DnfRepos;
  keyFiles: Map<string, string>;
  sharedCache: string;
  lock: string;
}

function groupTypes(g: Spec): string[] {
  if (g.nodefaults) return ["mandatory"];
  return g.optional ? ["mandatory", "default", "optional"] : ["mandatory", "default"];
}

/** The %packages entry (with FILE:LINE) a name the driver reports came from. */
function specOf(req: PackageRequest, name: string): Spec {
  const all: Spec[] = [...req.packages, ...req.groups, ...(req.environment ? [req.environment] : []), ...(req.modules ?? [])];
  return all.find((s) => s.name === name || name.startsWith(`${s.name}:`)) ?? { name };
}

type Removal = Pick<DriverRequest, "remove" | "removeGroups">;

/** Groups and the environment (core too, under --nocore) the old request installed that the new one no longer asks for, or now excludes. */
export function droppedGroups(before: PackageRequest, now: PackageRequest): string[] {
  const named = (r: PackageRequest) => [...(r.nocore ? [] : ["core"]), ...r.groups.map((g) => g.name), ...(r.environment ? [r.environment.name] : [])];
  const kept = new Set(named(now));
  const excluded = (now.excludedGroups ?? []).map((g) => g.name);
  return [...new Set([...named(before).filter((n) => !kept.has(n)), ...excluded])];
}

function moduleSpecs(req: PackageRequest): DriverRequest["modules"] {
  return (req.modules ?? []).map((m) =>
    m.enabled
      ? { spec: `${m.name}${m.stream !== undefined ? ":" + m.stream : ""}${m.profile !== undefined ? "/" + m.profile : ""}`, install: m.install === true }
      : { disable: m.name });
}

/** Every directory below dir (and dir): the sandbox's root must own them to write there. */
async function dirsBelow(dir: string): Promise<string[]> {
  const out = [dir];
  for (const e of await readdir(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...(await dirsBelow(join(dir, e.name))));
  return out;
}

export class DnfBackend implements PackageBackend {
  readonly name = "dnf";
  readonly tools = ["dnf", "rpm", "flock", "bwrap", "cp"];

  async check(repos: RepoConfig): Promise<void> {
    await dnfRepos(repos);
  }

  async install(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void> {
    const plan = await this.prepare(req, repos, ctx);
    await plan.install();
  }

  /**
   * Resolves and downloads on the host, and names the content the install would produce: the
   * resolved packages with their checksums, the request's options, the setup files, the driver
   * and dnf's version (a repository update that changes no package of ours still hits).
   */
  async prepare(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<PreparedInstall> {
    const { dir, release: dispose } = await backendDir(ctx, "dnf");
    try {
      const b = await this.setup(repos, ctx, dir);
      const request = this.request(req, repos, b, ctx, "download");
      const done = await this.download(b, request, req, ctx);
      const h = createHash("sha256");
      const add = (label: string, v: string) => h.update(`${label}\0${v.length}\0`).update(v);
      // From the library the driver uses: `dnf --version` reads the host's rpm database and writes /var/log/hawkey.log.
      add("backend", await toolVersion([PYTHON, "-c", "import dnf.const, rpm; print('dnf', dnf.const.VERSION, 'rpm', rpm.__version__)"]));
      add("driver", DNF_DRIVER);
      // Without this build's own paths (its key files are named by their text instead).
      const { root: _r, cachedir: _c, logdir: _l, repos: _p, ...what } = request;
      const unplaced = b.repos.repos.map(({ where: _w, ...r }) => r); // not where they are written
      add("request", JSON.stringify({ ...what, repos: unplaced, keys: [...b.repos.keys.entries()] }));
      add("packages", done.packages.join("\n"));
      return {
        key: h.digest("hex"),
        install: () => this.inSandbox(b, this.request(req, repos, b, ctx, "install"), req, ctx).finally(dispose),
        dispose,
      };
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  /**
   * A root installed before gets what the new request adds and loses what it drops: the whole new
   * request is resolved and downloaded on the host as for an install, then dnf in the sandbox
   * installs what is missing and removes the packages no longer asked for (and what only they needed).
   */
  async update(req: PackageRequest, before: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void> {
    const { dir, release } = await backendDir(ctx, "dnf");
    try {
      const b = await this.setup(repos, ctx, dir);
      const names = (specs: Spec[]) => specs.map((s) => s.name).filter((n) => !isGlob(n));
      const now = new Set(names(req.packages));
      const remove = [...new Set([...names(before.packages).filter((n) => !now.has(n)), ...names(req.excludes)])];
      const removeGroups = droppedGroups(before, req);
      const dropped = [...remove, ...removeGroups.map((g) => `@${g}`)];
      ctx.log("info", `package changes: install what ${req.packages.length + req.groups.length} entries of %packages need; ${dropped.length ? `remove ${dropped.join(" ")}` : "nothing to remove"}`);
      await this.download(b, this.request(req, repos, b, ctx, "download"), req, ctx);
      await this.inSandbox(b, this.request(req, repos, b, ctx, "update", { remove, removeGroups }), req, ctx);
    } finally {
      await release();
    }
  }

  private async setup(repos: RepoConfig, ctx: InstallContext, dir: string): Promise<Build> {
    const r = await dnfRepos(repos);
    const driver = join(dir, "driver.py");
    await writeFile(driver, DNF_DRIVER, { mode: 0o644 });
    const keyFiles = new Map<string, string>();
    await mkdir(join(dir, "keys"), { recursive: true });
    for (const [id, key] of r.keys) {
      const f = join(dir, "keys", `${id}.asc`);
      await writeFile(f, key, { mode: 0o644 });
      keyFiles.set(id, f);
    }
    const shared = join(ctx.cacheDir, "dnf");
    await mkdir(shared, { recursive: true, mode: 0o755 });
    return { dir, driver, repos: r, keyFiles, sharedCache: join(shared, "cache"), lock: join(shared, "lock") };
  }

  private request(req: PackageRequest, repos: RepoConfig, b: Build, ctx: InstallContext, mode: DriverRequest["mode"], removal: Removal = { remove: [], removeGroups: [] }): DriverRequest {
    const host = mode === "download";
    return {
      mode,
      root: host ? join(b.dir, "scratch-root") : ctx.root,
      cachedir: host ? b.sharedCache : join(b.dir, "cache"),
      logdir: join(b.dir, host ? "host-log" : "log"),
      releasever: repos.releasever ?? null,
      repos: b.repos.repos.map((r) => ({ ...r, ...(b.keyFiles.has(r.id) ? { gpgkey: b.keyFiles.get(r.id)! } : {}) })),
      packages: req.packages.map((p) => p.name),
      groups: req.groups.map((g) => ({ name: g.name, types: groupTypes(g) })),
      environment: req.environment?.name ?? null,
      excludedGroups: (req.excludedGroups ?? []).map((g) => g.name),
      excludes: req.excludes.map((e) => e.name),
      modules: moduleSpecs(req),
      core: !req.nocore,
      ignoreMissing: req.ignoreMissing,
      weakDeps: req.weakDeps,
      excludeDocs: req.excludeDocs,
      instLangs: req.instLangs ?? null,
      ...removal,
      timeout: REPO_TIMEOUT,
      setupFiles: ctx.setupFiles.map((f) => ({ path: f.path, content: f.content, mode: f.mode ?? 0o644 })),
      files: installedRepoFiles(repos),
    };
  }

  /** The host run: metadata and packages into the shared cache, under its lock. */
  private async download(b: Build, request: DriverRequest, req: PackageRequest, ctx: InstallContext): Promise<Extract<DriverEvent, { event: "done" }>> {
    await mkdir(request.root, { recursive: true });
    const file = join(b.dir, "download.json");
    await writeFile(file, JSON.stringify(request));
    ctx.progress({ fraction: 0, message: "reading the repositories" });
    return this.drive(request, req, ctx, false, (onLine) =>
      run(["flock", b.lock, PYTHON, b.driver, file], { signal: ctx.signal, env: { LC_ALL: "C.UTF-8" }, onLine }));
  }

  /** The sandbox run: offline, from a private copy of the cache (hard links), into the root. */
  private async inSandbox(b: Build, request: DriverRequest, req: PackageRequest, ctx: InstallContext): Promise<void> {
    const cache = request.cachedir;
    await mkdir(cache, { recursive: true });
    await run(["flock", "--shared", b.lock, "cp", "-al", "--", `${b.sharedCache}/.`, cache], { signal: ctx.signal });
    await mkdir(request.logdir, { recursive: true });
    for (const d of [b.dir, ...(await dirsBelow(cache)), request.logdir]) await ctx.sandbox.grant(d);
    const file = join(b.dir, `${request.mode}.json`);
    await writeFile(file, JSON.stringify(request), { mode: 0o644 });
    const spec = { view: "install" as const, writable: [b.dir], readable: b.repos.localDirs, env: { LC_ALL: "C.UTF-8" } };
    await this.drive(request, req, ctx, true, (onLine) =>
      ctx.journal.trackProcess(["dnf", request.mode], (onSpawn) =>
        ctx.sandbox.run(spec, ["/bin/sh", "-c", KERNEL_MOUNTS, "sh", ctx.root, PYTHON, b.driver, file], { signal: ctx.signal, onSpawn, onLine })));
    ctx.progress({ fraction: 1, message: request.mode === "update" ? "packages updated" : "packages installed" });
  }

  /** Runs the driver through `start`, turning its events into progress and log lines and its failures into sentences. */
  private async drive(
    request: DriverRequest,
    req: PackageRequest,
    ctx: InstallContext,
    inSandbox: boolean,
    start: (onLine: (line: string) => void) => Promise<unknown>,
  ): Promise<Extract<DriverEvent, { event: "done" }>> {
    let done: Extract<DriverEvent, { event: "done" }> | undefined;
    let failure: DriverEvent | undefined;
    const onLine = (line: string) => {
      if (!line.startsWith(DNF_EVENT)) return ctx.log("debug", line);
      const e = JSON.parse(line.slice(DNF_EVENT.length)) as DriverEvent;
      if (e.event === "progress") {
        // Each package step is a log line too: progress events are thinned out on their way to clients.
        if (inSandbox && /^(installing|removing|running scriptlets of) /.test(e.message)) ctx.log("info", e.message);
        ctx.progress({ fraction: inSandbox ? Math.max(e.fraction, 0.3) : e.fraction, message: e.message, ...(e.bytes !== undefined ? { bytes: e.bytes } : {}) });
      } else if (e.event === "log") ctx.log(e.level, e.message);
      else if (e.event === "done") done = e;
      else {
        failure = e;
        if (e.event === "missing" && request.ignoreMissing) {
          for (const s of e.specs) ctx.log("warning", `${where(specOf(req, s.name))}: skipping missing ${s.kind} "${s.name}" (--ignoremissing)`);
        }
      }
    };
    try {
      await start(onLine);
    } catch (err) {
      if (failure) throw this.explain(failure, request, req);
      throw err instanceof CommandError ? new ImgcreateError("Failed", `dnf failed: ${err.result.tail.slice(-8).join(" | ")}`, { tail: err.result.tail }) : err;
    }
    if (!done) throw new ImgcreateError("Failed", "dnf ended without finishing its transaction");
    return done;
  }

  private explain(e: DriverEvent, request: DriverRequest, req: PackageRequest): ImgcreateError {
    if (e.event === "missing") return missingError(e.specs.map((s) => specOf(req, s.name)).sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
    if (e.event !== "error") return new ImgcreateError("Failed", "dnf failed");
    // One line, and the user's words for the key files this build wrote.
    let message = e.message.replace(/\s+/g, " ");
    for (const r of request.repos) if (r.gpgkey) message = message.replaceAll(`file://${r.gpgkey}`, `the --repo-key of repo "${r.id}"`);
    e = { ...e, message };
    switch (e.kind) {
      case "repo": {
        const r = request.repos.find((x) => x.id === e.repo);
        const url = r ? (r.baseurl ?? r.mirrorlist ?? r.metalink) : undefined;
        const at = r?.where ? `${r.where}: ` : "";
        return new ImgcreateError("Failed", `${at}repository ${e.repo ?? "?"}${url ? ` (${url})` : ""} cannot be read: ${e.message}; check the URL and that this machine reaches it`, { repo: e.repo, url });
      }
      case "depsolve":
        return new ImgcreateError("InvalidArgs", `dnf cannot install what %packages asks for: ${e.message}`);
      case "gpg":
        return new ImgcreateError("Failed", `a package's signature check failed: ${e.message}; give the repository's signing key with %addon org_imgcreate --repo-key=REPO:FILE`);
      default:
        return new ImgcreateError("Failed", `dnf failed (${e.kind}): ${e.message}`);
    }
  }
}
