// The cache of installed roots' bookkeeping on real files (no image needed): an entry appears only
// complete, a lookup marks it used, the bound evicts least-recently-used entries but never the one
// just stored, and prune(0) empties it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { truncate, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RootCache } from "../../daemon/creator/root-cache.js";
import { makeTmp, removeTmp } from "../helpers/tmp.js";

let tmp = "";
before(async () => (tmp = await makeTmp("rootcache-unit")));
after(async () => removeTmp(tmp));

const key = (c: string) => c.repeat(64);

/** An "image" of n MiB of real (allocated) data. */
async function image(name: string, mib: number): Promise<string> {
  const p = join(tmp, name);
  await writeFile(p, Buffer.alloc(mib * 2 ** 20, 1));
  return p;
}

test("store, lookup, least-recently-used eviction and prune", async () => {
  const cache = new RootCache(join(tmp, "roots"), 5 * 2 ** 20);
  assert.equal(await cache.lookup(key("a")), undefined);
  await cache.store(key("a"), await image("a", 2), "first");
  await cache.store(key("b"), await image("b", 2), "second");
  const a = await cache.lookup(key("a"));
  assert.ok(a);
  assert.equal(a.summary, "first");
  assert.equal(statSync(a.image).mode & 0o777, 0o400, "entries are read-only");
  // b is now the least recently used (a was looked up): storing c evicts b, not a.
  await utimes(join(tmp, "roots", key("b")), new Date(1000), new Date(1000));
  await cache.store(key("c"), await image("c", 2), "third");
  assert.deepEqual((await cache.list()).map((e) => e.key[0]).sort(), ["a", "c"]);
  // The entry just stored stays even when it alone is over the bound.
  const small = new RootCache(join(tmp, "roots"), 2 ** 20);
  await small.store(key("d"), await image("d", 2), "big");
  assert.deepEqual((await small.list()).map((e) => e.key[0]), ["d"]);
  // Storing a key that exists keeps the first one.
  const sparse = join(tmp, "sparse");
  await truncate(await image("sparse", 0), 2 ** 30);
  await small.store(key("d"), sparse, "again");
  assert.equal((await small.lookup(key("d")))?.summary, "big");
  assert.equal((await small.prune(0)).length, 1);
  assert.deepEqual(readdirSync(join(tmp, "roots")), []);
  assert.equal(await cache.lookup("../etc"), undefined, "only hex keys name entries");
});

test("a cache of size 0 stores nothing", async () => {
  const off = new RootCache(join(tmp, "off"), 0);
  await off.store(key("e"), await image("e", 1), "x");
  assert.deepEqual(await off.list(), []);
});
