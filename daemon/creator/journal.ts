// The resource journal: every loop device, mount, process and temporary file a session takes is
// written to <workDir>/journal.jsonl BEFORE it is taken (and fsynced), so that cleanup() — or
// recover() in a restarted daemon after a crash, kill -9 included — can release it, in reverse order.
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";
import * as cgroup from "./system/cgroup.js";
import * as idrange from "./system/idrange.js";
import * as dm from "./system/dm.js";
import * as loop from "./system/loop.js";
import * as mounts from "./system/mount.js";
import { bootId, killTree, startTime } from "./system/process.js";

export type ResourceKind = "file" | "loop" | "mount" | "process" | "idrange" | "cgroup" | "freeze" | "dm";

export interface ResourceData {
  /** file: the path (removed recursively). loop: the backing file (and device once known). mount: the target. */
  path?: string;
  device?: string;
  pid?: number;
  /** The process's start time and the boot it ran in: together they make sure recover() kills only ours. */
  start?: string;
  boot?: string;
  argv?: string[];
  /** idrange: the work dir the range was taken for (path is the lock directory). */
  owner?: string;
  /** cgroup: its directories (one per controller on v1) and the hierarchy version. */
  paths?: string[];
  version?: number;
  /** dm: the device-mapper table's name. */
  name?: string;
  /** loop: a read-only device on another session's image (release detaches only read-only ones). */
  readOnly?: boolean;
}

type Entry =
  | { op: "take"; id: number; kind: ResourceKind; data: ResourceData }
  | { op: "note"; id: number; data: ResourceData }
  | { op: "release"; id: number };

export const JOURNAL_NAME = "journal.jsonl";

interface Held {
  id: number;
  kind: ResourceKind;
  data: ResourceData;
}

/** Releases one resource; idempotent, so replaying after a crash (or twice) is safe. */
export async function release(kind: ResourceKind, data: ResourceData): Promise<void> {
  switch (kind) {
    case "process":
      // After a reboot the pid names someone else's process: nothing of ours survived anyway.
      if (data.pid !== undefined && data.boot === bootId()) await killTree(data.pid, 3000, data.start);
      return;
    case "freeze":
      if (data.path) await mounts.thaw(data.path);
      return;
    case "mount":
      if (data.path && (await mounts.isMounted(data.path))) await mounts.unmount(data.path);
      return;
    case "dm":
      if (data.name) await dm.remove(data.name);
      return;
    case "loop":
      if (data.path) await loop.detachFile(data.path, { readOnly: data.readOnly === true });
      else if (data.device) await loop.detach(data.device);
      return;
    case "file":
      if (data.path) rmSync(data.path, { recursive: true, force: true });
      return;
    case "idrange":
      if (data.path && data.owner) await idrange.freeOwned(data.path, data.owner);
      return;
    case "cgroup":
      if (data.paths?.length) await cgroup.remove({ version: data.version === 2 ? 2 : 1, pids: data.paths[0]!, memory: data.paths[1] ?? data.paths[0]! });
      return;
  }
}

export class Journal {
  readonly path: string;
  private nextId = 1;
  private held: Held[] = [];

  constructor(readonly workDir: string) {
    this.path = join(workDir, JOURNAL_NAME);
  }

