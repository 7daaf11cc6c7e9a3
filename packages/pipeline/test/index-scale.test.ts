// The pipeline's bucket index at scale: planning reads O(changed blocks) objects (the meta
// cache), a hostile cache object costs GETs and never a wrong answer, and a re-sync reads
// only new blocks' metas.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore, emptyIndex, encodeIndex, blockFromMeta, type ObjectStore } from "@strata/bucket";
import { newUlid, parseMeta, serializeMeta, type BlockMeta } from "@strata/tsdb";
import { StoreBucketIndex, VERIFIED_FILE, pipelineLayout } from "@strata/pipeline";

const layout = pipelineLayout();
const H2 = 7_200_000;

function meta(i: number): BlockMeta {
  const minTime = 1_700_000_000_000 + i * H2;
  const ulid = newUlid(
    minTime + H2,
    new Uint8Array(10).fill(i % 251).map((b, k) => (k < 4 ? (i >> (8 * k)) & 255 : b)),
  );
  return {
    ulid,
    minTime,
    maxTime: minTime + H2,
    stats: { numSamples: 1000n, numSeries: 10n, numChunks: 10n },
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { cluster: "a" }, source: "receive", downsample: { resolution: 0 } },
  };
}

/** The metas as read back from their meta.json, in index (ULID) order. */
const asRead = (ms: BlockMeta[]) =>
  ms.map((m) => parseMeta(serializeMeta(m, { style: "thanos" }))).sort((a, b) => (a.ulid < b.ulid ? -1 : 1));

/** Counts the GETs and listings that reach the store. */
function counting(store: ObjectStore): ObjectStore & { gets: number; lists: number } {
  const c = Object.assign(Object.create(store) as ObjectStore, { gets: 0, lists: 0 });
  c.get = (...a: Parameters<ObjectStore["get"]>) => {
    c.gets++;
    return store.get(...a);
  };
  c.list = (...a: Parameters<ObjectStore["list"]>) => {
    c.lists++;
    return store.list(...a);
  };
  return c;
}

describe("the meta cache", () => {
  let dir: string;
  let store: FsStore;
  const N = 1500;
  const metas: BlockMeta[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-index-scale-"));
    store = new FsStore(dir);
    const idx = emptyIndex();
    for (let i = 0; i < N + 20; i++) {
      const m = meta(i);
      metas.push(m);
      await store.put(layout.metaKey("t", m.ulid), serializeMeta(m, { style: "thanos" }));
      if (i < N) idx.blocks.push(blockFromMeta(m, 1_700_000_000));
    }
    await store.put(layout.indexKey("t"), encodeIndex(idx));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("planning a tenant reads the index, the cache object and the metas new since it was written", async () => {
    // Cold, no cache object yet: every meta once, then the cache object is written.
    const first = counting(store);
    const all = await new StoreBucketIndex(first, layout).blocks("t");
    expect(all.map((b) => b.meta)).toEqual(asRead(metas.slice(0, N)));
    expect(first.gets).toBe(1 + N); // the index and every meta (the absent cache object: a HEAD, 404)
    // Another cold worker: two GETs and the markers listing.
    const cold = counting(store);
    const warmable = new StoreBucketIndex(cold, layout);
    expect((await warmable.blocks("t")).map((b) => b.meta)).toEqual(asRead(metas.slice(0, N)));
    expect(cold.gets).toBe(2);
    expect(cold.lists).toBe(1);
    // 20 blocks indexed since: only their metas are read, cold or warm; too few to rewrite the
    // cache object (50 or a tenth of the blocks).
    for (const m of metas.slice(N)) await new StoreBucketIndex(store, layout).addBlock("t", m);
    const etag = (await store.head(layout.metaCacheKey("t")))?.etag;
    const later = counting(store);
    expect(await new StoreBucketIndex(later, layout).blocks("t")).toHaveLength(N + 20);
    expect(later.gets).toBe(2 + 20);
    expect((await store.head(layout.metaCacheKey("t")))?.etag).toBe(etag);
    cold.gets = 0;
    expect(await warmable.blocks("t")).toHaveLength(N + 20);
    expect(cold.gets).toBeLessThanOrEqual(2 + 20);
    // And once written back, nothing but the index.
    cold.gets = 0;
    expect(await warmable.blocks("t")).toHaveLength(N + 20);
    expect(cold.gets).toBe(1);
  });

  it("a hostile cache object costs GETs, never a wrong answer", async () => {
    const key = layout.metaCacheKey("t");
    const liar = metas[1]!;
    const texts: Record<string, string> = {};
    // Entry 0 names another block; entry 2 is not a meta.json; entry 3 is over the meta size cap.
    texts[metas[0]!.ulid] = serializeMeta(liar, { style: "thanos" });
    texts[metas[2]!.ulid] = "{not json";
    texts[metas[3]!.ulid] = `{"pad":"${"x".repeat(2 << 20)}"}`;
    for (const body of [
      gzipSync(JSON.stringify({ version: 1, metas: texts })),
      Buffer.from("not gzip"),
      gzipSync('{"version":99}'),
    ]) {
      await store.put(key, body);
      const c = counting(store);
      const got = await new StoreBucketIndex(c, layout).blocks("t");
      expect(got.map((b) => b.meta)).toEqual(asRead(metas));
      expect(c.gets).toBeGreaterThan(2);
    }
  });

  it("a re-sync reads the metas of blocks new to the index only", async () => {
    const tenant = "resync";
    const idx = new StoreBucketIndex(store, layout);
    for (const m of metas.slice(0, 40)) {
      await store.put(layout.metaKey(tenant, m.ulid), serializeMeta(m, { style: "thanos" }));
      await store.put(layout.blockFile(tenant, m.ulid, VERIFIED_FILE), "{}");
    }
    for (const m of metas.slice(0, 30)) await idx.addBlock(tenant, m);
    const c = counting(store);
    const r = await new StoreBucketIndex(c, layout).rebuild(tenant);
    expect(r.unverified).toEqual([]);
    expect((await idx.blocks(tenant)).map((b) => b.meta.ulid).sort()).toEqual(
      metas
        .slice(0, 40)
        .map((m) => m.ulid)
        .sort(),
    );
    // The index, and the 10 new metas (marks are listed, none to read); one listing for all.
    expect(c.gets).toBe(1 + 10);
    expect(c.lists).toBe(1);
  });
});
