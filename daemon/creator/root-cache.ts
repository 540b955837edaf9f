// The cache of installed roots: the image as Install left it (before any kickstart setting or %post),
// kept read-only under <dir>/<key>/, keyed by everything that decides its content (the image's
// filesystem, the backend's own key: repositories' index files, the resolved request, setup files,
// tool versions). A session whose key matches starts from a copy instead of installing: seconds, not
// minutes. Entries appear only complete (copied into a temporary directory, then renamed), go away
// only by rename-then-delete (a reader that has the file open keeps reading it), and are evicted
// least-recently-used when the cache grows past its bound.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { copyImage } from "./system/copy.js";

export const ROOT_CACHE_FORMAT = 1;

export interface RootCacheEntry {
  key: string;
  /** The image file (read-only). */
  image: string;
  /** Bytes the entry takes on disk (allocated blocks: images are sparse). */
  bytes: number;
  createdAt: number;
  lastUsedAt: number;
  /** What it holds, for `imgcreate cache list`: image type, filesystem, package count. */
  summary: string;
}

interface Meta {
  format: number;
  key: string;
  createdAt: number;
  summary: string;
}

const KEY = /^[0-9a-f]{64}$/;

export class RootCache {
  constructor(
    readonly dir: string,
    /** The size bound in bytes; 0 turns the cache off. */
    readonly maxBytes: number,
  ) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** The entry for key, marked as just used; undefined on a miss. */
  async lookup(key: string): Promise<RootCacheEntry | undefined> {
    if (!KEY.test(key)) return undefined;
    const entry = await this.read(key);
    if (!entry) return undefined;
    const now = new Date();
    await utimes(join(this.dir, key), now, now).catch(() => undefined);
    return { ...entry, lastUsedAt: now.getTime() };
  }

  /** Copies image in as key's entry (unless one appeared meanwhile), then evicts down to the bound. */
  async store(key: string, image: string, summary: string, signal?: AbortSignal): Promise<void> {
    if (!this.enabled || !KEY.test(key) || (await this.read(key))) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.new-${randomBytes(6).toString("hex")}`);
    try {
      await mkdir(tmp, { mode: 0o700 });
      await copyImage(image, join(tmp, "image"), signal);
      await chmod(join(tmp, "image"), 0o400);
      const meta: Meta = { format: ROOT_CACHE_FORMAT, key, createdAt: Date.now(), summary };
      await writeFile(join(tmp, "meta.json"), JSON.stringify(meta) + "\n", { mode: 0o400 });
      await rename(tmp, join(this.dir, key)).catch(async (err: NodeJS.ErrnoException) => {
        // Another session stored the same key first: theirs is as good as ours.
        if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    await this.prune(this.maxBytes, key);
  }

  /** Every complete entry, most recently used first. */
  async list(): Promise<RootCacheEntry[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: RootCacheEntry[] = [];
    for (const n of names.filter((x) => KEY.test(x))) {
      const e = await this.read(n);
      if (e) out.push(e);
    }
    return out.sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /**
   * Evicts least-recently-used entries until the cache holds at most maxBytes (0: empties it), never
   * `keep`. Also removes what an interrupted store left. Returns the evicted entries.
   */
  async prune(maxBytes: number, keep?: string): Promise<RootCacheEntry[]> {
    for (const n of await readdir(this.dir).catch(() => [] as string[])) {
      if (n.startsWith(".new-") && (await olderThan(join(this.dir, n), 6 * 3600_000))) await rm(join(this.dir, n), { recursive: true, force: true });
    }
    const entries = await this.list();
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    const evicted: RootCacheEntry[] = [];
    for (const e of [...entries].reverse()) {
      if (total <= maxBytes) break;
      if (e.key === keep) continue;
      await this.remove(e.key);
      total -= e.bytes;
      evicted.push(e);
    }
    return evicted;
  }

  /** Removes one entry: renamed away first, so no lookup finds it half deleted. */
  private async remove(key: string): Promise<void> {
    const gone = join(this.dir, `.old-${randomBytes(6).toString("hex")}`);
    await rename(join(this.dir, key), gone).catch(() => undefined);
    await rm(gone, { recursive: true, force: true });
  }

  private async read(key: string): Promise<RootCacheEntry | undefined> {
    const dir = join(this.dir, key);
    try {
      const meta = JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as Meta;
      if (meta.format !== ROOT_CACHE_FORMAT || meta.key !== key) return undefined;
      const image = join(dir, "image");
      const [st, dst] = await Promise.all([stat(image), stat(dir)]);
      return { key, image, bytes: st.blocks * 512, createdAt: meta.createdAt, lastUsedAt: dst.mtimeMs, summary: meta.summary };
    } catch {
      return undefined;
    }
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  return st !== undefined && Date.now() - st.mtimeMs > ms;
}