  private write(e: Entry): void {
    const fd = openSync(this.path, "a", 0o600);
    try {
      appendFileSync(fd, JSON.stringify(e) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Records the resource, then takes it with acquire(). If acquire fails, whatever it may have half
   * done is released at once. Returns acquire's result and the id to release it by.
   */
  async take<T>(kind: ResourceKind, data: ResourceData, acquire: () => Promise<T>): Promise<{ id: number; value: T }> {
    const id = this.nextId++;
    this.write({ op: "take", id, kind, data });
    const held: Held = { id, kind, data: { ...data } };
    this.held.push(held);
    try {
      return { id, value: await acquire() };
    } catch (err) {
      await this.release(id).catch(() => undefined);
      throw err;
    }
  }

  /** Adds what was learnt after taking (a loop device's name, a process's pid). */
  note(id: number, data: ResourceData): void {
    const h = this.held.find((x) => x.id === id);
    if (!h) return;
    Object.assign(h.data, data);
    this.write({ op: "note", id, data });
  }

  /**
   * Runs a child process under the journal: recorded before it starts, its pid noted as soon as it
   * exists (fn passes onSpawn to run()), released (its tree killed if still alive) when fn ends.
   */
  async trackProcess<T>(argv: string[], fn: (onSpawn: (pid: number) => void) => Promise<T>): Promise<T> {
    const { id } = await this.take("process", { argv: argv.slice(0, 8), boot: bootId() }, async () => undefined);
    try {
      return await fn((pid) => this.notePid(id, pid));
    } finally {
      await this.release(id).catch(() => undefined);
    }
  }

  /** Records a process's pid at once, and its start time as soon as it is read. */
  notePid(id: number, pid: number): void {
    this.note(id, { pid });
    void startTime(pid).then((start) => {
      if (start !== undefined) this.note(id, { start });
    });
  }

  /** Releases one resource now and records it. */
  async release(id: number): Promise<void> {
    const h = this.held.find((x) => x.id === id);
    if (!h) return;
    await release(h.kind, h.data);
    this.held = this.held.filter((x) => x !== h);
    this.write({ op: "release", id });
  }

  /** Releases everything still held, newest first; the first error is thrown after trying all. */
  async releaseAll(): Promise<void> {
    let first: unknown;
    for (const h of [...this.held].reverse()) {
      try {
        await this.release(h.id);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  get outstanding(): number {
    return this.held.length;
  }

  /**
   * Stops tracking every held file without removing it, and removes the journal: a resting image's files
   * outlive this journal (and a restarted daemon's recovery). Only files may be held. Returns their paths.
   */
  forgetFiles(): string[] {
    const paths = this.outstandingFiles();
    this.held = [];
    rmSync(this.path, { force: true });
    return paths;
  }

  /** The paths of the files held, when nothing but files is held (else InvalidState naming what is). */
  outstandingFiles(): string[] {
    const other = this.held.filter((h) => h.kind !== "file");
    if (other.length > 0) throw new ImgcreateError("InvalidState", `cannot put the image to rest while it holds ${other.map((h) => h.kind).join(", ")}`);
    return [...new Set(this.held.map((h) => h.data.path).filter((p): p is string => p !== undefined))];
  }
}

function readEntries(workDir: string): Entry[] {
  let text: string;
  try {
    text = readFileSync(join(workDir, JOURNAL_NAME), "utf8");
  } catch {
    return [];
  }
  const out: Entry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Entry);
    } catch {
      // A torn last line from a crash mid-write: its resource was not taken yet.
    }
  }
  return out;
}

/** What a journal says is still held, oldest first. */
export function outstanding(workDir: string): Held[] {
  const held = new Map<number, Held>();
  for (const e of readEntries(workDir)) {
    if (e.op === "take") held.set(e.id, { id: e.id, kind: e.kind, data: { ...e.data } });
    else if (e.op === "note") Object.assign(held.get(e.id)?.data ?? {}, e.data);
    else held.delete(e.id);
  }
  return [...held.values()];
}

/** Resumes the journal's device-mapper tables a crash left suspended, before anything unmounts above them. */
async function resumeTables(workDir: string): Promise<void> {
  for (const h of outstanding(workDir)) {
    if (h.kind === "dm" && h.data.name) await dm.unsuspend(h.data.name).catch(() => undefined);
  }
}

/** What sits above loop devices: released in every journal before any journal's loop devices. */
const ABOVE_LOOPS: ResourceKind[] = ["process", "freeze", "mount", "dm"];

/**
 * The first pass of recovery after a crash, over every session's journal: processes, freezes, mounts and
 * device-mapper tables (newest first in each). A clone's snapshot table holds its source's loop device,
 * which is in another journal: with the tables gone first, each journal's recover() can then detach its
 * own loop devices whatever the order. Errors are left for recover() to report.
 */
export async function releaseDevices(workDirs: string[]): Promise<void> {
  for (const workDir of workDirs) await resumeTables(workDir);
  for (const workDir of workDirs) {
    for (const h of outstanding(workDir).reverse()) {
      if (ABOVE_LOOPS.includes(h.kind)) await release(h.kind, h.data).catch(() => undefined);
    }
  }
}

/**
 * Releases what a dead process left in workDir's journal, newest first (processes, then mounts,
 * then loop devices, then files, as they were taken), then removes the journal. Safe to call on a
 * clean or missing journal. Throws (naming what could not be released) if anything stays held.
 */
export async function recover(workDir: string): Promise<{ released: number }> {
  await resumeTables(workDir);
  const held = outstanding(workDir).reverse();
  const failed: string[] = [];
  for (const h of held) {
    try {
      await release(h.kind, h.data);
    } catch (err) {
      failed.push(`${h.kind} ${h.data.path ?? h.data.device ?? h.data.pid}: ${(err as Error).message}`);
    }
  }
  if (failed.length > 0) {
    throw new ImgcreateError("Failed", `could not release everything in ${workDir}: ${failed.join("; ")}`, { failed });
  }
  rmSync(join(workDir, JOURNAL_NAME), { force: true });
  return { released: held.length };
}
