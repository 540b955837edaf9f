// ImageCreator: the imgcreate engine's base class (the seed's ImageCreator). It owns the stage order
// mount → install → configure → unmount → package, the journal, the events and the sandbox; what an
// image type does differently lives in the protected hooks a subclass overrides.
import type { ChildProcess, StdioOptions } from "node:child_process";
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { access, mkdir, readdir, rename, rm, readFile, stat, statfs, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError, asImgcreateError } from "../errors.js";
import type { KickstartModel } from "../kickstart/model.js";
import { applyKickstart, RootOps, runPostScripts } from "./configure/index.js";
import { Checkpoints, type CheckpointMeta } from "./checkpoints.js";
import { Journal } from "./journal.js";
import { bootId } from "./system/process.js";
import type { InstallContext, PackageBackend, PackageRequest, RepoConfig, SetupFile } from "./packages/backend.js";
import { requestFromKickstart } from "./packages/request.js";
import { backendFor, repoConfig } from "./repositories.js";
import { RootCache } from "./root-cache.js";
import type { RunResult } from "./system/exec.js";
import { DEFAULT_LIMITS, Sandbox } from "./system/sandbox.js";
import { requireTools } from "./system/tools.js";
import {
  DEFAULT_CACHE_DIR,
  DEFAULT_RUN_DIR,
  type CreatorEvents,
  type CreatorOptions,
  type CreatorState,
  type LogPriority,
  type ProgressEvent,
  type Stage,
} from "./types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** States in which an image can rest (holding nothing but files). */
const AT_REST: CreatorState[] = ["unmounted", "packaged"];
const REST_FORMAT = 1;

/** rest.json: how a new creator takes up a resting image. */
interface RestRecord {
  format: number;
  state: CreatorState;
  files: string[];
  checkpoints: string[];
  installed?: PackageRequest;
}

/** Bytes the files directly in dir take on disk (their allocated blocks: sparse parts count nothing). */
async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) total += ((await stat(join(dir, f)).catch(() => undefined))?.blocks ?? 0) * 512;
  return total;
}

async function readRest(file: string): Promise<RestRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(file, "utf8")) as RestRecord;
    return r.format === REST_FORMAT && AT_REST.includes(r.state) && Array.isArray(r.files) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** States in which the creator has an image to checkpoint, roll back or clone. */
const HAS_IMAGE: CreatorState[] = ["mounted", "installed", "configured", "unmounted", "packaged"];

export class ImageCreator extends EventEmitter<CreatorEvents> {
  readonly name: string;
  readonly fslabel: string;
  readonly workDir: string;
  readonly cacheDir: string;
  /** The install root: the image's "/" while mounted. */
  readonly instroot: string;
  protected readonly journal: Journal;
  /** The sandbox of the mounted root: every command in the root runs through it. */
  private _sandbox: Sandbox | undefined;
  private _state: CreatorState = "new";
  /** The stage, or checkpoint/rollback/clone, now running: one at a time. */
  private running: string | undefined;
  private mounted = false;
  /** Aborted by cleanup(), so a running stage stops before everything is released. */
  private readonly lifetime = new AbortController();
  private runningStage: Promise<unknown> | undefined;

  /** The request the root was last installed or updated to: a re-opened root installs only the difference. */
  private installedRequest: PackageRequest | undefined;
  protected readonly checkpoints: Checkpoints;
  /** A resumed image's files, not journaled until something writes the image (see resume()). */
  private restingFiles: string[] = [];

  constructor(
    protected ks: KickstartModel,
    name: string,
    protected readonly opts: CreatorOptions,
  ) {
    super();
    if (!NAME.test(name)) {
      throw new ImgcreateError("InvalidArgs", `"${name}" is not a usable image name: use letters, digits, ".", "_", "+" or "-" (at most 64)`);
    }
    this.name = name;
    this.fslabel = opts.fslabel ?? name;
    this.workDir = opts.workDir;
    this.cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
    this.instroot = join(this.workDir, "root");
    this.journal = new Journal(this.workDir);
    this.checkpoints = new Checkpoints(this.workDir, this.journal);
  }

