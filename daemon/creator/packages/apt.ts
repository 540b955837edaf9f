// The apt backend: mmdebstrap (the Debian tool for building a root from apt repositories) into the
// mounted install root. Package scripts run in mmdebstrap's unshare mode, which as root unshares the
// mount, pid, ipc and uts namespaces (and keeps correct file ownership); the whole run is also
// wrapped in bubblewrap with --die-with-parent and its own pid namespace, so if the daemon dies the
// whole tree of mmdebstrap, apt and dpkg dies with it and nothing it mounted outlives it.
import { createHash } from "node:crypto";
import { chmod, copyFile, link, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ImgcreateError } from "../../errors.js";
import { run, CommandError } from "../system/exec.js";
import { bootId } from "../system/process.js";
import { toolVersion } from "../system/tools.js";
import { backendDir, type InstallContext, type PackageBackend, type PackageRequest, type PreparedInstall, type RepoConfig } from "./backend.js";
import type { AptSources } from "./apt-sources.js";
import type { RepoCache } from "./apt-cache.js";
import { checkSources, prepareSources } from "./apt-sources.js";
import { availableNames, privateAptOptions, repoCache, updateLists } from "./apt-cache.js";
import { downloadDebs } from "./apt-download.js";
import { excludePins, hookScript } from "./apt-hook.js";
import { dpkgFilters, excludedButRequired, missingError, resolve, where } from "./request.js";

/** mmdebstrap's hooks that bind file:// repositories into the chroot (for dpkg there) and remove them again. */
const FILE_MIRROR_HOOKS = "/usr/share/mmdebstrap/hooks/file-mirror-automount";

/** mmdebstrap's variant for a request: --nocore → "apt" (Essential + apt), else minbase; %addon variant wins. */
export function variantFor(req: PackageRequest, addonVariant?: string): string {
  return addonVariant ?? (req.nocore ? "apt" : "minbase");
}

/** Milestones of mmdebstrap's output and how far along the install is when each appears. */
const MILESTONES: [RegExp, number, string][] = [
  [/^I: downloading packages with apt/, 0.05, "downloading packages"],
  [/^I: extracting archives/, 0.3, "unpacking the essential packages"],
  [/^I: installing essential packages/, 0.4, "configuring the essential packages"],
  [/^I: installing remaining packages inside the chroot/, 0.6, "installing the remaining packages"],
  [/^I: cleaning package lists and apt cache/, 0.95, "cleaning up"],
];

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const s = await stat(join(dir, f)).catch(() => undefined);
    if (s?.isFile()) total += s.size;
  }
  return total;
}

/** The repository's lists, as the build's own copy (hard links where the cache shares the filesystem). */
async function copyLists(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const f of await readdir(from)) {
    if (!f.includes("_")) continue; // lock, partial/
    await link(join(from, f), join(to, f)).catch(() => copyFile(join(from, f), join(to, f)));
  }
}

/** What prepare() learnt, for install and the content key. */
interface Resolved {
  sources: AptSources;
  cache: RepoCache;
  opts: string[];
  /** The package names to install, as resolved against the lists. */
  install: string[];
  /** Every name the repositories offer. */
  available: Set<string>;
}

function hostArch(): string {
  return process.arch === "x64" ? "amd64" : process.arch === "arm64" ? "arm64" : process.arch;
}

export class AptBackend implements PackageBackend {
  readonly name = "apt";
  readonly tools = ["mmdebstrap", "apt-get", "apt-cache", "bwrap", "flock"];

  async check(repos: RepoConfig): Promise<void> {
    await checkSources(repos);
  }

