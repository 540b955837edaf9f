// All sessions of this daemon: creating them, running their jobs (one per session, at most --max-jobs at a
// time across sessions; the others wait visibly as "queued"), cancel, close, and recovery after a crash.
// Events for the transports: "session-added"/"session-changed"/"session-removed" (Session),
// "job-added"/"job-removed" (Job); a Job emits its own "changed"/"log"/"completed".
import { EventEmitter } from "node:events";
import { join } from "node:path";
import fse from "fs-extra";
import { parseCompression } from "../compression.js";
import { ImgcreateError, asImgcreateError } from "../errors.js";
import { PRIORITY, createSessionLogger, endSessionLogger, levelOfPriority, type Logger } from "../log.js";
import { DEFAULT_WHERE, type Creator, type CreatorType, type Engine, type EngineLog, type EngineProgress, type KickstartWhere } from "./engine.js";
import { Job, type Operation } from "./job.js";
import { LIVE_STATES, REST_STATES, STATE_AFTER, Session, newSessionId, type SessionOptions, type SessionState } from "./session.js";
import { deliver, type Identity } from "./deliver.js";
import { closeShells } from "./shell.js";
import { RootCache } from "../creator/root-cache.js";

export interface RegistryOptions {
  stateDir: string;
  cacheDir: string;
  /** Each session's sandbox limits (the daemon's --sandbox-* options); the engine's defaults if absent. */
  limits?: { tasks: number; memoryBytes: number; scriptTimeoutMs: number };
  /** Bound of the cache of installed roots (<cacheDir>/roots); 0 or absent: none. */
  rootCacheBytes?: number;
  maxJobs: number;
  engine: Engine;
  log: Logger;
}

export interface NewSession {
  owner: Identity;
  kickstart: string;
  includes: Record<string, string>;
  where?: KickstartWhere;
  name?: string;
  type?: CreatorType;
  options: SessionOptions;
}

const STAGES = ["mount", "install", "configure", "unmount", "package"] as const;
type Stage = (typeof STAGES)[number];
/** Session states a creator's state maps to by name. */
const STATE_NAMES: readonly SessionState[] = ["mounted", "installed", "configured", "unmounted", "packaged", "failed"];
/** How many finished jobs a session keeps visible. */
const KEEP_FINISHED = 20;

/** A session's TYPE[:LEVEL] as the engine takes it: the type and the level apart (absent: the engine's default). */
export function creatorCompression(text: string | undefined): { compression?: string; compressionLevel?: number } {
  if (text === undefined) return {};
  const { type, level } = parseCompression(text);
  return level === undefined ? { compression: type } : { compression: type, compressionLevel: level };
}

/** Does the kickstart (or an include) have a %post --nochroot section? Such code runs on the host. */
export function hasHostScripts(model: unknown): boolean {
  const scripts = (model as { scripts?: { nochroot?: boolean }[] } | undefined)?.scripts ?? [];
  return scripts.some((s) => s.nochroot === true);
}

/** Does the kickstart ask for outbound network in %post (%addon org_imgcreate --network=outbound)? */
export function wantsNetwork(model: unknown): boolean {
  return (model as { imgcreate?: { network?: string } } | undefined)?.imgcreate?.network === "outbound";
}

/** A request that parsed: what create() needs, and what the API must authorize first. */
export interface PreparedSession extends NewSession {
  type: CreatorType;
  where: KickstartWhere;
  hostScripts: boolean;
  network: boolean;
  /** The parsed kickstart, for the checks create() runs once the caller is authorized. */
  model: unknown;
}

export class SessionRegistry extends EventEmitter {
  readonly sessions = new Map<string, Session>();
  readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  private runningJobs = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly sessionsDir: string;

  constructor(readonly opts: RegistryOptions) {
    super();
    this.sessionsDir = join(opts.stateDir, "sessions");
  }

