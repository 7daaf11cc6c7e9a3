/**
 * The object store contract: one suite, run against every ObjectStore implementation
 * (filesystem, and S3 over the wire against the emulator behind the enforcing proxy).
 * The conditional-write checks are also exported on their own so a test can show that
 * an emulator which ignores If-Match / If-None-Match fails them.
 */
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { DELETION_MARK_FILE, MemoryBlock, MemorySource, parseMeta } from "@strata/tsdb";
import {
  BucketIndexUpdater,
  BucketLayout,
  LeaseLostError,
  LeaseManager,
  PreconditionFailedError,
  RangeCache,
  StoreBlockSink,
  StoreBlockSource,
  StoreByteSource,
  getCapped,
  listAll,
  uploadBlock,
  uploadFrom,
  writeMarker,
  type ByteRange,
  type ObjectStore,
} from "../src/index.ts";
import { blockDigest, metaJson, rng, testUlid, writeTestBlock } from "./fixtures.ts";

export interface StoreFixture {
  store: ObjectStore;
  /** Another client of the same bucket, as a second process would have. */
  another(): ObjectStore;
  /** Part size for large uploads (S3 ≥ 5 MiB; the emulator accepts ≤ 11 MiB bodies). */
  partSize: number;
  cleanup(): Promise<void>;
}

let seq = 0;
const uniq = (name: string) => `c${Date.now().toString(36)}${(seq++).toString(36)}/${name}`;
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/**
 * Every way a store can fail S3's conditional-write semantics, as a list of violations
 * (empty when the store enforces them all).
 */
export async function conditionalWriteViolations(store: ObjectStore, prefix: string): Promise<string[]> {
  const v: string[] = [];
  const k = `${prefix}/cond`;
  const e1 = await store.put(k, "one", { ifNoneMatch: "*" });
  if (e1 instanceof PreconditionFailedError) v.push("If-None-Match * on an absent key failed");
  const again = await store.put(k, "two", { ifNoneMatch: "*" });
  if (!(again instanceof PreconditionFailedError)) v.push("If-None-Match * on an existing key succeeded");
  if (text((await store.get(k))?.body) !== "one") v.push("a failed If-None-Match put changed the object");
  const cur = await store.head(k);
  const stale = await store.put(k, "three", { ifMatch: '"0123456789abcdef0123456789abcdef"' });
  if (!(stale instanceof PreconditionFailedError)) v.push("If-Match with a wrong ETag succeeded");
  if (text((await store.get(k))?.body) !== "one") v.push("a failed If-Match put changed the object");
  const ok = cur && (await store.put(k, "four", { ifMatch: cur.etag }));
  if (!ok || ok instanceof PreconditionFailedError) v.push("If-Match with the current ETag failed");
  const reuse = cur && (await store.put(k, "five", { ifMatch: cur.etag }));
  if (!(reuse instanceof PreconditionFailedError)) v.push("If-Match with a superseded ETag succeeded");
  const absent = await store.put(`${prefix}/cond-absent`, "x", { ifMatch: '"0123456789abcdef0123456789abcdef"' });
  if (!(absent instanceof PreconditionFailedError)) v.push("If-Match on an absent key succeeded");
  const del = await store.delete(k, { ifMatch: '"0123456789abcdef0123456789abcdef"' });
  if (!(del instanceof PreconditionFailedError) || !(await store.head(k)))
    v.push("a delete with a wrong If-Match deleted the object");
  return v;
}

/** 20 concurrent compare-and-swap increments of one counter: the final value must be 20. */
export async function casCounter(stores: ObjectStore[], key: string, writers = 20): Promise<number> {
  await stores[0]!.put(key, "0");
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const s = stores[w % stores.length]!;
      for (let attempt = 0; attempt < 500; attempt++) {
        const cur = (await s.get(key))!;
        const r = await s.put(key, String(Number(text(cur.body)) + 1), { ifMatch: cur.etag });
        if (!(r instanceof PreconditionFailedError)) return;
        await new Promise((res) => setTimeout(res, Math.random() * 5 * Math.min(attempt + 1, 10)));
      }
      throw new Error("counter writer starved");
    }),
  );
  return Number(text((await stores[0]!.get(key))!.body));
}

