// A build session: its owner, state, artifacts, the files it keeps under <state-dir>/sessions/<id>/, and the
// engine's creator while one is alive. The record is written (atomically) before any call is answered.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import fse from "fs-extra";
import type { Creator, CreatorType, KickstartWhere } from "./engine.js";
import type { Job, Operation } from "./job.js";
import type { Logger } from "../log.js";

export type SessionState =
  | "created"
  | "mounted"
  | "installed"
  | "configured"
  | "unmounted"
  | "packaged"
  | "failed"
  | "cancelled"
  | "interrupted"
  | "closed";

/**
 * States in which the engine holds resources (image attached or mounted) that only a live creator can
 * continue. An unmounted or packaged image rests between calls: only its files, kept across restarts.
 */
export const LIVE_STATES: readonly SessionState[] = ["mounted", "installed", "configured"];
/** States whose image rests between calls. */
export const REST_STATES: readonly SessionState[] = ["unmounted", "packaged"];

/** The state each stage leads to. */
export const STATE_AFTER: Record<Exclude<Operation, "create">, SessionState> = {
  mount: "mounted",
  install: "installed",
  configure: "configured",
  unmount: "unmounted",
  package: "packaged",
};

export interface SessionOptions {
  fslabel?: string;
  title?: string;
  product?: string;
  releasever?: string;
  /** TYPE[:LEVEL] as the API accepted it (daemon/compression.ts). */
  compression?: string;
  flatSquashfs?: boolean;
  minimize?: boolean;
  bootloader?: "grub" | "isolinux";
}

export interface SessionRecord {
  id: string;
  name: string;
  type: CreatorType;
  owner: number;
  ownerGid: number;
  state: SessionState;
  options: SessionOptions;
  /** Where the client read the kickstart (relative %includes resolve as they did there). */
  where?: KickstartWhere;
  /** %post --nochroot present: Configure/Create need org.imgcreate.run-host-scripts. */
  hostScripts: boolean;
  /** %addon org_imgcreate --network=outbound: Configure/Create need org.imgcreate.network. */
  network?: boolean;
  artifacts: string[];
  createdAt: number;
  /** The session being cloned into this one, until the clone is complete. */
  cloneOf?: string;
  /** Set while a job is queued or running, so a restart knows the session was busy. */
  running?: { job: number; operation: Operation };
}

export function newSessionId(): string {
  return randomBytes(6).toString("hex");
}

export class Session {
  creator?: Creator;
  job?: Job;
  /** Bytes each checkpoint takes, as of the last job or call on the image (CheckpointUsage). */
  checkpointUsage: Record<string, number> = {};
  /** A quick call on the image (checkpoint, rollback, clone) running now: no job or other such call meanwhile. */
  operation?: string;
  log?: Logger;

  constructor(
    public record: SessionRecord,
    readonly dir: string,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get state(): SessionState {
    return this.record.state;
  }
  get workDir(): string {
    return join(this.dir, "work");
  }
  get outDir(): string {
    return join(this.dir, "out");
  }
  get logFile(): string {
    return join(this.dir, "log");
  }
  get kickstartFile(): string {
    return join(this.dir, "kickstart.ks");
  }
  get includesFile(): string {
    return join(this.dir, "includes.json");
  }

  /** Writes session.json atomically (write + fsync + rename), so a crash leaves the old or the new record. */
  async save(): Promise<void> {
    const file = join(this.dir, "session.json");
    const tmp = file + ".new";
    await fse.writeFile(tmp, JSON.stringify(this.record, null, 1) + "\n", { mode: 0o600 });
    const fd = await fse.open(tmp, "r");
    try {
      await fse.fsync(fd);
    } finally {
      await fse.close(fd);
    }
    await fse.rename(tmp, file);
  }

  static async load(dir: string): Promise<Session> {
    const record = (await fse.readJson(join(dir, "session.json"))) as SessionRecord;
    return new Session(record, dir);
  }
}
