// The bucket index at scale: the incremental codec against the reference encoder and decoder,
// batched updates in one round, and a re-sync that lands among concurrent writers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoStruct, goMarshal } from "@strata/tsdb";
import {
  BucketIndexInvalidError,
  BucketIndexUpdater,
  BucketLayout,
  FsStore,
  IndexCodec,
  applyEdit,
  decodeIndex,
  emptyIndex,
  encodeIndex,
  indexJson,
  mergeRebuilt,
  normalizeIndex,
  type BucketIndex,
  type IndexBlock,
  type ObjectStore,
} from "../src/index.ts";
import { metaJson, rng, testUlid } from "./fixtures.ts";

const VALUES = ["eu-west-1", "a<b>&c", 'q"uote\\', "\u2028line", "été", "\u{1F600}", "tab\there", ""];

function randomIndex(n: number, seed: number): BucketIndex {
  const r = rng(seed);
  const idx = emptyIndex();
  for (let i = 0; i < n; i++) {
    const b: IndexBlock = {
      block_id: testUlid(i + 1),
      min_time: 1_700_000_000_000 + i * 7_200_000,
      max_time: 1_700_000_000_000 + (i + 1) * 7_200_000,
      uploaded_at: 1_700_000_000 + i,
    };
    if (r() < 0.8) {
      b.segments_format = "1b6d";
      b.segments_num = 1 + Math.floor(r() * 4);
    }
    if (r() < 0.5) b.source = "compactor";
    if (r() < 0.7) b.compaction_level = 1 + Math.floor(r() * 4);
    if (r() < 0.2) b.compactor_shard_id = "1_of_4";
    if (r() < 0.1) b.out_of_order = true;
    if (r() < 0.1) b.parquet = r() < 0.5 ? { version: 2, shards: 1 + Math.floor(r() * 3) } : { version: 1 };
    if (r() < 0.9) {
      b.labels = {};
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++)
        b.labels[`l${Math.floor(r() * 6)}`] = VALUES[Math.floor(r() * VALUES.length)]!;
    }
    idx.blocks.push(b);
  }
  for (let i = 0; i < n; i += 7)
    idx.block_deletion_marks.push({ block_id: testUlid(i + 1), deletion_time: 1_700_000_000 + i });
  idx.updated_at = 1_700_000_123;
  return normalizeIndex(idx);
}

/** The index through the generic Go marshaller: an independent check of the entry writers. */
function goReference(idx: BucketIndex): string {
  const block = (b: IndexBlock) => {
    const o = new GoStruct().set("block_id", b.block_id).set("min_time", b.min_time).set("max_time", b.max_time);
    if (b.segments_format) o.set("segments_format", b.segments_format);
    if (b.segments_num) o.set("segments_num", b.segments_num);
    o.set("uploaded_at", b.uploaded_at);
    if (b.compactor_shard_id) o.set("compactor_shard_id", b.compactor_shard_id);
    if (b.source) o.set("source", b.source);
    if (b.compaction_level) o.set("compaction_level", b.compaction_level);
    if (b.out_of_order) o.set("out_of_order", true);
    if (b.labels && Object.keys(b.labels).length > 0) o.set("labels", b.labels);
    if (b.parquet) {
      const p = new GoStruct().set("version", b.parquet.version);
      if (b.parquet.shards) p.set("shards", b.parquet.shards);
      o.set("parquet", p);
    }
    return o;
  };
  return goMarshal(
    new GoStruct()
      .set("version", idx.version)
      .set("blocks", idx.blocks.map(block))
      .set(
        "block_deletion_marks",
        idx.block_deletion_marks.map((m) =>
          new GoStruct().set("block_id", m.block_id).set("deletion_time", m.deletion_time),
        ),
      )
      .set("updated_at", idx.updated_at),
  );
}

