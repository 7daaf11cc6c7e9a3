// The read path built for S3: sequential walks detected from their offsets and read ahead by
// large concurrent GETs within the job's budget; a block opened with one LIST and its index's
// ends in one round trip. Counted over a real FsStore, timed over the shaped emulator.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockReader, MemoryBlock } from "@strata/tsdb";
import { startS3Emulator, type S3Emulator } from "@strata/emulator";
import {
  BucketLayout,
  FIRST_RANGE,
  FsStore,
  MAX_RANGE,
  RangeCache,
  StoreBlockSource,
  StoreByteSource,
  uploadBlock,
  type ObjectStore,
} from "../src/index.ts";
import { S3Store } from "../src/s3.ts";
import { StreamTracker } from "../src/read-ahead.ts";
import { blockDigest, testUlid, writeTestBlock } from "./fixtures.ts";

/** Counts every call that reaches the store, the GETs' lengths, and the most bytes ever in flight at once. */
function counting(store: ObjectStore) {
  const c = { gets: [] as number[], heads: 0, lists: 0, inFlight: 0, peakInFlight: 0 };
  const wrapped = new Proxy(store, {
    get(t, p, r) {
      if (p === "get")
        return async (key: string, range?: { offset: number; length: number }) => {
          const n = range?.length ?? 0;
          c.gets.push(n);
          c.inFlight += n;
          c.peakInFlight = Math.max(c.peakInFlight, c.inFlight);
          try {
            return await t.get(key, range);
          } finally {
            c.inFlight -= n;
          }
        };
      if (p === "head") return (...a: Parameters<ObjectStore["head"]>) => (c.heads++, t.head(...a));
      if (p === "list") return (...a: Parameters<ObjectStore["list"]>) => (c.lists++, t.list(...a));
      const v = Reflect.get(t, p, r);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  return { c, store: wrapped };
}

/** Reads [0, size) front to back in `window`-byte reads overlapping by 64 KiB, as the chunk reader walks a segment. */
async function walk(src: StoreByteSource, window: number): Promise<Uint8Array> {
  const out = new Uint8Array(src.size);
  for (let at = 0; at < src.size; ) {
    const n = Math.min(window, src.size - at);
    await src.readInto(at, out.subarray(at, at + n));
    at = at + n >= src.size ? src.size : at + n - (64 << 10);
  }
  return out;
}

describe("StreamTracker", () => {
  it("takes a read that goes on from an earlier one (overlapping it, or past its alignment) for a walk", () => {
    let active = 0;
    const t = new StreamTracker((d) => (active += d));
    expect(t.observe(0, 8)).toBeUndefined(); // a first read starts nothing
    const s = t.observe(8, 1 << 20); // goes on from it: reading ahead
    expect(s?.active).toBe(true);
    expect(active).toBe(1);
    expect(t.observe((1 << 20) - (64 << 10), 2 << 20)).toBe(s); // the chunk reader's overlap
    expect(t.observe((2 << 20) + 15, 3 << 20)).toBe(s); // the index's 16-byte alignment
    expect(t.observe(5 << 20, 6 << 20)).toBeUndefined(); // a jump: another walk, maybe
    expect(t.observe(1 << 20, 1 << (20 + 10))).toBeUndefined(); // behind, not extending: random
    expect(active).toBe(1);
    t.finished(s!);
    expect(active).toBe(0);
    // Four walks tracked per object: the oldest is forgotten (and stops counting).
    const u = new StreamTracker((d) => (active += d));
    u.observe(0, 10);
    u.observe(10, 20);
    expect(active).toBe(1);
    for (let i = 1; i <= 4; i++) u.observe(i * 1000, i * 1000 + 10);
    expect(active).toBe(0);
    u.clear();
  });
});

describe("read-ahead over a store", () => {
  let dir: string;
  let fs: FsStore;
  const SIZE = 40 << 20;
  const bytes = new Uint8Array(SIZE).map((_, i) => (i * 2654435761) >>> 24);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-read-ahead-"));
    fs = new FsStore(dir);
    const w = await fs.createWriter("big");
    for (let at = 0; at < SIZE; at += 8 << 20) await w.write(bytes.subarray(at, at + (8 << 20)));
    await w.close();
    await w.done;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a walk in 1 MiB windows is fetched by concurrent GETs growing to MAX_RANGE, each byte once", async () => {
    const { c, store } = counting(fs);
    const cache = RangeCache.forJob(1);
    const src = new StoreByteSource(store, "big", SIZE, cache);
    const got = await walk(src, 1 << 20);
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
    // Without read-ahead: one GET per window (44). With it: a few windows, then 1, 2, 4, 8, 8, … MiB.
    expect(c.gets.length).toBeLessThan(15);
    expect(Math.max(...c.gets)).toBe(MAX_RANGE);
    expect(c.gets).toContain(FIRST_RANGE);
    expect(cache.stats.fetchedBytes).toBeLessThanOrEqual(SIZE * 1.01);
    expect(cache.stats.aheadGets).toBeGreaterThan(3);
    expect(c.peakInFlight).toBeGreaterThan(MAX_RANGE); // several GETs at once
    expect(cache.stats.peakBytes).toBeLessThanOrEqual(cache.maxBytes);
    await src.close();
  });

  it("walks sharing one job's cache stay within its bound: read-ahead in flight and pages together", async () => {
    const { c, store } = counting(fs);
    // 24 MiB for four walks: 12 MiB of read-ahead shared, 3 MiB ahead of each.
    const cache = RangeCache.forJob(4, 24 << 20);
    const srcs = Array.from({ length: 4 }, (_, i) => new StoreByteSource(store, "big", SIZE, cache, `input-${i}`));
    const got = await Promise.all(srcs.map((s) => walk(s, 1 << 20)));
    for (const g of got) expect(Buffer.from(g).equals(Buffer.from(bytes))).toBe(true);
    expect(c.peakInFlight).toBeLessThanOrEqual(cache.readAheadBytes + 4 * (1 << 20));
    expect(cache.stats.peakBytes).toBeLessThanOrEqual(24 << 20);
    expect(cache.stats.aheadGets).toBeGreaterThan(0);
    // Each walk's pages mostly come from read-ahead, not from a GET per window.
    expect(c.gets.length).toBeLessThan(4 * 44);
    expect(cache.stats.fetchedBytes).toBeLessThan(4 * SIZE * 1.1);
    for (const s of srcs) await s.close();
  });

  it("random reads are not read ahead, and no read-ahead budget means none", async () => {
    const { c, store } = counting(fs);
    const cache = new RangeCache({ maxBytes: 16 << 20, readAheadBytes: 0 });
    const src = new StoreByteSource(store, "big", SIZE, cache);
    await walk(src, 1 << 20);
    expect(cache.stats.aheadGets).toBe(0);
    const other = new RangeCache();
    const r = new StoreByteSource(store, "big", SIZE, other);
    for (const at of [30 << 20, 2 << 20, 17 << 20, 9 << 20]) await r.read(at, 1000);
    expect(other.stats.aheadGets).toBe(0);
    expect(c.gets.length).toBeGreaterThan(0);
  });
});

describe("opening a block in place", () => {
  let dir: string;
  let fs: FsStore;
  const layout = new BucketLayout();
  const id = testUlid(7);
  let local: MemoryBlock;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-block-open-"));
    fs = new FsStore(dir);
    local = new MemoryBlock(id);
    await writeTestBlock(local, id, 400, 5, 256 << 10);
    await uploadBlock(fs, layout, "t", id, local);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("lists the block once instead of a HEAD per file, and reads the same series", async () => {
    const { c, store } = counting(fs);
    const src = new StoreBlockSource(store, layout.blockPrefix("t", id), RangeCache.forJob(1));
    const r = await BlockReader.open(src);
    expect(r.chunks.segments.length).toBeGreaterThan(1);
    expect(c.lists).toBe(1);
    expect(c.heads).toBe(0);
    await r.close();
    expect(await blockDigest(src)).toEqual(await blockDigest(local));
    expect(c.lists).toBe(1); // the listing is kept
    expect(await src.tryOpen("tombstones")).toBeUndefined();
  });

  it("reads an index's header, symbols, postings offset table and TOC in one round of GETs", async () => {
    const { c, store } = counting(fs);
    // 4 KiB pages: the index spans many, so each of its opening reads would be a GET of its own.
    const src = new StoreBlockSource(
      store,
      layout.blockPrefix("t", id),
      RangeCache.forJob(1, undefined, { pageSize: 4096 }),
    );
    const index = await src.open("index");
    expect(index.size).toBeGreaterThan(8 * 4096);
    const { IndexReader } = await import("@strata/tsdb");
    const before = c.gets.length;
    const ir = await IndexReader.open(index);
    // The first read fetched both ends at once (the whole of this small index): one round.
    expect(c.gets.length - before).toBeLessThanOrEqual(2);
    expect(ir.symbols.length).toBeGreaterThan(0);
    await ir.close();
  });
});

describe("read-ahead over the shaped emulator", () => {
  let emu: S3Emulator;
  let s3: S3Store;
  const SIZE = 16 << 20;

  beforeAll(async () => {
    emu = await startS3Emulator({ buckets: ["read-ahead"] });
    s3 = new S3Store({
      bucket: "read-ahead",
      clientConfig: { endpoint: emu.endpoint, credentials: { accessKeyId: "t", secretAccessKey: "t" } },
    });
    const w = await s3.createWriter("big");
    for (let at = 0; at < SIZE; at += 8 << 20) await w.write(new Uint8Array(8 << 20).fill(at >> 20));
    await w.close();
    await w.done;
    // Latency-bound, as S3 is for 1 MiB reads (exaggerated, so a busy CPU matters less): 100 ms
    // to the first byte, 1 MiB in 10 ms.
    emu.proxy.setShaping({ latencyMs: 100, bandwidthBytesPerSecond: 100e6 });
  });
  afterAll(async () => {
    await s3?.close();
    await emu?.stop();
  });

  it("S3Store.getInto fills the caller's buffers in order, and says absent or out of range as get does", async () => {
    const into = [new Uint8Array(3), new Uint8Array(70_000), new Uint8Array(1)];
    expect(await s3.getInto("big", { offset: (8 << 20) - 3, length: 70_004 }, into)).toBe(true);
    expect([...into[0]!]).toEqual([0, 0, 0]);
    expect(into[1]![0]).toBe(8);
    expect(into[2]![0]).toBe(8);
    expect(await s3.getInto("absent", { offset: 0, length: 1 }, [new Uint8Array(1)])).toBe(false);
    await expect(s3.getInto("big", { offset: SIZE - 1, length: 2 }, [new Uint8Array(2)])).rejects.toThrow(RangeError);
    await expect(s3.getInto("big", { offset: 0, length: 2 }, [new Uint8Array(1)])).rejects.toThrow(RangeError);
  });

  it("overlaps GETs: a walk takes far less time than one GET per window, measured side by side", async () => {
    const timed = async (cache: RangeCache) => {
      const src = new StoreByteSource(s3, "big", SIZE, cache);
      const t0 = performance.now();
      const got = await walk(src, 1 << 20);
      await src.close();
      expect(got[SIZE - 1]).toBe(8);
      return performance.now() - t0;
    };
    // One window after the other: 18 × (100 + 10) ms ≈ 2 s; ahead: two windows, then GETs at once (~0.6 s).
    const serial = await timed(new RangeCache({ maxBytes: 64 << 20, readAheadBytes: 0 }));
    const ahead = await timed(RangeCache.forJob(1));
    expect(serial).toBeGreaterThan(18 * 100);
    expect(ahead).toBeLessThan(0.6 * serial);
  });
});
