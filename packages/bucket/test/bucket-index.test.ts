import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseMeta } from "@strata/tsdb";
import {
  BucketIndexCorruptedError,
  BucketIndexReader,
  BucketIndexTooOldError,
  BucketIndexUpdater,
  BucketLayout,
  FsStore,
  blockFromMeta,
  decodeIndex,
  encodeIndex,
  indexJson,
  type BucketIndex,
} from "../src/index.ts";
import { metaJson, testUlid } from "./fixtures.ts";

const example = readFileSync(new URL("./fixtures/mimir-bucket-index.json", import.meta.url), "utf8");

describe("bucket index format", () => {
  it("writes Mimir's JSON byte for byte and gzips it with the header name bucket-index.json", () => {
    const idx = decodeIndex(gzipSync(example), "example");
    expect(idx.blocks.length).toBe(2);
    // Go's json.Marshal of the same struct: compact, struct field order (as in the example file).
    expect(indexJson(idx)).toBe(JSON.stringify(JSON.parse(example)));
    const gz = encodeIndex(idx);
    expect([gz[0], gz[1], gz[2]]).toEqual([0x1f, 0x8b, 8]);
    expect(gz[3]! & 0x08).toBe(0x08); // FNAME
    const nameEnd = gz.indexOf(0, 10);
    expect(Buffer.from(gz.subarray(10, nameEnd)).toString("latin1")).toBe("bucket-index.json");
    expect(gunzipSync(gz).toString("utf8")).toBe(indexJson(idx));
    expect(decodeIndex(gz, "x")).toEqual(idx);
  });

  it("maps meta.json to an index entry as Mimir does", () => {
    const id = testUlid(5);
    const m = parseMeta(metaJson(id, 1000, { level: 3, shard: "1_of_4", ooo: true, segments: 3 }));
    expect(blockFromMeta(m, 1700000000)).toEqual({
      block_id: id,
      min_time: 1000,
      max_time: 7_201_000,
      segments_format: "1b6d",
      segments_num: 3,
      uploaded_at: 1700000000,
      compactor_shard_id: "1_of_4",
      source: "compactor",
      compaction_level: 3,
      out_of_order: true,
      labels: { __compactor_shard_id__: "1_of_4", tenant: "t" },
    });
    const irregular = parseMeta(metaJson(id, 0));
    irregular.thanos!.segment_files = ["000002"];
    expect(blockFromMeta(irregular, 1).segments_format).toBeUndefined();
    // Files list instead of the deprecated segment_files; labels sort like a Go map.
    const viaFiles = parseMeta(metaJson(id, 0));
    viaFiles.thanos!.segment_files = undefined;
    viaFiles.thanos!.files = [
      { rel_path: "chunks/000001", size_bytes: 1 },
      { rel_path: "chunks/000002", size_bytes: 1 },
      { rel_path: "index", size_bytes: 1 },
    ];
    const b = blockFromMeta(viaFiles, 1);
    expect(b.segments_num).toBe(2);
    expect(
      indexJson({
        version: 2,
        blocks: [{ ...b, labels: { z: "<&>", a: "1" } }],
        block_deletion_marks: [],
        updated_at: 1,
      }),
    ).toContain('"labels":{"a":"1","z":"\\u003c\\u0026\\u003e"}');
  });

  it("accepts Cortex version 1 and null lists, and names what is wrong in a corrupted index", () => {
    const v1 = decodeIndex(
      gzipSync(JSON.stringify({ version: 1, blocks: null, block_deletion_marks: null, updated_at: 5 })),
      "v1",
    );
    expect(v1).toEqual({ version: 1, blocks: [], block_deletion_marks: [], updated_at: 5 });
    expect(() => decodeIndex(new Uint8Array([1, 2, 3]), "t/bucket-index.json.gz")).toThrow(
      /t\/bucket-index.json.gz: bucket index corrupted: not gzip/,
    );
    expect(() => decodeIndex(gzipSync("{"), "x")).toThrow(BucketIndexCorruptedError);
    expect(() =>
      decodeIndex(gzipSync(JSON.stringify({ version: 3, blocks: [], block_deletion_marks: [], updated_at: 1 })), "x"),
    ).toThrow(/version/);
    expect(() =>
      decodeIndex(
        gzipSync(
          JSON.stringify({
            version: 2,
            blocks: [{ block_id: "nope", min_time: 1, max_time: 2, uploaded_at: 3 }],
            block_deletion_marks: [],
            updated_at: 1,
          }),
        ),
        "x",
      ),
    ).toThrow(/blocks.0.block_id: not a ULID/);
  });
});

