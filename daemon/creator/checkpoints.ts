// Named checkpoints of a creator's image: each a directory under <workDir>/checkpoints/<name>/ with a copy
// of the image (a reflink where the filesystem has them, else a sparse copy), the files outside the image
// that belong to its state (a live image's kernel), and what the creator knew then. Every directory is
// journaled as a file, so cleanup() or recovery after a crash removes it with the session.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ImgcreateError } from "../errors.js";
import type { Journal } from "./journal.js";
import type { PackageRequest } from "./packages/backend.js";
import type { CreatorState } from "./types.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What a checkpoint remembers besides its bytes. */
export interface CheckpointMeta {
  name: string;
  /** The creator's state when it was taken, and whether the image was mounted then. */
  state: CreatorState;
  mounted: boolean;
  /** A copy of the image, or a device-mapper snapshot whose COW file is in the checkpoint's directory. */
  kind?: "copy" | "dm";
  /** The package request the image was installed to (a re-opened image installs only the difference). */
  installed?: PackageRequest;
  createdAt: number;
}

export function checkCheckpointName(name: string): void {
  if (!NAME.test(name)) {
    throw new ImgcreateError("InvalidArgs", `"${name}" is not a usable checkpoint name: use letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit`);
  }
}

export class Checkpoints {
  /** Journal ids of the checkpoint directories, by name, in the order they were taken (undefined: resting, not journaled). */
  private readonly held = new Map<string, number | undefined>();

  constructor(
    private readonly workDir: string,
    private readonly journal: Journal,
  ) {}

  dir(name: string): string {
    return join(this.workDir, "checkpoints", name);
  }

  names(): string[] {
    return [...this.held.keys()];
  }

  /** Creates the checkpoint's directory (journaled), lets fill() write into it, then records meta. Half-made ones are removed. */
  async save(meta: CheckpointMeta, fill: (dir: string) => Promise<void>): Promise<void> {
    checkCheckpointName(meta.name);
    if (this.held.has(meta.name)) {
      throw new ImgcreateError("InvalidArgs", `the session already has a checkpoint named "${meta.name}": drop it first or choose another name`);
    }
    const dir = this.dir(meta.name);
    await mkdir(join(this.workDir, "checkpoints"), { recursive: true, mode: 0o700 });
    const { id } = await this.journal.take("file", { path: dir }, async () => {
      await mkdir(dir, { mode: 0o700 });
      await fill(dir);
      await writeFile(join(dir, "meta.json"), JSON.stringify(meta), { mode: 0o600 });
    });
    this.held.set(meta.name, id);
  }

  /** A checkpoint a resumed creator finds on disk: its directory's journal id, or undefined while it rests. */
  adopt(name: string, id: number | undefined): void {
    this.held.set(name, id);
  }

  async load(name: string): Promise<CheckpointMeta> {
    this.mustHave(name);
    return JSON.parse(await readFile(join(this.dir(name), "meta.json"), "utf8")) as CheckpointMeta;
  }

  async drop(name: string): Promise<void> {
    const id = this.mustHave(name);
    if (id === undefined) await rm(this.dir(name), { recursive: true, force: true });
    else await this.journal.release(id);
    this.held.delete(name);
  }

  /** The checkpoint's journal id (undefined while it rests); InvalidArgs naming the ones there are when it does not exist. */
  mustHave(name: string): number | undefined {
    checkCheckpointName(name);
    const id = this.held.get(name);
    if (!this.held.has(name)) {
      const have = this.names();
      throw new ImgcreateError("InvalidArgs", `the session has no checkpoint named "${name}"` + (have.length ? ` (it has: ${have.join(", ")})` : " (it has none)"));
    }
    return id;
  }
}