  async install(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void> {
    const plan = await this.prepare(req, repos, ctx);
    await plan.install();
  }

  /**
   * Reads the lists and resolves the request (under the journal: the build's apt dir lives until
   * install() or dispose()), and names the content that install would produce: the repositories'
   * index files as fetched (signed Release files and the package indexes they list), the resolved
   * request, the setup files, the hook and mmdebstrap's version.
   */
  async prepare(req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<PreparedInstall> {
    const { dir, release: dispose } = await backendDir(ctx, "apt");
    try {
      const p = await this.resolveRequest(req, repos, ctx, dir);
      return {
        key: await this.contentKey(p, req, repos, ctx),
        install: () => this.installResolved(p, req, repos, ctx, dir).finally(dispose),
        dispose,
      };
    } catch (err) {
      await dispose();
      throw err;
    }
  }

  private async resolveRequest(req: PackageRequest, repos: RepoConfig, ctx: InstallContext, dir: string): Promise<Resolved> {
    const sources = await prepareSources(repos, join(dir, "sources"), hostArch());
    const cache = await repoCache(ctx.cacheDir, sources.key);
    const scratch = join(dir, "scratch");
    await mkdir(join(scratch, "none"), { recursive: true });
    const opts = privateAptOptions(sources.dir, cache, scratch);
    const runOpts = { signal: ctx.signal, onLine: (l: string) => ctx.log("debug", l) };

    ctx.progress({ fraction: 0, message: "reading the package lists" });
    await updateLists(opts, cache, runOpts);
    // Not logged: the availability check prints every package name the repository has (~120,000 lines).
    const available = await availableNames(opts, cache, { signal: ctx.signal });
    const resolved = resolve(req, available);
    if (resolved.missing.length > 0) {
      if (!req.ignoreMissing) throw missingError(resolved.missing);
      for (const m of resolved.missing) ctx.log("warning", `${where(m)}: skipping missing package or group "${m.name}" (--ignoremissing)`);
    }
    return { sources, cache, opts, install: resolved.install, available };
  }

  private async contentKey(p: Resolved, req: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<string> {
    const h = createHash("sha256");
    const add = (label: string, v: string | Buffer) => h.update(`${label}\0${v.length}\0`).update(v);
    add("backend", `apt ${await toolVersion(["mmdebstrap", "--version"])}`);
    add("hook", hookScript({ lists: "", stage: "", excludes: "", debs: "" }));
    add("sources", p.sources.key);
    // The package lists under the cache's shared lock, so an update by another build cannot tear them.
    const lists = await run(["flock", "--shared", p.cache.lock, "sh", "-c", 'cd "$1" && for f in *_*; do [ -f "$f" ] && sha256sum "$f"; done; true', "sh", p.cache.lists], {
      signal: ctx.signal,
    });
    add("lists", lists.stdout);
    add("request", JSON.stringify({ install: p.install, excludes: req.excludes.map((e) => e.name), variant: variantFor(req, repos.addon.variant), weakDeps: req.weakDeps, filters: dpkgFilters(req) }));
    add("setup", JSON.stringify(ctx.setupFiles));
    return h.digest("hex");
  }

  private async installResolved(p: Resolved, req: PackageRequest, repos: RepoConfig, ctx: InstallContext, dir: string): Promise<void> {
    const { sources, cache, opts } = p;
    const resolved = { install: p.install };
    const stage = join(dir, "stage");
    for (const f of ctx.setupFiles) {
      const p = join(stage, f.path);
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, f.content);
      await chmod(p, f.mode ?? 0o644);
    }
    const prefs = join(dir, "preferences");
    const excludes = join(prefs, "imgcreate-exclude");
    await mkdir(prefs, { recursive: true });
    if (req.excludes.length > 0) await writeFile(excludes, excludePins(req.excludes.map((e) => e.name)));
    // The sandbox reads the lists from the build's own copy: the cache is not visible in it.
    const lists = join(dir, "lists");
    await copyLists(cache.lists, lists);
    const debs = join(dir, "debs");
    const variant = variantFor(req, repos.addon.variant);
    ctx.progress({ fraction: 0.02, message: "downloading packages" });
    // apt resolves the whole package set here first, so its refusals (an exclude another package
    // needs, an unknown name) are explained here as at install.
    await this.withDownloadProgress(debs, ctx, () =>
      downloadDebs(
        { aptOptions: opts, cache, debs, suite: sources.suite, arch: hostArch(), variant, include: resolved.install, recommends: req.weakDeps, preferencesDir: prefs },
        { signal: ctx.signal, onLine: (l) => ctx.log("debug", l) },
      ).catch((err: unknown) => {
        throw err instanceof CommandError ? explain(err, req, ctx.root) : err;
      }),
    );
    // apt in the sandbox locks and writes partial/ here as the sandbox's root.
    await ctx.sandbox.grant(debs);
    await ctx.sandbox.grant(join(debs, "partial"));
    const hook = join(dir, "hook.sh");
    await writeFile(hook, hookScript({ lists, stage, excludes, debs }), { mode: 0o755 });

    const argv = this.mmdebstrapArgv(req, repos, resolved.install, sources.suite, sources.files, hook, ctx.root);
    // Local repositories: apt outside the chroot reads them in our sandbox (bound read-only, as
    // checked), dpkg inside it through mmdebstrap's own bind-mount hook.
    if (sources.localDirs.length > 0) argv.splice(1, 0, `--hook-dir=${FILE_MIRROR_HOOKS}`);
    await this.runMmdebstrap(argv, req, ctx, dir, sources.localDirs);
    // mmdebstrap's automount hook leaves the (empty) mount points of local repositories in the image.
    if (sources.localDirs.length > 0) {
      // Each one and its parents while empty, never a top-level directory such as /tmp or /srv.
      const script = 'for d in "$@"; do while [ -n "${d%/*}" ] && rmdir "$d" 2>/dev/null; do d=${d%/*}; done; done';
      await ctx.sandbox.run({ view: "chroot" }, ["sh", "-c", script, "sh", ...sources.localDirs], { signal: ctx.signal }).catch(() => undefined);
    }
  }

  /**
   * A root installed before gets what the new request adds and loses what it drops: debs fetched on
   * the host as for an install, then apt-get in the image (the sandbox's chroot view, with the build's
   * lists and debs bound in for that run only, no network), dropped packages purged and what they
   * alone needed autoremoved.
   */
  async update(req: PackageRequest, before: PackageRequest, repos: RepoConfig, ctx: InstallContext): Promise<void> {
    const { dir, release } = await backendDir(ctx, "apt");
    try {
      const p = await this.resolveRequest(req, repos, ctx, dir);
      const old = new Set(resolve(before, p.available).install);
      const added = p.install.filter((n) => !old.has(n));
      const kept = new Set(p.install);
      const dropped = [...old].filter((n) => !kept.has(n));
      const excluded = req.excludes.map((e) => e.name).filter((n) => !/[*?[]/.test(n) && p.available.has(n));
      const removed = [...new Set([...dropped, ...excluded])];
      ctx.log("info", `package changes: ${added.length ? `add ${added.join(" ")}` : "nothing to add"}; ${removed.length ? `remove ${removed.join(" ")}` : "nothing to remove"}`);
      if (added.length === 0 && removed.length === 0) return;
      const debs = join(dir, "debs");
      const prefs = join(dir, "preferences");
      await mkdir(prefs, { recursive: true });
      if (req.excludes.length > 0) await writeFile(join(prefs, "imgcreate-exclude"), excludePins(req.excludes.map((e) => e.name)));
      ctx.progress({ fraction: 0.05, message: "downloading packages" });
      const variant = variantFor(req, repos.addon.variant);
      await this.withDownloadProgress(debs, ctx, () =>
        downloadDebs(
          { aptOptions: p.opts, cache: p.cache, debs, suite: p.sources.suite, arch: hostArch(), variant, include: p.install, recommends: req.weakDeps, preferencesDir: prefs },
          { signal: ctx.signal, onLine: (l) => ctx.log("debug", l) },
        ).catch((err: unknown) => {
          throw err instanceof CommandError ? explain(err, req, ctx.root) : err;
        }),
      );
      if (req.excludes.length > 0) await copyFile(join(prefs, "imgcreate-exclude"), join(debs, "imgcreate-exclude.pref"));
      const lists = join(dir, "lists");
      await copyLists(p.cache.lists, lists);
      for (const d of [debs, join(debs, "partial"), lists]) await ctx.sandbox.grant(d);
      await this.runAptInRoot(req, ctx, { debs, lists }, added, removed);
    } finally {
      await release();
    }
  }

  private async runAptInRoot(req: PackageRequest, ctx: InstallContext, paths: { debs: string; lists: string }, added: string[], removed: string[]): Promise<void> {
    const o = [
      "-y", "-q", "--no-download",
      "-o", "Dpkg::Options::=--force-unsafe-io",
      "-o", `APT::Install-Recommends=${req.weakDeps ? "true" : "false"}`,
      ...(req.excludes.length > 0 ? ["-o", "Dir::Etc::Preferences=/var/cache/apt/archives/imgcreate-exclude.pref"] : []),
    ].map((a) => `'${a}'`).join(" ");
    const script = [
      "set -e",
      added.length ? `apt-get ${o} install ${added.join(" ")}` : "",
      removed.length ? `apt-get ${o} purge ${removed.join(" ")}` : "",
      `apt-get ${o} --purge autoremove`,
    ].filter(Boolean).join("\n");
    const spec = {
      view: "chroot" as const,
      binds: [{ from: paths.debs, to: "/var/cache/apt/archives" }, { from: paths.lists, to: "/var/lib/apt/lists" }],
      env: { LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive" },
    };
    let done = 0;
    const total = Math.max(1, added.length + removed.length);
    await ctx.journal.trackProcess(["apt-get", "install/purge"], (onSpawn) =>
      ctx.sandbox.run(spec, ["sh", "-c", script], {
        signal: ctx.signal,
        onSpawn,
        onLine: (line) => {
          const step = /^(Unpacking|Setting up|Removing|Purging configuration files for) (\S+)/.exec(line);
          if (step) ctx.progress({ fraction: Math.min(0.95, 0.2 + (0.75 * ++done) / (2 * total)), message: `${step[1]!.toLowerCase()} ${step[2]}` });
          ctx.log(/^(E|W): /.test(line) ? (line.startsWith("E") ? "error" : "warning") : "debug", line);
        },
      }).catch((err: unknown) => {
        throw err instanceof CommandError ? explain(err, req, ctx.root) : err;
      }),
    );
    ctx.progress({ fraction: 1, message: "packages updated" });
  }

  private async withDownloadProgress(debs: string, ctx: InstallContext, fn: () => Promise<void>): Promise<void> {
    const poll = setInterval(() => {
      void dirBytes(debs).then((bytes) => ctx.progress({ fraction: 0.05, bytes, message: "downloading packages" }));
    }, 1000);
    try {
      await fn();
    } finally {
      clearInterval(poll);
    }
  }

  mmdebstrapArgv(req: PackageRequest, repos: RepoConfig, include: string[], suite: string, mirrors: string[], hook: string, root: string): string[] {
    const a = [
      "mmdebstrap",
      "--mode=root", // root of the sandbox's user namespace, not the host's
      `--variant=${variantFor(req, repos.addon.variant)}`,
      "--verbose",
      "--skip=update",
      "--skip=essential/unlink",
      `--aptopt=APT::Install-Recommends "${req.weakDeps ? "true" : "false"}"`,
      `--setup-hook=${hook} setup "$1"`,
      `--essential-hook=${hook} essential "$1"`,
      `--customize-hook=${hook} customize "$1"`,
    ];
    // No fsync per unpacked file: a crashed build is thrown away anyway, and on a loop-mounted root
    // every fsync is a flush of the backing file (this halves the install time). The customize hook
    // takes the option out of the image's dpkg config again.
    a.push("--dpkgopt=force-unsafe-io");
    for (const f of dpkgFilters(req)) a.push(`--dpkgopt=${f}`);
    if (include.length > 0) a.push(`--include=${include.join(",")}`);
    return [...a, suite, root, ...mirrors];
  }

  /**
   * mmdebstrap and every package script run in the root's sandbox, as the root of its user
   * namespace, with no network (the debs are already here), seeing the host's programs read-only,
   * the build's apt dir and the install root (idmapped, so files get their real owners on disk).
   */
  private async runMmdebstrap(argv: string[], req: PackageRequest, ctx: InstallContext, aptDir: string, localDirs: string[]): Promise<void> {
    const { id } = await ctx.journal.take("process", { argv: argv.slice(0, 8), boot: bootId() }, async () => undefined);
    let fraction = 0.1;
    try {
      await ctx.sandbox.run({ view: "install", writable: [aptDir], readable: localDirs, env: { LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive" } }, argv, {
        signal: ctx.signal,
        onSpawn: (pid) => ctx.journal.notePid(id, pid),
        onLine: (line) => {
          for (const [re, f, m] of MILESTONES) {
            if (re.test(line)) {
              fraction = f;
              ctx.progress({ fraction, message: m });
            }
          }
          const unpack = /^(Unpacking|Setting up) (\S+)/.exec(line);
          if (unpack) ctx.progress({ fraction, message: `${unpack[1]!.toLowerCase()} ${unpack[2]}` });
          ctx.log(/^(E|W): /.test(line) ? (line.startsWith("E") ? "error" : "warning") : "debug", line);
        },
      });
    } catch (err) {
      throw err instanceof CommandError ? explain(err, req, ctx.root) : err;
    } finally {
      await ctx.journal.release(id);
    }
    ctx.progress({ fraction: 1, message: "packages installed" });
  }
}

/** Turns mmdebstrap's failure output into a sentence about what the user wrote. */
function explain(err: CommandError, req: PackageRequest, root: string): ImgcreateError {
  const out = err.result.stdout + err.result.stderr;
  const fetch = /Failed to fetch \S*\/([^/_\s]+)_[^/\s]*\.deb/.exec(out);
  if (fetch) {
    return new ImgcreateError("Failed", `the build needed package ${fetch[1]}, which was not among the packages downloaded before the (offline) install; please report this with the kickstart`, { tail: err.result.tail });
  }
  const locate = /Unable to locate package (\S+)/.exec(out);
  if (locate) {
    const spec = [...req.packages, ...req.groups].find((s) => s.name === locate[1]);
    return missingError([spec ?? { name: locate[1]! }]);
  }
  const ex = excludedButRequired(out, req.excludes);
  if (ex) {
    return new ImgcreateError(
      "InvalidArgs",
      `${where(ex.spec)}: package ${ex.needs} is excluded ("-${ex.spec.name}") but ${ex.pkg} requires it; drop the exclude or the package that needs it`,
      { excluded: ex.needs, requiredBy: ex.pkg, file: ex.spec.file, line: ex.spec.line },
    );
  }
  if (/No space left on device/.test(out)) {
    return new ImgcreateError("Failed", `the install root filesystem at ${root} is full: give it more room with a larger \`part / --size\``, { tail: err.result.tail });
  }
  return new ImgcreateError("Failed", `installing packages failed: ${err.result.tail.slice(-8).join(" | ")}`, { tail: err.result.tail });
}