describe("bucket index reader", () => {
  let root: string;
  let store: FsStore;
  const layout = new BucketLayout();
  const HOUR = 3_600_000;
  let now = 1_800_000_000_000;
  const clock = () => now;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "strata-index-reader-"));
    store = new FsStore(root);
    const idx: BucketIndex = {
      version: 2,
      blocks: [
        { block_id: testUlid(1), min_time: 0, max_time: 100, uploaded_at: 1_700_000_000 },
        { block_id: testUlid(2), min_time: 100, max_time: 200, uploaded_at: 1_700_000_000 },
        { block_id: testUlid(3), min_time: 100, max_time: 200, uploaded_at: 1_700_000_000 },
        { block_id: testUlid(4), min_time: 200, max_time: 300, uploaded_at: now / 1000 - 60 },
      ],
      block_deletion_marks: [
        { block_id: testUlid(2), deletion_time: now / 1000 - 2 * 3600 }, // old mark: block dropped
        { block_id: testUlid(3), deletion_time: now / 1000 - 600 }, // young mark: returned with the block
      ],
      updated_at: now / 1000 - 60,
    };
    await store.put(layout.indexKey("t1"), encodeIndex(idx));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("returns the blocks of a time range with Mimir's deletion-mark handling", async () => {
    const r = new BucketIndexReader(store, { now: clock });
    const all = await r.getBlocks("t1", 0, 1000);
    expect(all.blocks.map((b) => b.block_id).sort()).toEqual([testUlid(1), testUlid(3), testUlid(4)]);
    expect([...all.deletionMarks.keys()]).toEqual([testUlid(3)]);
    // [min, max) blocks against an inclusive query range.
    expect((await r.getBlocks("t1", 100, 100)).blocks.map((b) => b.block_id)).toEqual([testUlid(3)]);
    expect((await r.getBlocks("t1", 99, 99)).blocks.map((b) => b.block_id)).toEqual([testUlid(1)]);
    const recent = new BucketIndexReader(store, { now: clock, ignoreUploadedWithinMs: HOUR });
    expect((await recent.getBlocks("t1", 0, 1000)).blocks.map((b) => b.block_id)).not.toContain(testUlid(4));
    await expect(r.getBlocks("t1", 10, 5)).rejects.toThrow(RangeError);
    expect(await r.getBlocks("new-tenant", 0, 1)).toEqual({ blocks: [], deletionMarks: new Map() });
  });

  it("refuses an index older than the maximum staleness, with a clear error", async () => {
    const r = new BucketIndexReader(store, { now: clock, maxStalenessMs: HOUR });
    now += 2 * HOUR;
    try {
      const err = await r.getBlocks("t1", 0, 1000).catch((e) => e);
      expect(err).toBeInstanceOf(BucketIndexTooOldError);
      expect(String(err.message)).toMatch(
        /tenant t1: the bucket index is too old: last updated at 2027-01-15T07:59:00.000Z/,
      );
    } finally {
      now -= 2 * HOUR;
    }
  });

  it("caches, refreshes after the interval, and keeps serving the cached index if a refresh fails", async () => {
    let gets = 0;
    const counting = new Proxy(store, {
      get: (t, p, rcv) =>
        p === "get" ? (...a: Parameters<FsStore["get"]>) => (gets++, t.get(...a)) : Reflect.get(t, p, rcv),
    });
    const r = new BucketIndexReader(counting, { now: clock, refreshIntervalMs: 1000 });
    await Promise.all([r.getIndex("t1"), r.getIndex("t1")]);
    expect(gets).toBe(1);
    await r.getIndex("t1");
    expect(gets).toBe(1);
    now += 2000;
    await r.getIndex("t1");
    expect(gets).toBe(2);
    const broken = new BucketIndexReader(
      new Proxy(store, {
        get: (t, p, rcv) =>
          p === "get" && gets++ > 2 ? () => Promise.reject(new Error("network down")) : Reflect.get(t, p, rcv),
      }),
      { now: clock, refreshIntervalMs: 1000 },
    );
    const first = await broken.getIndex("t1");
    now += 2000;
    expect(await broken.getIndex("t1")).toBe(first);
  });

  it("sees what the updater writes", async () => {
    const up = new BucketIndexUpdater(store, { layout, now: clock });
    const id = testUlid(42);
    await store.put(layout.metaKey("t2", id), metaJson(id, 0));
    await up.addBlock("t2", id);
    const r = new BucketIndexReader(store, { now: clock });
    expect((await r.getBlocks("t2", 0, 10)).blocks.map((b) => b.block_id)).toEqual([id]);
    await store.put(layout.indexKey("t3"), "not gzip");
    await store.put(layout.metaKey("t3", id), metaJson(id, 0));
    await expect(new BucketIndexReader(store).getIndex("t3")).rejects.toThrow(/rebuild it with `strata index rebuild`/);
    await expect(up.addBlock("t3", id)).rejects.toBeInstanceOf(BucketIndexCorruptedError);
  });
});