describe("incremental index codec", () => {
  it("writes exactly the reference JSON, and reads what the reference decoder reads", () => {
    const idx = randomIndex(500, 1);
    const codec = new IndexCodec();
    const bytes = codec.encode(idx);
    expect(gunzipSync(bytes).toString("utf8")).toBe(indexJson(idx));
    expect(indexJson(idx)).toBe(goReference(idx));
    const ref = decodeIndex(encodeIndex(idx), "ref");
    expect(codec.decode(bytes, "x", "t")).toEqual(ref);
    expect(codec.decode(encodeIndex(idx), "x", "t")).toEqual(ref);
    // Go's null lists, as an index without blocks may be written.
    const nulls = gzipSync('{"version":2,"blocks":null,"block_deletion_marks":null,"updated_at":5}');
    expect(codec.decode(nulls, "x", "t")).toEqual({ version: 2, blocks: [], block_deletion_marks: [], updated_at: 5 });
  });

  it("validates an entry once: the next read of the same text is the same frozen object", () => {
    const idx = randomIndex(200, 2);
    const codec = new IndexCodec();
    const first = codec.decode(codec.encode(idx), "x", "t");
    expect(Object.isFrozen(first.blocks[0])).toBe(true);
    const changed = { ...first, blocks: [...first.blocks] };
    changed.blocks[3] = { ...first.blocks[3]!, uploaded_at: 42 };
    const second = codec.decode(codec.encode(changed), "x", "t");
    expect(second.blocks[0]).toBe(first.blocks[0]);
    expect(second.blocks[3]).not.toBe(first.blocks[3]);
    expect(second.blocks[3]!.uploaded_at).toBe(42);
    // Another tenant's cache is its own.
    expect(codec.decode(codec.encode(idx), "x", "u").blocks[0]).not.toBe(first.blocks[0]);
  });

  it("reads a foreign writer's layout (whitespace, other key order) through the full decoder", () => {
    const idx = randomIndex(50, 3);
    const pretty = JSON.stringify(JSON.parse(indexJson(idx)), null, 2);
    const reordered = JSON.stringify({ updated_at: idx.updated_at, ...JSON.parse(indexJson(idx)) });
    const codec = new IndexCodec();
    for (const text of [pretty, reordered])
      expect(codec.decode(gzipSync(text), "x", "t")).toEqual(decodeIndex(gzipSync(text), "x"));
  });

  it("refuses what the reference decoder refuses, with the same error", () => {
    const good = indexJson(randomIndex(20, 4));
    const bad = [
      good.replace(testUlid(5), "not-a-ulid-at-all-xxxxxxxx"),
      good.replace('"min_time":', '"min_time":"x",' + '"ignored":'),
      good.slice(0, -1),
      good.replace('"version":2', '"version":3'),
      good.replace('"labels":{', '"labels":{"deep":{"x":{"y":{}}},'),
    ];
    for (const text of bad) {
      const body = gzipSync(text);
      const ref = (() => {
        try {
          decodeIndex(body, "w");
          return undefined;
        } catch (e) {
          return e as Error;
        }
      })();
      expect(ref).toBeInstanceOf(BucketIndexInvalidError);
      expect(() => new IndexCodec().decode(body, "w", "t")).toThrow(ref!.message);
    }
    const many = gzipSync(indexJson(randomIndex(30, 5)));
    expect(() => new IndexCodec({ limits: { maxEntries: 10 } }).decode(many, "w", "t")).toThrow(/maxEntries/);
  });

  it("keeps at most maxCachedEntries across tenants, and still decodes a tenant too big to keep", () => {
    const codec = new IndexCodec({ maxCachedEntries: 150 });
    const a = codec.encode(randomIndex(100, 6));
    const b = codec.encode(randomIndex(100, 7));
    const a1 = codec.decode(a, "x", "a");
    expect(codec.decode(a, "x", "a").blocks[0]).toBe(a1.blocks[0]);
    codec.decode(b, "x", "b"); // evicts a
    expect(codec.decode(a, "x", "a").blocks[0]).not.toBe(a1.blocks[0]);
    const big = codec.encode(randomIndex(400, 8));
    expect(codec.decode(big, "x", "c").blocks).toHaveLength(400);
  });
});

