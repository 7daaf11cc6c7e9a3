// Limits on bucket-index.json.gz: a hostile or broken index is refused at bounded memory,
// with BucketIndexInvalidError naming the key, what was expected and what was found.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BucketIndexCorruptedError,
  BucketIndexInvalidError,
  BucketIndexReader,
  BucketIndexUpdater,
  DEFAULT_INDEX_LIMITS,
  FsStore,
  decodeIndex,
  encodeIndex,
  emptyIndex,
  type BucketIndex,
} from "../src/index.ts";
import { testUlid } from "./fixtures.ts";

const MiB = 1 << 20;
const CHILD = fileURLToPath(new URL("./helpers/decode-index-child.ts", import.meta.url));
const fixture = readFileSync(new URL("./fixtures/mimir-bucket-index.json", import.meta.url), "utf8");
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-index-limits-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface ChildReport {
  error?: { name: string; message: string };
  blocks?: number;
  rssBefore: number;
  peakRss: number;
  peakGrowth: number;
  arrayBuffersBefore: number;
  arrayBuffersAfter: number;
}

/** Decodes `gz` in a fresh process (so its peak RSS is this decode's alone). */
async function decodeInChild(name: string, gz: Uint8Array, limits: object = {}): Promise<ChildReport> {
  const file = join(dir, name);
  await writeFile(file, gz);
  const r = spawnSync(process.execPath, ["--expose-gc", CHILD, file, JSON.stringify(limits)], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`child exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildReport;
}

function indexOf(n: number): BucketIndex {
  const idx = emptyIndex();
  for (let i = 0; i < n; i++) idx.blocks.push({ block_id: testUlid(i + 1), min_time: 0, max_time: 1, uploaded_at: 1 });
  idx.updated_at = 1;
  return idx;
}

describe("bucket index limits", () => {
  it("has the documented defaults", () => {
    expect(DEFAULT_INDEX_LIMITS).toEqual({
      maxCompressedBytes: 64 * MiB,
      maxDecompressedBytes: 512 * MiB,
      maxEntries: 2_000_000,
    });
  });

  it("refuses an 8 KiB gzip bomb of 4M entries with peak RSS growth under 100 MB (it cost 2.7 GB)", async () => {
    const bombs = {
      numbers: `{"version":2,"blocks":[${"0,".repeat(4_000_000)}0],"block_deletion_marks":[],"updated_at":1}`,
      objects: `{"version":2,"blocks":[${"{},".repeat(4_000_000)}{}],"block_deletion_marks":[],"updated_at":1}`,
      marks: `{"version":2,"blocks":[],"block_deletion_marks":[${"[],".repeat(4_000_000)}[]],"updated_at":1}`,
    };
    for (const [name, json] of Object.entries(bombs)) {
      const gz = gzipSync(json, { level: 9 });
      expect(gz.length).toBeLessThan(12 * 1024);
      const r = await decodeInChild(`${name}.json.gz`, gz);
      expect(r.error?.name, name).toBe("BucketIndexInvalid");
      expect(r.error?.message).toBe(
        `${join(dir, `${name}.json.gz`)}: bucket index unreadable: expected at most 2000000 blocks and deletion marks (maxEntries), ` +
          `found more than 2000000 JSON array elements (blocks, deletion marks or others) in ${json.length} bytes of JSON; rebuild it with \`strata index rebuild\``,
      );
      expect(r.peakGrowth, `${name}: peak RSS ${r.peakRss >> 20} MB from ${r.rssBefore >> 20} MB`).toBeLessThan(
        100 * MiB,
      );
    }
  });

  it("under the entry limit, stops at the first bad entry instead of collecting an issue per entry", async () => {
    const json = `{"version":2,"blocks":[${"0,".repeat(1_900_000)}0],"block_deletion_marks":[],"updated_at":1}`;
    const r = await decodeInChild("numbers-under.json.gz", gzipSync(json, { level: 9 }));
    expect(r.error?.name).toBe("BucketIndexCorrupted");
    expect(r.error?.message).toMatch(
      /bucket index corrupted: blocks\.0: Invalid input: expected object, received number/,
    );
    expect(r.peakGrowth, `peak RSS ${r.peakRss >> 20} MB from ${r.rssBefore >> 20} MB`).toBeLessThan(100 * MiB);
  });

  it("stops inflating at maxDecompressedBytes instead of inflating first and checking after", async () => {
    const gz = gzipSync(Buffer.alloc(256 * MiB, 0x20), { level: 9 }); // 256 MiB of spaces in ~256 KiB
    const r = await decodeInChild("spaces.json.gz", gz, { maxDecompressedBytes: 4 * MiB });
    expect(r.error).toEqual({
      name: "BucketIndexInvalid",
      message:
        `${join(dir, "spaces.json.gz")}: bucket index unreadable: expected at most 4 MiB of JSON once decompressed (maxDecompressedBytes), ` +
        `found more (${gz.length} bytes of gzip; inflating stopped at the limit); rebuild it with \`strata index rebuild\``,
    });
    expect(r.peakGrowth, `peak RSS ${r.peakRss >> 20} MB from ${r.rssBefore >> 20} MB`).toBeLessThan(64 * MiB);
  });

  it("refuses an index over maxCompressedBytes, and one nested deeper than Mimir's", () => {
    const gz = encodeIndex(indexOf(3));
    const e = (() => {
      try {
        decodeIndex(gz, "s3://b/t/bucket-index.json.gz", { maxCompressedBytes: 100 });
      } catch (err) {
        return err as BucketIndexInvalidError;
      }
    })();
    expect(e).toBeInstanceOf(BucketIndexInvalidError);
    expect(e).not.toBeInstanceOf(BucketIndexCorruptedError);
    expect(e?.where).toBe("s3://b/t/bucket-index.json.gz");
    expect(e?.expected).toBe("at most 100 bytes of gzip (maxCompressedBytes)");
    expect(e?.found).toBe(`${gz.length} bytes`);
    expect(e?.message).toBe(
      `s3://b/t/bucket-index.json.gz: bucket index unreadable: expected at most 100 bytes of gzip (maxCompressedBytes), found ${gz.length} bytes; rebuild it with \`strata index rebuild\``,
    );
    expect(decodeIndex(gz, "x", { maxCompressedBytes: gz.length }).blocks).toHaveLength(3);
    const deep = gzipSync(`{"version":2,"blocks":${"[".repeat(40)}${"]".repeat(40)},"updated_at":1}`);
    expect(() => decodeIndex(deep, "x")).toThrow(
      /x: bucket index corrupted: not a bucket index: JSON nested deeper than 16 at byte/,
    );
    expect(() => decodeIndex(gzipSync(`[${"{},".repeat(10)}{}]`), "x")).toThrow(
      `x: bucket index corrupted: not a bucket index: expected a JSON object, found "[" at byte 0`,
    );
    expect(() => decodeIndex(gzipSync(" ".repeat(1000)), "x")).toThrow(
      "x: bucket index corrupted: not a bucket index: expected a JSON object, found only whitespace",
    );
  });

  it("counts blocks and deletion marks against maxEntries", () => {
    const idx = indexOf(8);
    idx.block_deletion_marks = [
      { block_id: testUlid(1), deletion_time: 1 },
      { block_id: testUlid(2), deletion_time: 1 },
    ];
    const gz = encodeIndex(idx);
    expect(decodeIndex(gz, "x", { maxEntries: 10 }).blocks).toHaveLength(8);
    expect(() => decodeIndex(gz, "x", { maxEntries: 9 })).toThrow(
      /^x: bucket index unreadable: expected at most 9 blocks and deletion marks \(maxEntries\), found more than 9 JSON array elements/,
    );
    // Array elements inside entries count too: they would be built by JSON.parse all the same.
    const nested = gzipSync(
      `{"version":2,"blocks":[{"labels":[${"{},".repeat(20)}{}]}],"block_deletion_marks":[],"updated_at":1}`,
    );
    expect(() => decodeIndex(nested, "x", { maxEntries: 10 })).toThrow(BucketIndexInvalidError);
  });

  it("still decodes Mimir's own index, with the same result as before", () => {
    const idx = decodeIndex(gzipSync(fixture), "mimir");
    expect(idx.blocks).toHaveLength(2);
    expect(idx.version).toBe(2);
    expect(decodeIndex(encodeIndex(idx), "again")).toEqual(idx);
    // Strings holding brackets, commas and escaped quotes do not disturb the count.
    const tricky = emptyIndex();
    tricky.blocks.push({
      block_id: testUlid(1),
      min_time: 0,
      max_time: 1,
      uploaded_at: 1,
      labels: { a: '[,],{,}"\\', b: "\\" },
      source: ",,,[[[",
    });
    expect(decodeIndex(encodeIndex(tricky), "x", { maxEntries: 1 }).blocks[0]!.labels).toEqual({
      a: '[,],{,}"\\',
      b: "\\",
    });
  });

  it("the updater and the reader take the limits and refuse an index over them", async () => {
    const store = new FsStore(join(dir, "bucket"));
    await store.put("t/bucket-index.json.gz", encodeIndex(indexOf(5)));
    const limits = { maxEntries: 4 };
    await expect(new BucketIndexUpdater(store, { limits }).read("t")).rejects.toBeInstanceOf(BucketIndexInvalidError);
    await expect(new BucketIndexReader(store, { limits }).getIndex("t")).rejects.toBeInstanceOf(
      BucketIndexInvalidError,
    );
    expect((await new BucketIndexUpdater(store).read("t"))?.index.blocks).toHaveLength(5);
    // A rebuild never reads the old index, so it replaces one that cannot be read.
    await store.put("t/bucket-index.json.gz", gzipSync(`{"version":2,"blocks":[${"0,".repeat(3_000_000)}0]}`));
    await expect(new BucketIndexUpdater(store).read("t")).rejects.toBeInstanceOf(BucketIndexInvalidError);
    await new BucketIndexUpdater(store).rebuild("t");
    expect((await new BucketIndexUpdater(store).read("t"))?.index.blocks).toEqual([]);
  });
});
