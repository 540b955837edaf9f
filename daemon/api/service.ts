// The behaviour behind the API table. Every call, from either transport, goes through call():
// validate (cheap, before polkit) → identify the caller (given by the transport) → authorize (polkit) →
// owner rule → state check → side effects. Errors are ImgcreateError; transports map them.
import { ImgcreateError } from "../errors.js";
import { primaryGid, type Caller } from "../auth/caller.js";
import { checkOwner } from "../auth/owner.js";
import type { Polkit } from "../auth/polkit.js";
import type { Job } from "../sessions/job.js";
import type { Session, SessionOptions } from "../sessions/session.js";
import type { SessionRegistry } from "../sessions/registry.js";
import { checkDestdir } from "../sessions/deliver.js";
import { closeShells, openShell, type Shell } from "../sessions/shell.js";
import { readSessionLog } from "../sessions/log-history.js";
import { findMethod, type MethodDef } from "./methods.js";
import { ACTIONS, jobNumberOfPath, jobPath, sessionIdOfPath, sessionPath, type InterfaceName } from "./names.js";
import { checkParams } from "./schema.js";
import type { CreateSessionOptions, JobProperties, ManagerProperties, SessionProperties, ShellOptions, SessionType } from "./types.js";

export interface CallRequest {
  caller: Caller;
  iface: InterfaceName;
  method: string;
  /** Named parameters; Session methods also carry `session`, Job methods `job` (the D-Bus adapter fills them from the path). */
  params: Record<string, unknown>;
  transport: "dbus" | "jsonrpc";
  /** The D-Bus ALLOW_INTERACTIVE_AUTHORIZATION flag or JSON-RPC's `interactive: true`. */
  interactive?: boolean;
}

export interface ServiceInfo {
  version: string;
  features: string[];
}

/** What OpenShell returns to a transport: the pty master and the process on its slave. */
export type ShellResult = { kind: "shell"; shell: Shell };

export class ApiService {
  constructor(
    readonly registry: SessionRegistry,
    readonly polkit: Polkit,
    readonly info: ServiceInfo,
  ) {}

  async call(req: CallRequest): Promise<unknown> {
    const def = findMethod(req.iface, req.method, req.transport);
    if (!def) throw new ImgcreateError("InvalidArgs", `there is no method ${req.iface}.${req.method}`);
    const { session: sessionRef, job: jobRef, interactive: interactiveParam, ...rest } = req.params;
    const targets = { session: sessionRef, job: jobRef };
    if (req.iface !== "Session" && sessionRef !== undefined) throw new ImgcreateError("InvalidArgs", `argument "session": unknown parameter`);
    if (req.iface !== "Job" && jobRef !== undefined) throw new ImgcreateError("InvalidArgs", `argument "job": unknown parameter`);
    if (interactiveParam !== undefined && typeof interactiveParam !== "boolean") throw new ImgcreateError("InvalidArgs", `argument "interactive": expected a boolean`);
    const params = checkParams(def.params, rest);
    const options = (params.options ?? {}) as Record<string, unknown>;
    const interactive = req.interactive === true || interactiveParam === true || options.interactive === true;
    const ctx: Ctx = { req, def, params, options, interactive };

    switch (req.iface) {
      case "Manager":
        if (def.name !== "CreateSession") await this.authorize(ctx, def.action, {});
        return this.manager(ctx);
      case "Session": {
        const s = this.findSession(targets.session);
        await this.authorizeOn(ctx, s, def.operation);
        return this.session(ctx, s);
      }
      case "Job": {
        const j = this.findJob(targets.job);
        const s = this.registry.get(j.sessionId);
        if (s) await this.authorizeOn(ctx, s, j.operation, false);
        else await this.authorize(ctx, def.action, {});
        return this.job(ctx, j);
      }
    }
  }

  // ---- properties (also read directly by the D-Bus adapter) ----

  managerProperties(): ManagerProperties {
    return { Version: this.info.version, Features: this.info.features };
  }

  sessionProperties(s: Session): SessionProperties {
    const r = s.record;
    return {
      Id: r.id,
      Name: r.name,
      Type: r.type as SessionType,
      Owner: r.owner,
      State: r.state,
      CurrentJob: s.job ? jobPath(s.job.n) : "/",
      Artifacts: r.artifacts,
      CheckpointUsage: s.checkpointUsage,
    };
  }

  jobProperties(j: Job): JobProperties {
    return {
      Operation: j.operation,
      Session: sessionPath(j.sessionId),
      Progress: j.progress,
      ProgressValid: j.progressValid,
      Status: j.status,
      Bytes: j.bytes,
      StartTime: j.startTime,
      Message: j.message,
    };
  }

  // ---- targets and authorization ----