  /** The package manager: the one given, else the kickstart's (it may change with SetKickstart). */
  protected get backend(): PackageBackend {
    return this.opts.backend ?? backendFor(this.ks);
  }

  get state(): CreatorState {
    return this._state;
  }

  // ---------------------------------------------------------------- hooks for subclasses

  /** Check the kickstart and options before any resource is taken; throw InvalidArgs with FILE:LINE. */
  protected async validate(): Promise<void> {}

  /** Host tools this creator needs (the backend's are added). */
  protected requiredTools(): string[] {
    return ["bwrap"];
  }

  /** Make this.instroot an empty directory to install into (here: a plain directory). */
  protected async mountInstroot(_signal: AbortSignal): Promise<void> {
    await this.journal.take("file", { path: this.instroot }, () => mkdir(this.instroot));
  }

  /** Mount the image an earlier mount/unmount left (a re-opened session): no new filesystem, nothing installed. */
  protected async remountInstroot(_signal: AbortSignal): Promise<void> {}

  /** Undo mountInstroot. Keep whatever stageFinalImage will need. */
  protected async unmountInstroot(): Promise<void> {}

  /** Make the image bootable (initramfs, bootloader config); runs after the kickstart settings, before %post. */
  protected async createBootconfig(_signal: AbortSignal): Promise<void> {}

  /** Write the artifacts into outDir and return their paths. */
  protected async stageFinalImage(_outDir: string, _signal: AbortSignal): Promise<string[]> {
    return [];
  }

  /** Packages this image type always needs (e.g. a kernel and dracut for a live image). */
  protected getRequiredPackages(): string[] {
    return [];
  }

  /** Packages this image type must not have. */
  protected getExcludedPackages(): string[] {
    return [];
  }

  /** Files written into the root after the essential packages and before the rest (the kernel) install. */
  protected getSetupFiles(): SetupFile[] {
    return [];
  }

  /**
   * What, besides the packages, decides the installed image's bytes (filesystem type, size, label), or
   * undefined when this image type is not kept in the cache of installed roots.
   */
  protected imageIdentity(): string | undefined {
    return undefined;
  }

  /** Makes the (mounted, empty) install root a copy of a cached installed image; the sandbox is closed meanwhile. */
  protected async restoreImage(_image: string, _signal: AbortSignal): Promise<void> {
    throw new ImgcreateError("Failed", "this image type keeps no installed roots");
  }

  /** Calls store() with the installed image file, consistent on disk while store() runs. */
  protected async saveImage(_store: (image: string) => Promise<void>): Promise<void> {}

  /** Copies the image file to `to`, consistent on disk while it is copied (frozen when mounted); returns how it copied. */
  protected async exportImage(_to: string, _signal: AbortSignal): Promise<string> {
    throw new ImgcreateError("Failed", "this image type has no image file to checkpoint or clone");
  }

  /** A checkpoint of the image in constant time (device-mapper), or undefined where there is none (then it is copied). */
  protected async snapshotImage(_dir: string, _signal: AbortSignal): Promise<string | undefined> {
    return undefined;
  }

  /** Lets go of what a checkpoint holds besides its directory (a device-mapper snapshot). */
  protected async releaseCheckpoint(_name: string): Promise<void> {}

  /** Puts the image back as checkpoint dir holds it, mounted again if it was; returns how. */
  protected async rollbackImage(_dir: string, _meta: CheckpointMeta, _signal: AbortSignal): Promise<string> {
    throw new ImgcreateError("Failed", "this image type has no image file to roll back");
  }

  /** Waits for what still works on the image between calls (an unmounted clone's background copy) before stage uses it. */
  protected async imageReady(): Promise<void> {}

  /** Resolves once nothing works on the image in the background, or undefined when nothing does (the session may rest then). */
  background(): Promise<void> | undefined {
    return undefined;
  }

