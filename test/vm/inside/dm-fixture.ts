// Shared by the in-VM device-mapper tests and their kill -9 child: an image with a filesystem on a
// loop device under a linear table, then a snapshot of it, each resource journaled before it exists.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Journal } from "../../../daemon/creator/journal.js";
import * as dm from "../../../daemon/creator/system/dm.js";
import * as loop from "../../../daemon/creator/system/loop.js";
import * as mounts from "../../../daemon/creator/system/mount.js";

export interface DmSetup {
  journal: Journal;
  origin: string;
  mnt: string;
  base: string;
  size: number;
}

/** A 128 MiB ext4 image in workDir, on a loop device, under table imgcreate-<owner>-root, mounted. */
export async function mountedOrigin(workDir: string, owner: string): Promise<DmSetup> {
  mkdirSync(workDir, { recursive: true });
  const journal = new Journal(workDir);
  const img = join(workDir, "image");
  await journal.take("file", { path: img }, async () => {
    execFileSync("truncate", ["-s", "128M", img]);
    execFileSync("mkfs.ext4", ["-q", "-F", img]);
  });
  const { value: base } = await journal.take("loop", { path: img }, () => loop.attach(img));
  const size = await dm.sectors(base);
  const origin = dm.tableName(owner, "root");
  const { value: dev } = await journal.take("dm", { name: origin }, () => dm.create(origin, dm.tables.linear(base, size)));
  const mnt = join(workDir, "root");
  await journal.take("file", { path: mnt }, async () => mkdirSync(mnt));
  await journal.take("mount", { path: mnt }, () => mounts.mount(dev, mnt, { type: "ext4" }));
  return { journal, origin, mnt, base, size };
}

/**
 * Takes a snapshot named imgcreate-<owner>-<name> of the mounted origin: the filesystem frozen, the
 * origin's table turned into snapshot-origin, the snapshot table over a COW file of its own, thawed.
 */
export async function snapshot(s: DmSetup, owner: string, name: string): Promise<string> {
  const cow = join(s.journal.workDir, `${name}.cow`);
  await s.journal.take("file", { path: cow }, async () => execFileSync("truncate", ["-s", "64M", cow]));
  const { value: cowDev } = await s.journal.take("loop", { path: cow }, () => loop.attach(cow));
  const snap = dm.tableName(owner, name);
  const { id } = await s.journal.take("freeze", { path: s.mnt }, () => mounts.freeze(s.mnt));
  try {
    const make = async () => (await s.journal.take("dm", { name: snap }, () => dm.create(snap, dm.tables.snapshot(s.base, cowDev, s.size)))).value;
    await dm.addSnapshot(s.origin, s.base, s.size, make, { frozen: true });
  } finally {
    await s.journal.release(id);
  }
  return dm.devicePath(snap);
}