  findSession(ref: unknown): Session {
    if (typeof ref !== "string" || ref === "") throw new ImgcreateError("InvalidArgs", `argument "session": give the session id or object path`);
    const id = ref.startsWith("/") ? sessionIdOfPath(ref) : ref;
    const s = id === undefined ? undefined : this.registry.get(id);
    if (!s) throw new ImgcreateError("InvalidArgs", `there is no session ${ref} (list yours with ListSessions)`);
    return s;
  }

  findJob(ref: unknown): Job {
    const n = typeof ref === "number" ? ref : typeof ref === "string" ? (ref.startsWith("/") ? jobNumberOfPath(ref) : Number(ref)) : undefined;
    const j = n === undefined || !Number.isInteger(n) ? undefined : this.registry.jobs.get(n);
    if (!j) throw new ImgcreateError("InvalidArgs", `there is no job ${String(ref)}`);
    return j;
  }

  private async authorize(ctx: Ctx, action: string, details: Record<string, string>): Promise<void> {
    await this.polkit.check(ctx.req.caller, action, details, ctx.interactive);
  }

  /** The call's action, the owner rule, and run-host-scripts for stages that run %post --nochroot. */
  private async authorizeOn(ctx: Ctx, s: Session, stage?: string, runsStage = true): Promise<void> {
    const details: Record<string, string> = { session: s.id, owner: String(s.record.owner) };
    if (stage) details.stage = stage;
    await this.authorize(ctx, ctx.def.action, details);
    await checkOwner(this.polkit, ctx.req.caller, s.record.owner, ACTIONS.manageOthers, details, ctx.interactive);
    const runsPost = runsStage && (stage === "configure" || stage === "create");
    if (runsPost && s.record.hostScripts) await this.authorize(ctx, ACTIONS.runHostScripts, details);
    if (runsPost && s.record.network) await this.authorize(ctx, ACTIONS.network, details);
  }

  private async identity(caller: Caller): Promise<{ uid: number; gid: number }> {
    const gid = (await primaryGid(caller.uid)) ?? (caller.kind === "unix" ? caller.gid : undefined);
    if (gid === undefined) throw new ImgcreateError("NotAuthorized", `uid ${caller.uid} has no entry in the user database`);
    return { uid: caller.uid, gid };
  }

  // ---- the methods ----

  private async manager(ctx: Ctx): Promise<unknown> {
    const caller = ctx.req.caller;
    switch (ctx.def.name) {
      case "CreateSession": {
        const o = ctx.options as CreateSessionOptions;
        const kickstart = ctx.params.kickstart as string;
        const includes = ctx.params.includes as Record<string, string>;
        const options: SessionOptions = {
          fslabel: o.fslabel,
          title: o.title,
          product: o.product,
          releasever: o.releasever,
          compression: o.compression,
          flatSquashfs: o["flat-squashfs"],
          minimize: o.minimize,
          bootloader: o.bootloader,
        };
        const where = { path: o["kickstart-path"] ?? "/kickstart.ks", cwd: o.cwd ?? "/" };
        // Parsing is a cheap check too: a broken kickstart is InvalidArgs before polkit is asked.
        const owner = { uid: caller.uid, gid: -1 };
        const prepared = this.registry.prepare({ owner, kickstart, includes, where, name: o.name, type: o.type, options });
        await this.authorize(ctx, ctx.def.action, {});
        owner.gid = (await this.identity(caller)).gid;
        if (prepared.hostScripts) await this.authorize(ctx, ACTIONS.runHostScripts, { stage: "create-session" });
        if (prepared.network) await this.authorize(ctx, ACTIONS.network, { stage: "create-session" });
        const s = await this.registry.create(prepared);
        return sessionPath(s.id);
      }
      case "ListSessions": {
        const all = await this.polkit.allowed(caller, ACTIONS.manageOthers, {}, false);
        return [...this.registry.sessions.values()].filter((s) => all || s.record.owner === caller.uid).map((s) => sessionPath(s.id));
      }
      case "ListCachedRoots": {
        const us = (ms: number) => Math.round(ms * 1000);
        return (await this.registry.rootCache().list()).map((e) => [e.key, e.bytes, us(e.createdAt), us(e.lastUsedAt), e.summary]);
      }
      case "PruneCachedRoots": {
        const mib = (ctx.options as { "max-size"?: number })["max-size"] ?? 0;
        const evicted = await this.registry.rootCache().prune(mib * 2 ** 20);
        return evicted.reduce((n, e) => n + e.bytes, 0);
      }
      case "GetProperties":
        return this.managerProperties();
    }
    throw new ImgcreateError("InvalidArgs", `there is no method Manager.${ctx.def.name}`);
  }