  /** A clone's image in constant time from src's (device-mapper), mounted if src is; undefined where it must be copied. */
  protected async adoptSnapshot(_src: ImageCreator, _signal: AbortSignal): Promise<string | undefined> {
    return undefined;
  }

  /** Makes this (new) creator's image from export(path), relabelled as its own, and mounts it when mount is set. */
  protected async adoptImage(_exported: (to: string) => Promise<string>, _mount: boolean, _signal: AbortSignal): Promise<string> {
    throw new ImgcreateError("Failed", "this image type has no image file to clone");
  }

  /** Writes into dir the files outside the image that belong to its state (a live image's kernel and initramfs). */
  protected async saveExtras(_dir: string): Promise<void> {}

  /** Takes back what saveExtras wrote into dir (and forgets what is not there). */
  protected async restoreExtras(_dir: string): Promise<void> {}

  /** Finds again, in the work dir, the files outside the image that a resting creator had. */
  protected async resumeExtras(): Promise<void> {}

  /** The kernel command line options from the kickstart's bootloader --append. */
  protected getKernelOptions(): string {
    return this.ks.bootloader?.append ?? "";
  }

  /** /etc/fstab of the image. */
  protected getFstab(): string {
    return "";
  }

  /** Where a --nochroot %post may write besides the install root ($LIVE_ROOT). */
  protected get liveRoot(): string {
    return join(this.workDir, "live");
  }

  // ---------------------------------------------------------------- helpers for subclasses

  protected progress(stage: Stage, p: Omit<ProgressEvent, "stage">): void {
    this.emit("progress", { stage, ...p });
  }

  protected log(stage: Stage, priority: LogPriority, line: string): void {
    this.emit("log", { stage, priority, line });
  }

  /** A line about something that ended between calls (no stage is listening): the session's log takes it. */
  protected notice(line: string): void {
    this.emit("notice", line);
  }

  /** Aborted when the creator is cleaned up: what runs in the background between calls stops on it. */
  protected get lifetimeSignal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** Runs argv inside the sandboxed install root, its output as log lines of stage. */
  protected runInRoot(stage: Stage, argv: string[], opts: { signal?: AbortSignal; input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    return this.journal.trackProcess(argv, (onSpawn) =>
      this.sandbox.run({ view: "chroot", ...(opts.env ? { env: opts.env } : {}) }, argv, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        onSpawn,
        onLine: (l) => this.log(stage, "info", l),
      }),
    );
  }

  /** The mounted root's sandbox (only while mounted). */
  protected get sandbox(): Sandbox {
    if (!this._sandbox) throw new ImgcreateError("InvalidState", "the install root is not mounted");
    return this._sandbox;
  }

  protected rootOps(stage: Stage, signal?: AbortSignal): RootOps {
    return new RootOps(this.sandbox, this.instroot, (p, l) => this.log(stage, p, l), signal, this.journal);
  }

  // ---------------------------------------------------------------- the stages