  /** At startup: load every session; release what a dead daemon left and mark busy ones interrupted. */
  async load(): Promise<void> {
    // Searchable (not readable) by everyone: the sandbox's unprivileged uid must reach a session's
    // work dir, which itself admits only that sandbox's group. Everything else inside is 0600/0700.
    await fse.ensureDir(this.sessionsDir, 0o711);
    await fse.chmod(this.sessionsDir, 0o711);
    await fse.chmod(this.opts.stateDir, 0o711);
    const ids = await fse.readdir(this.sessionsDir);
    await this.opts.engine.releaseDevices(ids.map((id) => join(this.sessionsDir, id, "work")));
    for (const id of ids) {
      const dir = join(this.sessionsDir, id);
      let s: Session;
      try {
        s = await Session.load(dir);
      } catch {
        this.opts.log.warning(`removing unreadable session dir ${dir}`);
        await this.opts.engine.recover(join(dir, "work")).catch(() => undefined);
        await fse.remove(dir);
        continue;
      }
      this.nextJob = Math.max(this.nextJob, (s.record.running?.job ?? 0) + 1);
      try {
        await this.opts.engine.recover(s.workDir);
      } catch (err) {
        // One session that cannot be cleaned must not keep the daemon (and every other session) down.
        this.opts.log.error(`session ${s.id}: releasing what the previous run left failed: ${asImgcreateError(err).message}; Close it to retry`);
      }
      if (s.state === "closed") {
        await fse.remove(dir);
        continue;
      }
      const resting = REST_STATES.includes(s.state) && (await this.opts.engine.canResume(s.workDir));
      if (resting && s.record.running && !s.record.cloneOf) {
        // A job that only read the resting image (package) died with the daemon: the image is as it was.
        this.opts.log.notice(`session ${s.id}: its ${s.record.running.operation} job was cut short by the restart; the image is kept`);
        delete s.record.running;
        await s.save();
      }
      if (s.record.running || s.record.cloneOf || LIVE_STATES.includes(s.state) || (s.state === "unmounted" && !resting)) {
        const was = s.record.cloneOf ? `being cloned from ${s.record.cloneOf}` : s.record.running ? "running " + s.record.running.operation : s.state;
        this.opts.log.notice(`session ${s.id} was ${was}: released its resources, now interrupted`);
        s.record.state = "interrupted";
        delete s.record.running;
        delete s.record.cloneOf;
        await s.save();
      }
      s.log = createSessionLogger(s.logFile);
      this.sessions.set(s.id, s);
    }
  }

  /** Parses the kickstart (errors carry FILE:LINE, as InvalidArgs) and checks the type: no side effects. */
  prepare(req: NewSession): PreparedSession {
    const type = req.type ?? "loop";
    if (!this.opts.engine.types.includes(type)) this.opts.engine.newCreator(type, undefined, "", { workDir: "", cacheDir: "" }); // throws the clear message
    const where = req.where ?? DEFAULT_WHERE;
    const { model, diagnostics } = this.opts.engine.parse(req.kickstart, req.includes, where);
    const errors = diagnostics.filter((d) => d.severity === "error");
    if (errors.length > 0) {
      throw new ImgcreateError("InvalidArgs", "the kickstart has errors:\n" + errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join("\n"), {
        diagnostics: errors,
      });
    }
    return { ...req, type, where, hostScripts: hasHostScripts(model), network: wantsNetwork(model), model };
  }