describe("batched updates and merged re-syncs", () => {
  let dir: string;
  let store: FsStore;
  const layout = new BucketLayout();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-index-scale-"));
    store = new FsStore(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("applies adds, marks and removals in one compare-and-swap round", async () => {
    const up = new BucketIndexUpdater(store, { layout });
    const entry = (i: number): IndexBlock => ({ block_id: testUlid(i), min_time: 0, max_time: 1, uploaded_at: 1 });
    await up.apply("batch", { add: [entry(1), entry(2), entry(3)] });
    const r = await up.apply("batch", {
      add: [entry(4), entry(1)],
      mark: [{ block_id: testUlid(2), deletion_time: 9 }],
      remove: [testUlid(3)],
    });
    expect(r.attempts).toBe(1);
    expect(r.index.blocks.map((b) => b.block_id)).toEqual([1, 2, 4].map((i) => testUlid(i)));
    expect(r.index.block_deletion_marks).toEqual([{ block_id: testUlid(2), deletion_time: 9 }]);
    expect((await up.apply("batch", { add: [entry(4)] })).changed).toBe(false);
  });

  it("merges a rebuild with what others changed since it listed", () => {
    const e = (i: number): IndexBlock => ({ block_id: testUlid(i), min_time: 0, max_time: 1, uploaded_at: 1 });
    const base = { ...emptyIndex(), blocks: [e(1), e(2), e(3)] };
    // The listing: 3's meta.json gone, 9 found (an upload whose event was missed).
    const scanned = { ...emptyIndex(), blocks: [e(1), e(2), e(9)] };
    // Meanwhile: 2 removed (cleanup), 5 added (a compaction output).
    const current = { ...emptyIndex(), blocks: [e(1), e(3), e(5)] };
    const m = mergeRebuilt(base, scanned, current);
    expect(m.index.blocks.map((b) => b.block_id).sort()).toEqual([1, 5, 9].map((i) => testUlid(i)));
    expect(m.freshBlocks).toEqual([testUlid(9)]);
    // An entry another writer changed meanwhile (its parquet field) keeps the change.
    const converted = { ...e(1), parquet: { version: 2, shards: 1 } };
    const withField = mergeRebuilt(base, scanned, { ...current, blocks: [converted, e(3), e(5)] });
    expect(withField.index.blocks.find((b) => b.block_id === testUlid(1))).toEqual(converted);
    expect(applyEdit(m.index, { remove: [testUlid(9)] })).toBe(true);
  });

  it("a re-sync lands under 20 concurrent writers, keeping their changes and the listing's", async () => {
    const tenant = "busy";
    const up = new BucketIndexUpdater(store, { layout, baseDelayMs: 2, maxDelayMs: 50 });
    // 40 indexed blocks, 10 more uploaded whose events were missed.
    for (let i = 1; i <= 50; i++)
      await store.put(layout.metaKey(tenant, testUlid(i)), metaJson(testUlid(i), i * 7_200_000));
    for (let i = 1; i <= 40; i++) await up.addBlock(tenant, testUlid(i));
    // Slow listings: the writers get in between the rebuild's read and its write.
    const slow: ObjectStore = Object.assign(Object.create(store) as FsStore, {
      list: async (...a: Parameters<FsStore["list"]>) => {
        await new Promise((r) => setTimeout(r, 20));
        return store.list(...a);
      },
    });
    const resync = new BucketIndexUpdater(slow, { layout, baseDelayMs: 2, maxDelayMs: 50 });
    const writers = Array.from({ length: 20 }, async (_, w) => {
      const writer = new BucketIndexUpdater(store, { layout, baseDelayMs: 2, maxDelayMs: 50, maxAttempts: 200 });
      for (let k = 0; k < 3; k++) {
        const id = testUlid(1000 + w * 10 + k);
        await store.put(layout.metaKey(tenant, id), metaJson(id, 0));
        await writer.addBlock(tenant, id);
      }
      if (w < 5) await writer.removeBlock(tenant, testUlid(w + 1)); // cleanup of blocks 1..5
    });
    const [outcome] = await Promise.all([resync.rebuild(tenant), ...writers]);
    expect(outcome.attempts).toBeGreaterThan(1); // it met the writers and merged
    const final = (await up.read(tenant))!.index.blocks.map((b) => b.block_id);
    for (let w = 0; w < 20; w++) for (let k = 0; k < 3; k++) expect(final).toContain(testUlid(1000 + w * 10 + k));
    for (let i = 1; i <= 5; i++) expect(final).not.toContain(testUlid(i));
    for (let i = 6; i <= 50; i++) expect(final).toContain(testUlid(i));
    expect(final).toHaveLength(45 + 60);
  });

  it("a block only the listing saw is written only while its files are still there", async () => {
    const tenant = "quarantine-race";
    const up = new BucketIndexUpdater(store, { layout });
    const x = testUlid(77);
    const y = testUlid(78);
    for (const id of [x, y]) {
      await store.put(layout.metaKey(tenant, id), metaJson(id, 0));
      await store.put(layout.blockFile(tenant, id, "verified.json"), "{}");
    }
    await up.apply(tenant, {});
    const base = await up.readForRebuild(tenant);
    const scan = await up.scan(tenant, { base: base.index });
    expect(scan.index.blocks.map((b) => b.block_id)).toEqual([x, y]);
    // Meanwhile another writer changes the index, and x loses its verification record.
    await up.apply(tenant, { mark: [{ block_id: testUlid(1), deletion_time: 1 }] });
    await store.delete(layout.blockFile(tenant, x, "verified.json"));
    const r = await up.commitRebuild(tenant, base, scan.index, { requireFiles: ["verified.json"] });
    expect(r.attempts).toBe(2);
    expect(r.index.blocks.map((b) => b.block_id)).toEqual([y]);
    expect(r.index.block_deletion_marks.map((m) => m.block_id)).toEqual([testUlid(1)]);
  });

  it("records Cortex's parquet field: set and cleared by an edit, and found by a re-sync from the marks' mirrors", async () => {
    const tenant = "parquet";
    const up = new BucketIndexUpdater(store, { layout });
    const [a, b, c] = [testUlid(201), testUlid(202), testUlid(203)];
    for (const id of [a, b, c]) await store.put(layout.metaKey(tenant, id), metaJson(id, 0));
    for (const id of [a, b, c]) await up.addBlock(tenant, id);
    let r = await up.apply(tenant, { parquet: [{ block_id: a, parquet: { version: 2, shards: 2 } }] });
    expect(r.index.blocks.find((x) => x.block_id === a)!.parquet).toEqual({ version: 2, shards: 2 });
    expect(gunzipSync((await store.get(layout.indexKey(tenant)))!.body).toString()).toContain(
      '"parquet":{"version":2,"shards":2}',
    );
    expect((await up.apply(tenant, { parquet: [{ block_id: a, parquet: { version: 2, shards: 2 } }] })).changed).toBe(
      false,
    );
    // The bucket: b's mark mirrored (version 2, one shard), a's mirror gone, c's mirror not a mark.
    await store.put(layout.parquetMarkerKey(tenant, b), '{"version":2,"shards":1}');
    await store.put(layout.parquetMarkerKey(tenant, c), "not json");
    r = await up.rebuild(tenant);
    const byId = new Map(r.index.blocks.map((x) => [x.block_id, x.parquet]));
    expect([byId.get(a), byId.get(b), byId.get(c)]).toEqual([undefined, { version: 2, shards: 1 }, undefined]);
    r = await up.apply(tenant, { parquet: [{ block_id: b, parquet: null }] });
    expect(r.index.blocks.find((x) => x.block_id === b)!.parquet).toBeUndefined();
  });
});