  private async stage<T>(stage: Stage, from: CreatorState[], to: CreatorState, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running) throw new ImgcreateError("InvalidState", `cannot ${stage}: ${this.running} is still running`);
    if (!from.includes(this._state)) {
      throw new ImgcreateError("InvalidState", `cannot ${stage} now: the image is ${this._state} (${stage} needs it ${from.join(" or ")})`, {
        state: this._state,
      });
    }
    const s = signal ? AbortSignal.any([signal, this.lifetime.signal]) : this.lifetime.signal;
    if (s.aborted) throw new ImgcreateError("Cancelled", `${stage} cancelled`);
    this.running = stage;
    const p = (async () => {
      try {
        this.progress(stage, { fraction: 0, message: `${stage} started` });
        await this.imageReady();
        const result = await fn(s);
        this._state = to;
        this.progress(stage, { fraction: 1, message: `${stage} done` });
        return result;
      } catch (err) {
        // Packaging works on a copy: the image itself is as it was, and may be packaged again.
        if (stage !== "package") this._state = "failed";
        const e = s.aborted ? new ImgcreateError("Cancelled", `${stage} cancelled`) : await this.explainFull(asImgcreateError(err));
        this.log(stage, "error", e.message);
        throw e;
      } finally {
        this.running = undefined;
      }
    })();
    this.runningStage = p;
    return p;
  }

  /** "No space left on device" becomes a sentence naming the filesystem that is full and what to change. */
  private async explainFull(e: ImgcreateError): Promise<ImgcreateError> {
    if (!/No space left on device|ENOSPC/.test(e.message + JSON.stringify(e.detail))) return e;
    const free = async (p: string) => statfs(p).then((st) => st.bavail * st.bsize).catch(() => Infinity);
    const rootFull = this.mounted && (await free(this.instroot)) < 16 * 2 ** 20;
    const where = rootFull
      ? `the image's root filesystem (mounted at ${this.instroot}) is full: raise \`part / --size\` in the kickstart`
      : `the host filesystem holding ${this.workDir} is full: free space there or use another work or output directory`;
    return new ImgcreateError("Failed", `${where} (${e.message})`, { ...e.detail, full: rootFull ? "root" : "host" });
  }

  /**
   * A new image, or (from unmounted or packaged) the image this creator built before, mounted again
   * as it was left: Install then brings it to the kickstart's packages, Configure runs again.
   */
  async mount(signal?: AbortSignal): Promise<void> {
    const reopen = this._state === "unmounted" || this._state === "packaged";
    await this.stage("mount", ["new", "unmounted", "packaged"], "mounted", signal, async (s) => {
      await this.validate();
      await requireTools([...new Set([...this.requiredTools(), ...this.backend.tools])]);
      await mkdir(this.workDir, { recursive: true, mode: 0o700 });
      this.mounted = true;
      if (reopen) await this.wake();
      if (reopen) await this.remountInstroot(s);
      else await this.mountInstroot(s);
      await this.openSandbox();
    });
  }

  /**
   * Replaces the kickstart (a parsed model) while the image is not mounted: the next Install adds and
   * removes packages by the difference, the next Configure applies its settings and %post.
   */
  setKickstart(ks: KickstartModel): void {
    if (this.running || this.mounted) {
      throw new ImgcreateError("InvalidState", `cannot change the kickstart while the image is ${this.running ? `busy (${this.running})` : "mounted"}: unmount it first`);
    }
    this.ks = ks;
  }

  private async openSandbox(): Promise<void> {
    this._sandbox = await Sandbox.open({
      root: this.instroot,
      workDir: this.workDir,
      runDir: this.opts.runDir ?? DEFAULT_RUN_DIR,
      journal: this.journal,
      limits: { ...DEFAULT_LIMITS, ...this.opts.limits },
    });
  }

  /** The package request: %packages plus what this image type requires or forbids. */
  protected packageRequest(): PackageRequest {
    const req = requestFromKickstart(this.ks.packages);
    for (const name of this.getRequiredPackages()) req.packages.push({ name });
    for (const name of this.getExcludedPackages()) req.excludes.push({ name });
    return req;
  }

  async install(signal?: AbortSignal): Promise<void> {
    await this.stage("install", ["mounted"], "installed", signal, async (s) => {
      const req = this.packageRequest();
      const repos = repoConfig(this.ks, this.opts.releasever);
      const ctx: InstallContext = {
        root: this.instroot,
        workDir: this.workDir,
        cacheDir: this.cacheDir,
        journal: this.journal,
        sandbox: this.sandbox,
        signal: s,
        setupFiles: this.getSetupFiles(),
        progress: (p) => this.progress("install", p),
        log: (priority, line) => this.log("install", priority, line),
      };
      const before = this.installedRequest;
      if (before && this.backend.update) {
        await this.backend.update(req, before, repos, ctx);
        this.installedRequest = req;
        return;
      }
      await this.installNew(req, repos, ctx, s);
      this.installedRequest = req;
    });
  }

  /** A complete install into the empty root: from the cache of installed roots when it has the same content. */
  private async installNew(req: PackageRequest, repos: RepoConfig, ctx: InstallContext, s: AbortSignal): Promise<void> {
    const cache = this.opts.rootCache && new RootCache(this.opts.rootCache.dir, this.opts.rootCache.maxBytes);
    const identity = this.imageIdentity();
    if (!cache?.enabled || identity === undefined || !this.backend.prepare) return this.backend.install(req, repos, ctx);
    const plan = await this.backend.prepare(req, repos, ctx);
    const key = createHash("sha256").update(`${this.backend.name}\0${identity}\0${plan.key}`).digest("hex");
    const hit = await cache.lookup(key);
    if (hit) {
      await plan.dispose();
      await this.installFromCache(hit.image, key, s);
      return;
    }
    await plan.install();
    this.progress("install", { fraction: 1, message: "keeping the installed root in the cache" });
    try {
      await this.saveImage((image) => cache.store(key, image, this.cacheSummary(req.packages.length), s));
      this.log("install", "info", `installed root kept in the cache as ${key.slice(0, 12)}`);
    } catch (err) {
      // The install itself is done: a full cache disk costs the next build time, not this one.
      if (s.aborted) throw err;
      this.log("install", "warning", `the installed root could not be kept in the cache: ${(err as Error).message}`);
    }
  }

  /** A cache hit: the install root becomes a copy of the cached image, with the sandbox reopened over it. */
  private async installFromCache(image: string, key: string, signal: AbortSignal): Promise<void> {
    this.log("install", "info", `installed root cache hit ${key.slice(0, 12)}: copying it instead of installing (reflink where the filesystem has it, else a sparse copy)`);
    this.progress("install", { fraction: 0.5, message: "copying the cached installed root" });
    await this._sandbox?.close();
    this._sandbox = undefined;
    await this.restoreImage(image, signal);
    await this.openSandbox();
  }

  private cacheSummary(packages: number): string {
    return `${this.imageIdentity() ?? ""}, ${packages} packages requested (${this.backend.name})`;
  }

  async configure(signal?: AbortSignal): Promise<void> {
    await this.stage("configure", ["installed"], "configured", signal, async (s) => {
      const ops = this.rootOps("configure", s);
      this.progress("configure", { fraction: 0.1, message: "applying the kickstart settings" });
      await applyKickstart(this.ks, ops, this.getFstab());
      this.progress("configure", { fraction: 0.4, message: "creating the boot configuration" });
      await this.createBootconfig(s);
      this.progress("configure", { fraction: 0.6, message: "running %post scripts" });
      await this.withHostResolver(ops, async () => {
        const scratch = join(this.workDir, "scripts");
        await this.journal.take("file", { path: this.liveRoot }, () => mkdir(this.liveRoot, { recursive: true }));
        await this.sandbox.grant(this.liveRoot); // --nochroot scripts write $LIVE_ROOT as the sandbox's root
        await this.journal.take("file", { path: scratch }, () => mkdir(scratch, { recursive: true }));
        await runPostScripts(this.ks.scripts, {
          ops,
          scratch,
          liveRoot: this.liveRoot,
          signal: s,
          timeoutMs: this.sandbox.limits.scriptTimeoutMs,
          network: this.ks.imgcreate.network ?? "none",
        });
      });
    });
  }

  /** %post gets the host's DNS resolver (as livecd-tools copies resolv.conf in); the image's own is put back after. */
  private async withHostResolver(ops: RootOps, fn: () => Promise<void>): Promise<void> {
    const saved = join(this.workDir, "resolv.conf.image");
    const original = await ops.sh('if [ -L /etc/resolv.conf ]; then echo "L:$(readlink /etc/resolv.conf)"; elif [ -f /etc/resolv.conf ]; then echo F; cat /etc/resolv.conf; else echo N; fi');
    await writeFile(saved, original.stdout);
    const host = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
    await ops.sh("rm -f /etc/resolv.conf && cat > /etc/resolv.conf", [], { input: host });
    try {
      await fn();
    } finally {
      const [kind, ...rest] = original.stdout.split("\n");
      if (kind?.startsWith("L:")) await ops.sh('rm -f /etc/resolv.conf && ln -s "$1" /etc/resolv.conf', [kind.slice(2)]);
      else if (kind === "F") await ops.sh("rm -f /etc/resolv.conf && cat > /etc/resolv.conf", [], { input: rest.join("\n").replace(/\n$/, "") });
      else await ops.sh("rm -f /etc/resolv.conf");
      await rm(saved, { force: true });
    }
  }

  async unmount(signal?: AbortSignal): Promise<void> {
    const from: CreatorState[] = ["mounted", "installed", "configured"];
    if (this._state === "failed" && this.mounted) from.push("failed");
    await this.stage("unmount", from, "unmounted", signal, async () => {
      await this._sandbox?.close();
      this._sandbox = undefined;
      await this.unmountInstroot();
      this.mounted = false;
    });
  }

  async package(outDir: string, signal?: AbortSignal): Promise<string[]> {
    return this.stage("package", ["unmounted", "packaged"], "packaged", signal, async (s) => {
      await mkdir(outDir, { recursive: true });
      return this.stageFinalImage(outDir, s);
    });
  }

  /** The whole build in one call. On failure the creator is left for cleanup(), as livecd-creator does. */
  async create(outDir: string, signal?: AbortSignal): Promise<string[]> {
    await this.mount(signal);
    await this.install(signal);
    await this.configure(signal);
    await this.unmount(signal);
    return this.package(outDir, signal);
  }

  // ---------------------------------------------------------------- rest and resume

  /**
   * Puts an unmounted or packaged image to rest: it then holds nothing but files, which the journal
   * forgets (so a restarted daemon's recovery keeps them), and rest.json says how to resume. This
   * creator is done with afterwards; resume() in a new one over the same work dir takes it up again.
   */
  async rest(): Promise<void> {
    if (this.running || !AT_REST.includes(this._state)) {
      throw new ImgcreateError("InvalidState", `cannot put the image to rest now: it is ${this.running ? `busy (${this.running})` : this._state}`);
    }
    const files = [...new Set([...this.restingFiles, ...this.journal.outstandingFiles()])];
    const rest: RestRecord = { format: REST_FORMAT, state: this._state, files, checkpoints: this.checkpoints.names(), ...(this.installedRequest ? { installed: this.installedRequest } : {}) };
    // rest.json first: a crash before the journal forgets the files only loses them to recovery.
    await writeFile(this.restFile + ".new", JSON.stringify(rest), { mode: 0o600 });
    await rename(this.restFile + ".new", this.restFile);
    this.journal.forgetFiles();
    this._state = "cleaned";
  }

  private get restFile(): string {
    return join(this.workDir, "rest.json");
  }

  /** Whether a creator over workDir can resume(): a rest.json whose files are all there. */
  static async canResume(workDir: string): Promise<boolean> {
    const rest = await readRest(join(workDir, "rest.json"));
    if (!rest) return false;
    const present = await Promise.all(rest.files.map((f) => access(f).then(() => true, () => false)));
    return present.every(Boolean);
  }

  /**
   * Takes up an image a creator over the same work dir put to rest, at its state. Its files stay out of
   * the journal while they are only read (package, checkpoint, clone): a crash then keeps them, and the
   * session too. Whatever writes the image (mount, rollback) wakes them first (wake()).
   */
  async resume(): Promise<void> {
    if (this._state !== "new" || this.running) throw new ImgcreateError("InvalidState", "only a new creator can resume a resting image");
    const rest = await readRest(this.restFile);
    if (!rest) throw new ImgcreateError("Failed", `there is no resting image in ${this.workDir} to resume`);
    this.restingFiles = rest.files;
    for (const name of rest.checkpoints) this.checkpoints.adopt(name, undefined);
    await this.resumeExtras();
    this.installedRequest = rest.installed;
    this._state = rest.state;
  }

  /** Before the image is written: its resting files journaled again (a crash now discards them), rest.json gone. */
  private async wake(): Promise<void> {
    if (this.restingFiles.length === 0) return;
    for (const path of this.restingFiles) {
      const { id } = await this.journal.take("file", { path }, async () => undefined);
      const name = this.checkpoints.names().find((n) => this.checkpoints.dir(n) === path);
      if (name) this.checkpoints.adopt(name, id);
    }
    this.restingFiles = [];
    await rm(this.restFile, { force: true });
  }

  // ---------------------------------------------------------------- checkpoints and clones

  /** Runs an operation on the existing image (not a stage: the state changes only where fn says), one at a time. */
  private async onImage<T>(what: string, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
    if (this.running) throw new ImgcreateError("InvalidState", `cannot ${what}: ${this.running} is still running`);
    if (!HAS_IMAGE.includes(this._state)) {
      throw new ImgcreateError("InvalidState", `cannot ${what} now: the image is ${this._state} (it needs an image: ${HAS_IMAGE.join(", ")})`, { state: this._state });
    }
    const s = signal ? AbortSignal.any([signal, this.lifetime.signal]) : this.lifetime.signal;
    this.running = what;
    const p = (async () => {
      try {
        await this.imageReady();
        return await fn(s);
      } finally {
        this.running = undefined;
      }
    })();
    this.runningStage = p;
    return p;
  }

  /** Keeps a copy of the image as it is now under name (frozen for the copy while mounted); returns how it was copied. */
  async checkpoint(name: string, signal?: AbortSignal): Promise<string> {
    let how = "";
    await this.onImage(`checkpoint ${name}`, signal, async (s) => {
      const meta: CheckpointMeta = { name, state: this._state, mounted: this.mounted, createdAt: Date.now(), ...(this.installedRequest ? { installed: this.installedRequest } : {}) };
      await this.checkpoints.save(meta, async (dir) => {
        const snapshot = await this.snapshotImage(dir, s);
        meta.kind = snapshot ? "dm" : "copy";
        how = snapshot ?? (await this.exportImage(join(dir, "image"), s));
        await this.saveExtras(dir);
      });
    });
    return how;
  }

  listCheckpoints(): string[] {
    return this.checkpoints.names();
  }

  /** Bytes each checkpoint takes: the COW in use of a device-mapper snapshot, else the blocks of its files. */
  async checkpointUsage(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const name of this.checkpoints.names()) out[name] = (await this.snapshotUsage(name)) ?? (await diskUsage(this.checkpoints.dir(name)));
    return out;
  }

  /** The COW bytes a set-up device-mapper snapshot checkpoint uses, else undefined. */
  protected async snapshotUsage(_name: string): Promise<number | undefined> {
    return undefined;
  }

  async dropCheckpoint(name: string): Promise<void> {
    if (this.running?.startsWith("roll back")) throw new ImgcreateError("InvalidState", `cannot drop a checkpoint while ${this.running} runs`);
    const dir = this.checkpoints.dir(name);
    this.checkpoints.mustHave(name);
    await this.releaseCheckpoint(name);
    await this.checkpoints.drop(name);
    this.restingFiles = this.restingFiles.filter((f) => f !== dir);
  }

  /**
   * Puts the image back as it was at the checkpoint (which stays, to go back to again), with the state it
   * had then. The image must be mounted or not as it was then: Mount or Unmount first otherwise.
   */
  async rollback(name: string, signal?: AbortSignal): Promise<string> {
    return this.onImage(`roll back to ${name}`, signal, async (s) => {
      const meta = await this.checkpoints.load(name);
      if (meta.mounted !== this.mounted) {
        const need = meta.mounted ? "mounted: Mount the session first (it re-opens the image)" : "unmounted: Unmount the session first";
        throw new ImgcreateError("InvalidState", `checkpoint "${name}" was taken while the image was ${need}`, { state: this._state });
      }
      let how: string;
      try {
        await this.wake();
        await this._sandbox?.close();
        this._sandbox = undefined;
        how = await this.rollbackImage(this.checkpoints.dir(name), meta, s);
        await this.restoreExtras(this.checkpoints.dir(name));
        if (this.mounted) await this.openSandbox();
      } catch (err) {
        // Half put back: nothing to trust but cleanup.
        this._state = "failed";
        throw asImgcreateError(err);
      }
      this._state = meta.state;
      this.installedRequest = meta.installed;
      return how;
    });
  }

  /**
   * Makes this new creator a copy of src at src's state: its image (relabelled as this one's), the files
   * outside it, what it has installed, mounted if src is. src is unchanged; returns how it was copied.
   */
  async cloneFrom(src: ImageCreator, signal?: AbortSignal): Promise<string> {
    if (this._state !== "new" || this.running) throw new ImgcreateError("InvalidState", "a clone must be made into a new creator");
    this.running = "clone";
    try {
      await this.validate();
      await mkdir(this.workDir, { recursive: true, mode: 0o700 });
      const extras = join(this.workDir, "clone-extras");
      const how = await src.onImage("clone it", signal, async (s) => {
        const exported = (to: string) => src.exportImage(to, s);
        const h = (await this.adoptSnapshot(src, s)) ?? (await this.adoptImage(exported, src.mounted, s));
        const { id } = await this.journal.take("file", { path: extras }, () => mkdir(extras, { mode: 0o700 }));
        try {
          await src.saveExtras(extras);
          await this.restoreExtras(extras);
        } finally {
          await this.journal.release(id);
        }
        return h;
      });
      this.mounted = src.mounted;
      if (this.mounted) await this.openSandbox();
      this._state = src._state;
      this.installedRequest = src.installedRequest;
      return how;
    } catch (err) {
      this._state = "failed";
      throw asImgcreateError(err);
    } finally {
      this.running = undefined;
    }
  }

  /**
   * Starts argv inside the sandboxed install root, in its own session and process group (the
   * daemon's remote shell). The process is journaled until it exits.
   */
  spawnInRoot(argv: string[], opts: { stdio?: StdioOptions; env?: Record<string, string> } = {}): ChildProcess {
    // Also after a failed stage while the root is still mounted: that is when a shell helps most.
    const usable = ["installed", "configured"].includes(this._state) || (this._state === "failed" && this.mounted);
    if (!usable || this.running) {
      throw new ImgcreateError("InvalidState", `cannot start a shell now: the image is ${this.running ? `busy (${this.running})` : this._state}; it needs to be installed and mounted`);
    }
    const child = this.sandbox.spawn({ view: "chroot", env: { TERM: "xterm-256color", HOME: "/root", ...opts.env } }, argv, {
      ...(opts.stdio ? { stdio: opts.stdio } : {}),
    });
    if (child.pid !== undefined) {
      const pid = child.pid;
      void this.journal.take("process", { pid, argv, boot: bootId() }, async () => undefined).then(({ id }) => {
        this.journal.notePid(id, pid);
        child.once("exit", () => void this.journal.release(id).catch(() => undefined));
      });
    }
    return child;
  }

  /** An interactive root shell in the install root for in-process users (the seed's launch_shell). */
  async launchShell(): Promise<number> {
    const child = this.spawnInRoot(["/bin/bash", "-l"], { stdio: "inherit" });
    return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  }

  /**
   * Stops a running stage, then releases everything (newest first): processes, mounts, loop devices,
   * temporary files, and the journal itself. Safe to call in any state and more than once.
   */
  async cleanup(): Promise<void> {
    this.lifetime.abort();
    await this.runningStage?.catch(() => undefined);
    await this.background();
    try {
      await this._sandbox?.close();
      this._sandbox = undefined;
      await this.journal.releaseAll();
    } catch (err) {
      this._state = "failed";
      throw asImgcreateError(err);
    }
    this.mounted = false;
    await rm(this.journal.path, { force: true });
    this._state = "cleaned";
  }
}