  /** Creates a prepared session: its files and record are written before this returns. */
  async create(req: PreparedSession, cloneOf?: string): Promise<Session> {
    const { type, where } = req;
    // After authorization (it looks at the filesystem): a repository the daemon must not read is
    // refused now, at its kickstart line, rather than when install runs.
    await this.opts.engine.checkRepositories(req.model);
    const id = newSessionId();
    const dir = join(this.sessionsDir, id);
    const s = new Session(
      {
        id,
        name: req.name ?? "image",
        type,
        owner: req.owner.uid,
        ownerGid: req.owner.gid,
        state: "created",
        options: req.options,
        where,
        hostScripts: req.hostScripts,
        network: req.network,
        artifacts: [],
        createdAt: Date.now(),
        // Until the clone is complete: a restart finding this marks the session interrupted.
        ...(cloneOf ? { cloneOf } : {}),
      },
      dir,
    );
    await fse.ensureDir(dir, 0o711);
    await fse.writeFile(s.kickstartFile, req.kickstart, { mode: 0o600 });
    await fse.writeJson(s.includesFile, req.includes, { mode: 0o600 });
    await s.save();
    s.log = createSessionLogger(s.logFile);
    s.log.info(`session created by uid ${req.owner.uid}: type ${type}, name ${s.record.name}`);
    this.sessions.set(id, s);
    this.emit("session-added", s);
    return s;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** True while any job is queued or running, or a session holds engine resources (idle exit waits for none). */
  busy(): boolean {
    for (const s of this.sessions.values()) if (s.job || LIVE_STATES.includes(s.state)) return true;
    return false;
  }

  /** Checks the state rule, records the job, and starts it (or queues it). The record is saved before returning. */
  async startJob(s: Session, operation: Operation, allowed: readonly SessionState[], target?: { who: Identity; destdir: string }): Promise<Job> {
    if (s.job) throw new ImgcreateError("Busy", `session ${s.id} is already running a ${s.job.operation} job; wait for it or cancel it`);
    if (s.operation) throw new ImgcreateError("Busy", `session ${s.id} is busy (${s.operation}); try again when it is done`);
    if (!allowed.includes(s.state)) {
      throw new ImgcreateError("InvalidState", `cannot ${operation} a session that is ${s.state}; allowed when ${allowed.join(" or ")}`, { state: s.state });
    }
    const job = new Job(this.nextJob++, s.id, operation);
    s.job = job;
    s.record.running = { job: job.n, operation };
    await s.save();
    this.jobs.set(job.n, job);
    this.emit("job-added", job);
    this.emit("session-changed", s, ["CurrentJob"]);
    void this.run(s, job, target);
    return job;
  }

  cancel(job: Job): void {
    job.abort.abort(new ImgcreateError("Cancelled", "cancelled"));
  }

  /** Cancels any job, releases every resource and deletes the session's files (delivered artifacts stay). */
  async close(s: Session): Promise<void> {
    if (s.operation) throw new ImgcreateError("Busy", `session ${s.id} is busy (${s.operation}); close it when that is done`);
    if (s.job) {
      this.cancel(s.job);
      await s.job.wait();
    }
    const why = await this.release(s);
    if (why) {
      // Keep the journal: a later Close (or the next start) can still undo what is left.
      s.record.state = "failed";
      await s.save();
      this.emit("session-changed", s, ["State"]);
      throw new ImgcreateError("Failed", `could not release everything of session ${s.id}: ${why}; try Close again`);
    }
    s.record.state = "closed";
    await s.save();
    // No line may reach the log after this: detach it, let it drain, then remove the files.
    const log = s.log;
    s.log = undefined;
    if (log) await endSessionLogger(log);
    await fse.remove(s.dir);
    this.sessions.delete(s.id);
    for (const [n, j] of this.jobs) {
      if (j.sessionId === s.id) {
        this.jobs.delete(n);
        this.emit("job-removed", j);
      }
    }
    this.emit("session-removed", s);
  }

  /** On SIGTERM: stop every job (the stages release what they took) and leave those sessions interrupted. */
  async shutdown(): Promise<void> {
    const live = [...this.sessions.values()];
    const busy = new Set(live.filter((s) => s.job));
    for (const s of busy) this.cancel(s.job!);
    await Promise.all(live.map((s) => s.job?.wait()));
    for (const s of live) {
      if (busy.has(s) || LIVE_STATES.includes(s.state) || s.creator) {
        await this.release(s);
        // Stopped by the daemon's end, not by its owner: interrupted, like after a crash.
        if (busy.has(s) || LIVE_STATES.includes(s.state)) {
          s.record.state = "interrupted";
          await s.save();
        }
      }
    }
  }

  /** Releases everything the session's engine holds; returns the reason when something could not be released. */
  private async release(s: Session): Promise<string | undefined> {
    await closeShells(s.id);
    const c = s.creator;
    s.creator = undefined;
    let why: string | undefined;
    if (c) await c.cleanup().catch((e) => (why = asImgcreateError(e).message));
    // The journal replay also catches what cleanup could not (and is a no-op when all is released).
    await this.opts.engine.recover(s.workDir).then(
      () => (why = undefined),
      (e) => (why = asImgcreateError(e).message),
    );
    if (why) s.log?.warning(`releasing resources: ${why}`);
    return why;
  }

  private async slot(job: Job): Promise<void> {
    while (this.runningJobs >= this.opts.maxJobs) {
      await new Promise<void>((r) => this.waiting.push(r));
      if (job.abort.signal.aborted) throw new ImgcreateError("Cancelled", "cancelled while queued");
    }
    this.runningJobs++;
  }

  private freeSlot(): void {
    this.runningJobs--;
    this.waiting.shift()?.();
  }

  private async run(s: Session, job: Job, target?: { who: Identity; destdir: string }): Promise<void> {
    let got = false;
    const onAbortWhileQueued = (): void => {
      // wake every waiter so the cancelled one notices; the others go back to waiting
      for (const w of this.waiting.splice(0)) w();
    };
    job.abort.signal.addEventListener("abort", onAbortWhileQueued, { once: true });
    try {
      // Let the call that started the job answer (and its connection subscribe) before the first event.
      await new Promise((r) => setImmediate(r));
      await this.slot(job);
      got = true;
      job.started();
      s.log?.info(`job ${job.n}: ${job.operation} started`);
      const stages: Stage[] = job.operation === "create" ? [...STAGES] : [job.operation];
      if (stages[0] === "mount") await this.startOrReopen(s, job.operation);
      for (const [i, stage] of stages.entries()) {
        await this.runStage(s, job, stage, i, stages.length, target);
      }
      await this.refreshUsage(s);
      await this.rest(s);
      await this.finish(s, job);
    } catch (err) {
      await this.finish(s, job, err);
    } finally {
      job.abort.signal.removeEventListener("abort", onAbortWhileQueued);
      if (got) this.freeSlot();
    }
  }

  /** The cache of installed roots the sessions' creators share (size 0: none). */
  rootCache(): RootCache {
    return new RootCache(join(this.opts.cacheDir, "roots"), this.opts.rootCacheBytes ?? 0);
  }

  /**
   * Mount of an unmounted or packaged session re-attaches its own image; every other start (and a
   * whole Create) is a new build.
   */
  private async startOrReopen(s: Session, operation: Operation): Promise<void> {
    const atRest = REST_STATES.includes(s.state);
    if (operation === "mount" && atRest && (await this.creatorOf(s))) return;
    if (operation === "mount" && atRest) s.log?.notice("the session's image was not kept (see the log above): building it anew");
    await this.startOver(s);
  }

  /** The session's creator: the live one, or one that takes up its resting image; undefined when it has neither. */
  private async creatorOf(s: Session): Promise<Creator | undefined> {
    if (s.creator || !REST_STATES.includes(s.state) || !(await this.opts.engine.canResume(s.workDir))) return s.creator;
    const c = this.newCreator(s, (await this.storedKickstart(s)).model);
    await c.resume!();
    s.creator = c;
    return c;
  }

  /**
   * An unmounted or packaged image rests until the next call: the creator lets go of everything but its
   * files and is dropped, so the session survives a restart of the daemon (and its idle exit).
   */
  private async rest(s: Session): Promise<void> {
    const c = s.creator;
    if (!c?.rest || !REST_STATES.includes(s.state)) return;
    const pending = c.background?.();
    if (pending) {
      // A clone still copying its image holds devices: it rests once that is done, if nothing else runs then.
      void pending.then(() => (s.creator === c && !s.job && !s.operation ? this.rest(s) : undefined)).catch(() => undefined);
      return;
    }
    try {
      await c.rest();
      s.creator = undefined;
    } catch (err) {
      s.log?.warning(`the image stays held by this run of imgcreated only: ${asImgcreateError(err).message}`);
    }
  }

  /** Parses a replacement kickstart for s (FILE:LINE errors as InvalidArgs): no side effects. */
  prepareKickstart(s: Session, kickstart: string, includes: Record<string, string>, where: KickstartWhere): PreparedSession {
    return this.prepare({ owner: { uid: s.record.owner, gid: s.record.ownerGid }, kickstart, includes, where, type: s.record.type, options: s.record.options });
  }

  /** Stores the replacement kickstart (files, then record) and hands it to the session's creator. */
  async setKickstart(s: Session, p: PreparedSession): Promise<void> {
    await this.opts.engine.checkRepositories(p.model);
    s.creator?.setKickstart?.(p.model);
    await fse.writeFile(s.kickstartFile + ".new", p.kickstart, { mode: 0o600 });
    await fse.rename(s.kickstartFile + ".new", s.kickstartFile);
    await fse.writeJson(s.includesFile, p.includes, { mode: 0o600 });
    s.record.where = p.where;
    s.record.hostScripts = p.hostScripts;
    s.record.network = p.network;
    await s.save();
    s.log?.info("kickstart replaced");
  }

  /**
   * Checkpoint, rollback, drop: quick calls on the session's image (the caller waits for them), one at a
   * time and never during a job. The session's state follows the creator's (a rollback changes it).
   */
  async onImage<T>(s: Session, what: string, fn: (c: Creator) => Promise<T>): Promise<T> {
    this.mayTouchImage(s, what);
    s.operation = what;
    let c: Creator | undefined;
    try {
      c = await this.imageHolder(s, what);
      return await fn(c);
    } catch (err) {
      if (c?.state === "failed") await this.failImage(s, err);
      throw err;
    } finally {
      if (c) await this.followCreator(s, c);
      await this.rest(s);
      s.operation = undefined;
    }
  }

  /** The session's checkpoints (none while it has no image). */
  async checkpointNames(s: Session): Promise<string[]> {
    // A live creator answers at once, also while a job runs; a resting image is resumed for it.
    if (s.creator) {
      await this.refreshUsage(s);
      return s.creator.listCheckpoints?.() ?? [];
    }
    if (!REST_STATES.includes(s.state)) return [];
    return this.onImage(s, "list checkpoints", async (c) => c.listCheckpoints?.() ?? []);
  }

  /** Busy while a job or another call on the image runs. */
  private mayTouchImage(s: Session, what: string): void {
    if (s.job) throw new ImgcreateError("Busy", `session ${s.id} is running a ${s.job.operation} job; ${what} between stages`);
    if (s.operation) throw new ImgcreateError("Busy", `session ${s.id} is busy (${s.operation}); try again when it is done`);
  }

  /** The session's creator (resumed when its image rests), when it has an image; InvalidState otherwise. */
  private async imageHolder(s: Session, what: string): Promise<Creator> {
    const c = await this.creatorOf(s);
    if (!c?.checkpoint || !c.cloneFrom) {
      throw new ImgcreateError("InvalidState", `session ${s.id} has no image to ${what} (it is ${s.state}): mount it first`, { state: s.state });
    }
    return c;
  }

  /** Half done on the image: release everything, as after a failed stage. */
  private async failImage(s: Session, err: unknown): Promise<void> {
    s.log?.error(`${asImgcreateError(err).message}; the image was released`);
    await this.release(s);
    s.record.state = "failed";
  }

  /** The session's state as the creator now has it (mounted, installed, ... packaged). */
  private async followCreator(s: Session, c: Creator): Promise<void> {
    const state = c.state as SessionState | undefined;
    if (s.creator === c && state && STATE_NAMES.includes(state) && state !== s.record.state) s.record.state = state;
    await s.save();
    await this.refreshUsage(s);
    this.emit("session-changed", s, ["State", "CheckpointUsage"]);
  }

  /** CheckpointUsage from the creator, when it has one (a released creator has no checkpoints). */
  private async refreshUsage(s: Session): Promise<void> {
    s.checkpointUsage = s.creator ? ((await s.creator.checkpointUsage?.().catch(() => ({}))) ?? {}) : {};
  }

  /**
   * A new session owned by `owner`, at src's state and with its kickstart and options, whose image is a
   * copy of src's (a reflink where the filesystem has them, else a sparse copy). src is unchanged.
   */
  async clone(src: Session, owner: Identity, name: string | undefined): Promise<{ session: Session; how: string }> {
    this.mayTouchImage(src, "clone");
    const { kickstart, includes } = await this.storedKickstart(src);
    const prepared = this.prepare({ owner, kickstart, includes, where: src.record.where ?? DEFAULT_WHERE, name: name ?? src.record.name, type: src.record.type, options: src.record.options });
    src.operation = "clone";
    let s: Session | undefined;
    try {
      const from = await this.imageHolder(src, "clone");
      s = await this.create(prepared, src.id);
      s.operation = "clone";
      await fse.ensureDir(s.workDir, 0o700);
      const c = this.newCreator(s, prepared.model);
      s.creator = c;
      const how = await c.cloneFrom!(from);
      s.log?.info(`cloned from session ${src.id} (${how})`);
      src.log?.info(`cloned into session ${s.id} for uid ${owner.uid} (${how})`);
      s.operation = undefined;
      delete s.record.cloneOf;
      await this.followCreator(s, c);
      await this.rest(s);
      return { session: s, how };
    } catch (err) {
      if (s) {
        s.operation = undefined;
        await this.close(s).catch(() => undefined);
      }
      throw err;
    } finally {
      await this.rest(src);
      src.operation = undefined;
    }
  }

  /** A new build: release the old creator and its files, then a fresh creator from the stored kickstart. */
  private async startOver(s: Session): Promise<void> {
    await this.release(s);
    await fse.remove(s.workDir);
    await fse.remove(s.outDir);
    await fse.ensureDir(s.workDir, 0o700);
    s.record.artifacts = [];
    s.creator = this.newCreator(s, (await this.storedKickstart(s)).model);
  }

  /** The session's stored kickstart, its includes, and the model they parse to. */
  private async storedKickstart(s: Session): Promise<{ kickstart: string; includes: Record<string, string>; model: unknown }> {
    const kickstart = await fse.readFile(s.kickstartFile, "utf8");
    const includes = (await fse.readJson(s.includesFile)) as Record<string, string>;
    return { kickstart, includes, model: this.opts.engine.parse(kickstart, includes, s.record.where ?? DEFAULT_WHERE).model };
  }

  /** The engine's creator for s's type, name and options over its work dir. */
  private newCreator(s: Session, model: unknown): Creator {
    const o = s.record.options;
    const c = this.opts.engine.newCreator(s.record.type, model, s.record.name, {
      workDir: s.workDir,
      owner: s.id,
      cacheDir: this.opts.cacheDir,
      ...(this.opts.limits ? { limits: this.opts.limits } : {}),
      ...(this.opts.rootCacheBytes ? { rootCache: { dir: join(this.opts.cacheDir, "roots"), maxBytes: this.opts.rootCacheBytes } } : {}),
      fslabel: o.fslabel,
      releasever: o.releasever,
      minimize: o.minimize,
      ...creatorCompression(o.compression),
      flatSquashfs: o.flatSquashfs,
      title: o.title,
      product: o.product,
      bootloader: o.bootloader,
    });
    // What the creator finishes between calls (a clone's background copy) goes to the session's log.
    c.on("notice", (line: string) => s.log?.info(line));
    return c;
  }

  private async runStage(s: Session, job: Job, stage: Stage, i: number, of: number, target?: { who: Identity; destdir: string }): Promise<void> {
    const c = await this.creatorOf(s);
    if (!c) throw new ImgcreateError("InvalidState", `session ${s.id} has no image in progress; start over with Mount or Create`);
    job.abort.signal.throwIfAborted();
    const onProgress = (p: EngineProgress): void => {
      job.update({ fraction: p.fraction === undefined ? undefined : (i + p.fraction) / of, bytes: p.bytes, message: p.message });
    };
    const onLog = (l: EngineLog): void => {
      const p = typeof l.priority === "number" ? l.priority : (PRIORITY[l.priority as keyof typeof PRIORITY] ?? 6);
      job.log(p, l.line);
      s.log?.log(levelOfPriority(p), `[${l.stage}] ${l.line}`);
    };
    c.on("progress", onProgress);
    c.on("log", onLog);
    job.update({ fraction: i / of, message: `${stage}` });
    try {
      const signal = job.abort.signal;
      if (stage === "package") {
        await fse.remove(s.outDir);
        await fse.ensureDir(s.outDir, 0o700);
        const files = await c.package(s.outDir, signal);
        if (!target) throw new ImgcreateError("InvalidArgs", "package needs a destdir");
        const delivered: string[] = [];
        for (const f of files) delivered.push(await deliver(target.who, f, target.destdir, signal));
        s.record.artifacts = delivered;
        for (const d of delivered) job.log(6, `wrote ${d}`);
      } else {
        if (stage === "unmount") await closeShells(s.id); // a shell would keep the root busy
        await c[stage](signal);
      }
    } finally {
      c.off("progress", onProgress);
      c.off("log", onLog);
    }
    job.abort.signal.throwIfAborted();
    s.record.state = STATE_AFTER[stage];
    await s.save();
    this.emit("session-changed", s, ["State", "Artifacts"]);
  }

  private async finish(s: Session, job: Job, err?: unknown): Promise<void> {
    if (err !== undefined) {
      const e = asImgcreateError(job.abort.signal.aborted ? new ImgcreateError("Cancelled", "cancelled") : err);
      const intact = REST_STATES.includes(s.creator?.state as SessionState);
      if (intact) {
        // Packaging failed or was cancelled on its copy: the image is as it was; Package may run again.
        s.record.state = s.creator!.state as SessionState;
        await this.rest(s);
      } else {
        // A stage that stopped half way releases what it took; the session can start over.
        await this.release(s);
        s.record.state = e.code === "Cancelled" ? "cancelled" : "failed";
      }
      s.log?.log(e.code === "Cancelled" ? "notice" : "error", `job ${job.n}: ${job.operation} ${e.code === "Cancelled" ? "cancelled" : "failed: " + e.message}`);
      job.log(e.code === "Cancelled" ? 5 : 3, e.message);
      err = e;
    } else {
      s.log?.info(`job ${job.n}: ${job.operation} completed`);
    }
    delete s.record.running;
    s.job = undefined;
    await s.save().catch(() => undefined);
    job.finish(err);
    this.emit("session-changed", s, ["State", "CurrentJob", "Artifacts"]);
    this.trimJobs(s);
  }

  private trimJobs(s: Session): void {
    const mine = [...this.jobs.values()].filter((j) => j.sessionId === s.id && j.finished);
    for (const j of mine.slice(0, Math.max(0, mine.length - KEEP_FINISHED))) {
      this.jobs.delete(j.n);
      this.emit("job-removed", j);
    }
  }
}