  private async session(ctx: Ctx, s: Session): Promise<unknown> {
    const def = ctx.def;
    if (def.operation) {
      let target: { who: { uid: number; gid: number }; destdir: string } | undefined;
      if (def.operation === "package" || def.operation === "create") {
        const who = await this.identity(ctx.req.caller);
        const destdir = ctx.params.destdir as string;
        this.stateCheck(s, def); // say InvalidState before looking at the destdir
        await checkDestdir(who, destdir);
        target = { who, destdir };
      }
      const job = await this.registry.startJob(s, def.operation, def.states ?? [], target);
      return jobPath(job.n);
    }
    switch (def.name) {
      case "SetKickstart": {
        this.stateCheck(s, def);
        if (s.job) throw new ImgcreateError("Busy", `session ${s.id} is running a ${s.job.operation} job; change the kickstart between stages`);
        const o = ctx.options as { "kickstart-path"?: string; cwd?: string };
        const where = { path: o["kickstart-path"] ?? "/kickstart.ks", cwd: o.cwd ?? "/" };
        const prepared = this.registry.prepareKickstart(s, ctx.params.kickstart as string, ctx.params.includes as Record<string, string>, where);
        const details = { session: s.id, owner: String(s.record.owner), stage: "set-kickstart" };
        if (prepared.hostScripts) await this.authorize(ctx, ACTIONS.runHostScripts, details);
        if (prepared.network) await this.authorize(ctx, ACTIONS.network, details);
        await this.registry.setKickstart(s, prepared);
        return null;
      }
      case "Clone": {
        this.stateCheck(s, def);
        const details = { session: s.id, owner: String(s.record.owner), stage: "clone" };
        if (s.record.hostScripts) await this.authorize(ctx, ACTIONS.runHostScripts, details);
        if (s.record.network) await this.authorize(ctx, ACTIONS.network, details);
        const { session } = await this.registry.clone(s, await this.identity(ctx.req.caller), ctx.options.name as string | undefined);
        return sessionPath(session.id);
      }
      case "Checkpoint": {
        this.stateCheck(s, def);
        const name = ctx.params.name as string;
        await this.registry.onImage(s, `checkpoint ${name}`, async (c) => s.log?.info(`checkpoint ${name} taken (${await c.checkpoint!(name)})`));
        return null;
      }
      case "Rollback": {
        this.stateCheck(s, def);
        const name = ctx.params.name as string;
        await closeShells(s.id); // a shell keeps the root busy, and would see the image change under it
        await this.registry.onImage(s, `roll back to ${name}`, async (c) => s.log?.info(`rolled back to checkpoint ${name} (${await c.rollback!(name)})`));
        return null;
      }
      case "ListCheckpoints":
        return this.registry.checkpointNames(s);
      case "DropCheckpoint": {
        const name = ctx.params.name as string;
        await this.registry.onImage(s, `drop checkpoint ${name}`, async (c) => c.dropCheckpoint!(name));
        s.log?.info(`checkpoint ${name} dropped`);
        return null;
      }
      case "Close":
        await this.registry.close(s);
        return null;
      case "GetProperties":
        return this.sessionProperties(s);
      case "GetLog":
        return readSessionLog(s, Number(ctx.options.lines ?? 0));
      case "OpenShell": {
        this.stateCheck(s, def);
        if (s.job) throw new ImgcreateError("Busy", `session ${s.id} is running a ${s.job.operation} job; open the shell between stages`);
        const shell = await openShell(s, ctx.params.argv as string[], ctx.options as ShellOptions);
        return { kind: "shell", shell } satisfies ShellResult;
      }
      case "ShellInput":
      case "ShellResize":
        return null; // authorized here; the JSON-RPC adapter owns the connection's shells and writes the data
    }
    throw new ImgcreateError("InvalidArgs", `there is no method Session.${def.name}`);
  }

  private job(ctx: Ctx, j: Job): unknown {
    switch (ctx.def.name) {
      case "Cancel":
        if (j.finished) throw new ImgcreateError("InvalidState", `job ${j.n} has already ended (${j.status})`);
        this.registry.cancel(j);
        return null;
      case "GetProperties":
      case "Subscribe":
        return this.jobProperties(j);
    }
    throw new ImgcreateError("InvalidArgs", `there is no method Job.${ctx.def.name}`);
  }

  private stateCheck(s: Session, def: MethodDef): void {
    if (s.job && def.operation) throw new ImgcreateError("Busy", `session ${s.id} is already running a ${s.job.operation} job; wait for it or cancel it`);
    if (def.states && !def.states.includes(s.state)) {
      throw new ImgcreateError("InvalidState", `cannot ${def.name} a session that is ${s.state}; allowed when ${def.states.join(" or ")}`, { state: s.state });
    }
  }
}

interface Ctx {
  req: CallRequest;
  def: MethodDef;
  params: Record<string, unknown>;
  options: Record<string, unknown>;
  interactive: boolean;
}