/** Counts GETs going to the wrapped store. */
class CountingStore {
  gets: ByteRange[] = [];
  readonly inner: ObjectStore;
  constructor(inner: ObjectStore) {
    this.inner = inner;
  }
  wrap(): ObjectStore {
    return new Proxy(this.inner, {
      get: (t, p, r) => {
        if (p === "get")
          return (key: string, range?: ByteRange) => (
            this.gets.push(range ?? { offset: 0, length: -1 }), t.get(key, range)
          );
        // The page cache's GETs, on stores that fill its pages directly (S3Store).
        if (p === "getInto" && t.getInto)
          return (key: string, range: ByteRange, into: readonly Uint8Array[]) => (
            this.gets.push(range), t.getInto!(key, range, into)
          );
        const v = Reflect.get(t, p, r);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
  }
}

export function storeContract(name: string, setup: () => Promise<StoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: ObjectStore;
    beforeAll(async () => {
      fx = await setup();
      store = fx.store;
    });
    afterAll(async () => {
      await fx?.cleanup();
    });

    it("puts, gets, heads and deletes; absent keys are undefined", async () => {
      const k = uniq("a/b.txt");
      expect(await store.get(k)).toBeUndefined();
      expect(await store.head(k)).toBeUndefined();
      const e1 = await store.put(k, "hello");
      expect(typeof e1).toBe("string");
      const g = (await store.get(k))!;
      expect(text(g.body)).toBe("hello");
      expect(g.size).toBe(5);
      expect(g.etag).toBe(e1);
      const h = (await store.head(k))!;
      expect(h.etag).toBe(e1);
      expect(h.size).toBe(5);
      expect(Math.abs(h.lastModified.getTime() - Date.now())).toBeLessThan(120_000);
      const e2 = await store.put(k, "world!");
      expect(e2).not.toBe(e1);
      expect(text((await store.get(k))!.body)).toBe("world!");
      expect(await store.delete(k)).toBeUndefined();
      expect(await store.get(k)).toBeUndefined();
      expect(await store.delete(k)).toBeUndefined(); // idempotent
    });

    it("getCapped reads at most the cap and one byte more, and says the object's real size", async () => {
      const k = uniq("capped.bin");
      expect(await getCapped(store, k, 10)).toBeUndefined();
      const body = Uint8Array.from({ length: 100 }, (_, i) => i);
      await store.put(k, body);
      const big = (await getCapped(store, k, 10))!;
      expect([big.truncated, big.size, [...big.body]]).toEqual([true, 100, [...body.subarray(0, 11)]]);
      const whole = (await getCapped(store, k, 100))!;
      expect([whole.truncated, whole.size, whole.body.length]).toEqual([false, 100, 100]);
      const empty = uniq("capped-empty.bin");
      await store.put(empty, new Uint8Array(0));
      const e = (await getCapped(store, empty, 10))!;
      expect([e.truncated, e.size, e.body.length]).toEqual([false, 0, 0]);
    });

    it("reads byte ranges and rejects ranges outside the object", async () => {
      const k = uniq("range.bin");
      const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
      await store.put(k, bytes);
      const r = (await store.get(k, { offset: 10, length: 20 }))!;
      expect([...r.body]).toEqual([...bytes.subarray(10, 30)]);
      expect(r.size).toBe(1000);
      expect((await store.get(k, { offset: 999, length: 1 }))!.body[0]).toBe(999 & 0xff);
      expect((await store.get(k, { offset: 5, length: 0 }))!.body.length).toBe(0);
      await expect(store.get(k, { offset: 990, length: 20 })).rejects.toThrow(RangeError);
      await expect(store.get(k, { offset: 2000, length: 1 })).rejects.toThrow(RangeError);
    });

    it("enforces If-None-Match and If-Match on puts and If-Match on deletes", async () => {
      expect(await conditionalWriteViolations(store, uniq("cond"))).toEqual([]);
      const k = uniq("cdel");
      const e = (await store.put(k, "x")) as string;
      expect(await store.delete(k, { ifMatch: e })).toBeUndefined();
      expect(await store.head(k)).toBeUndefined();
    });

    it("loses no update when 20 writers compare-and-swap one object", async () => {
      const stores = [store, fx.another(), fx.another()];
      expect(await casCounter(stores, uniq("counter"))).toBe(20);
    });

    it("lists by prefix in key order, in pages, with and without a delimiter", async () => {
      const p = uniq("list");
      const keys = Array.from({ length: 23 }, (_, i) => `${p}/k${String(i).padStart(2, "0")}`);
      keys.push(`${p}/d1/x`, `${p}/d1/y`, `${p}/d2/z`);
      await Promise.all(keys.map((k) => store.put(k, k)));
      const all: string[] = [];
      for await (const o of listAll(store, `${p}/`, { maxKeys: 10 })) all.push(o.key);
      expect(all).toEqual([...keys].sort());
      const page1 = await store.list(`${p}/`, { maxKeys: 10 });
      expect(page1.objects.length).toBe(10);
      expect(page1.next).toBeDefined();
      const top = await store.list(`${p}/`, { delimiter: "/" });
      expect(top.prefixes).toEqual([`${p}/d1/`, `${p}/d2/`]);
      expect(top.objects.map((o) => o.key)).toEqual(keys.slice(0, 23));
      expect(top.objects[0]!.size).toBe(keys[0]!.length);
      const some = await store.list(`${p}/k1`);
      expect(some.objects.map((o) => o.key)).toEqual(keys.slice(10, 20));
      expect((await store.list(`${p}/nothing`)).objects).toEqual([]);
    });

    it("uploads a large object in parts, streaming from a ByteSource, and honours If-None-Match on it", async () => {
      const k = uniq("big.bin");
      const size = fx.partSize * 2 + 12345;
      const bytes = new Uint8Array(size);
      const r = rng(7);
      for (let i = 0; i < size; i += 4096) bytes[i] = Math.floor(r() * 256);
      const etag = await uploadFrom(store, k, new MemorySource(bytes), { partSize: fx.partSize, ifNoneMatch: "*" });
      expect(etag).toBeTruthy();
      const h = (await store.head(k))!;
      expect(h.size).toBe(size);
      const tail = (await store.get(k, { offset: size - 5000, length: 5000 }))!.body;
      expect(Buffer.compare(tail, bytes.subarray(size - 5000))).toBe(0);
      const mid = (await store.get(k, { offset: fx.partSize - 100, length: 200 }))!.body;
      expect(Buffer.compare(mid, bytes.subarray(fx.partSize - 100, fx.partSize + 100))).toBe(0);
      // Both the single-request path (small) and CompleteMultipartUpload (large) honour it.
      await expect(
        uploadFrom(store, k, new MemorySource(bytes.subarray(0, 10)), { partSize: fx.partSize, ifNoneMatch: "*" }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      const other = bytes.slice(0, fx.partSize + 10);
      other[0]! ^= 1;
      await expect(
        uploadFrom(store, k, new MemorySource(other), { partSize: fx.partSize, ifNoneMatch: "*" }),
      ).rejects.toBeInstanceOf(PreconditionFailedError);
      expect((await store.head(k))!.size).toBe(size);
      expect((await store.head(k))!.etag).toBe(etag);
    });

    it("reads a block in place through the ByteSource, coalescing nearby ranges into one GET", async () => {
      const layout = new BucketLayout();
      const tenant = uniq("tenant").replace("/", "-");
      const id = testUlid(1);
      const local = new MemoryBlock("local");
      await writeTestBlock(local, id, 60, 3, 4096);
      expect((await local.listChunkFiles()).length).toBeGreaterThan(1);
      await uploadBlock(store, layout, tenant, id, local, { partSize: fx.partSize });
      const counting = new CountingStore(store);
      const src = new StoreBlockSource(
        counting.wrap(),
        layout.blockPrefix(tenant, id),
        new RangeCache({ pageSize: 4096, maxBytes: 1 << 20 }),
      );
      expect(await src.listChunkFiles()).toEqual(await local.listChunkFiles());
      expect(await blockDigest(src)).toEqual(await blockDigest(local));

      const idx = (await src.open("index")) as StoreByteSource;
      const cache = new RangeCache({ pageSize: 1024, maxGapPages: 2 });
      const s2 = new StoreByteSource(counting.wrap(), idx.key, idx.size, cache);
      counting.gets = [];
      const [a, b, c] = await Promise.all([s2.read(0, 10), s2.read(2100, 50), s2.read(3000, 100)]);
      expect(counting.gets.length).toBe(1); // pages 0, 2 and 3 (gap 1 ≤ 2): one GET
      const whole = local.files.get("index")!;
      expect([...a]).toEqual([...whole.subarray(0, 10)]);
      expect([...b]).toEqual([...whole.subarray(2100, 2150)]);
      expect([...c]).toEqual([...whole.subarray(3000, 3100)]);
      await s2.read(1024, 10); // the gap page was fetched with the run
      expect(counting.gets.length).toBe(1);
      expect(cache.stats.hits).toBeGreaterThan(0);
      await expect(s2.read(idx.size - 1, 2)).rejects.toThrow(RangeError);
      // readInto fills the caller's buffer with the same bytes, across pages, with the same checks.
      const dst = new Uint8Array(3000).fill(0xee);
      await s2.readInto(500, dst);
      expect(Buffer.from(dst).equals(Buffer.from(whole.subarray(500, 3500)))).toBe(true);
      await expect(s2.readInto(idx.size - 1, new Uint8Array(2))).rejects.toThrow(RangeError);
    });

    it("writes a block into the bucket with meta.json last", async () => {
      const layout = new BucketLayout();
      const tenant = uniq("sink").replace("/", "-");
      const id = testUlid(2);
      const order: string[] = [];
      const recording = new Proxy(store, {
        get: (t, p, r) => {
          if (p === "put") return (k: string, b: Uint8Array, o: object) => (order.push(k), t.put(k, b, o));
          if (p === "createWriter")
            return async (k: string, o: object) => {
              const w = await t.createWriter(k, o);
              return { ...w, done: w.done, close: async () => (await w.close(), order.push(k)) };
            };
          const v = Reflect.get(t, p, r);
          return typeof v === "function" ? v.bind(t) : v;
        },
      });
      const sink = new StoreBlockSink(recording, layout.blockPrefix(tenant, id), { partSize: fx.partSize });
      const meta = await writeTestBlock(sink, id, 20, 5);
      expect(await store.head(layout.metaKey(tenant, id))).toBeUndefined();
      await sink.commit();
      expect(order[order.length - 1]).toBe(layout.metaKey(tenant, id));
      expect(order.length).toBeGreaterThanOrEqual(3);
      const stored = parseMeta((await store.get(layout.metaKey(tenant, id)))!.body);
      expect(stored.ulid).toBe(meta.ulid);
      expect((await blockDigest(new StoreBlockSource(store, layout.blockPrefix(tenant, id)))).length).toBe(20);
    });

    it("keeps every block when 20 writers add different blocks to one index at once", async () => {
      const layout = new BucketLayout();
      const tenant = uniq("idx").replace("/", "-");
      const ids = Array.from({ length: 20 }, (_, i) => testUlid(100 + i));
      await Promise.all(
        ids.map((id, i) => store.put(layout.metaKey(tenant, id), metaJson(id, 1_700_000_000_000 + i * 7_200_000))),
      );
      const outcomes = await Promise.all(
        ids.map((id, i) =>
          new BucketIndexUpdater(i % 2 ? fx.another() : store, {
            layout,
            baseDelayMs: 5,
            maxDelayMs: 200,
            maxAttempts: 100,
          }).addBlock(tenant, id),
        ),
      );
      expect(outcomes.every((o) => o.changed)).toBe(true);
      const final = (await new BucketIndexUpdater(store, { layout }).read(tenant))!.index;
      expect(final.blocks.map((b) => b.block_id).sort()).toEqual([...ids].sort());
      expect(Math.max(...outcomes.map((o) => o.attempts))).toBeGreaterThan(1); // the race really happened
    });

    it("rebuilds from a listing exactly what the incremental updates produced", async () => {
      const layout = new BucketLayout();
      const tenant = uniq("rb").replace("/", "-");
      const up = new BucketIndexUpdater(store, { layout, now: () => 1_800_000_000_000 });
      const ids = Array.from({ length: 6 }, (_, i) => testUlid(200 + i));
      for (const [i, id] of ids.entries()) {
        await store.put(
          layout.metaKey(tenant, id),
          metaJson(id, 1_700_000_000_000 + i * 7_200_000, {
            shard: i % 2 ? "1_of_2" : undefined,
            ooo: i === 3,
            level: 1 + (i % 3),
            segments: 1 + (i % 2),
          }),
        );
        await store.put(layout.blockFile(tenant, id, "index"), "x");
        await up.addBlock(tenant, id);
      }
      await store.put(layout.blockFile(tenant, testUlid(299), "index"), "partial"); // no meta.json
      await writeMarker(store, layout, tenant, ids[1]!, DELETION_MARK_FILE, {
        id: ids[1]!,
        version: 1,
        deletion_time: 1_750_000_000,
      });
      await up.addDeletionMark(tenant, ids[1]!);
      expect((await up.addBlock(tenant, ids[0]!)).changed).toBe(false);
      const incremental = (await up.read(tenant))!.index;
      const rebuilt = await up.rebuild(tenant);
      expect(rebuilt.partials.has(testUlid(299))).toBe(true);
      expect(rebuilt.index).toEqual(incremental);
      expect((await up.read(tenant))!.index).toEqual(incremental);
      expect(incremental.block_deletion_marks).toEqual([{ block_id: ids[1], deletion_time: 1_750_000_000 }]);
      expect(await store.head(layout.globalMarkerKey(tenant, ids[1]!, DELETION_MARK_FILE))).toBeDefined();
      const removed = await up.removeBlock(tenant, ids[1]!);
      expect(removed.index.blocks.length).toBe(5);
      expect(removed.index.block_deletion_marks).toEqual([]);
    });

    it("grants a lease to exactly one of two contenders, and lets an expired lease be taken over", async () => {
      let now = 1_000_000;
      const clock = () => now;
      const key = uniq("lease.json");
      const a = new LeaseManager(store, { now: clock });
      const b = new LeaseManager(fx.another(), { now: clock });
      const [ra, rb] = await Promise.all([a.acquire(key, "worker-a", 60_000), b.acquire(key, "worker-b", 60_000)]);
      expect([ra.acquired, rb.acquired].filter(Boolean).length).toBe(1);
      const [winner, loserMgr, loserName] = ra.acquired ? [ra, b, "worker-b"] : [rb, a, "worker-a"];
      if (!winner.acquired) throw new Error("unreachable");
      const denied = await loserMgr.acquire(key, loserName, 60_000);
      expect(denied).toEqual({ acquired: false, holder: winner.lease.owner, expiresAt: 1_060_000 });
      now += 61_000; // expired
      const taken = await loserMgr.acquire(key, loserName, 60_000);
      expect(taken.acquired && taken.takenOver).toBe(true);
      // The old holder cannot renew or release what it lost.
      const mgrOfWinner = loserMgr === a ? b : a;
      expect(await mgrOfWinner.renew(winner.lease, 60_000)).toBeInstanceOf(LeaseLostError);
      expect(await mgrOfWinner.release(winner.lease)).toBeInstanceOf(LeaseLostError);
      if (!taken.acquired) throw new Error("unreachable");
      const renewed = await loserMgr.renew(taken.lease, 60_000);
      expect(renewed).not.toBeInstanceOf(LeaseLostError);
      expect(await loserMgr.release(renewed as Exclude<typeof renewed, LeaseLostError>)).toBeUndefined();
      const again = await mgrOfWinner.acquire(key, "worker-c", 60_000);
      expect(again.acquired).toBe(true);
    });
  });
}
