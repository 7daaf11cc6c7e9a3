import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Chunk, ChunkMeta } from "../src/chunkenc/chunk.ts";
import {
  chunkRefOffset,
  chunkRefSegment,
  DEFAULT_SEGMENT_SIZE,
  MAGIC_CHUNKS,
  packChunkRef,
  parseSegmentFileName,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
} from "../src/chunks/format.ts";
import { ChunkReader } from "../src/chunks/reader.ts";
import { ChunkWriter } from "../src/chunks/writer.ts";
import { chunkRecordCrcOk, chunkRecordSize, writeChunkRecord } from "../src/chunks/record.ts";
import { crc32c } from "../src/encoding/crc32c.ts";
import { FormatError } from "../src/encoding/errors.ts";
import { concat, MemoryBlock } from "../src/encoding/memory-block.ts";
import type { BlockSink, BlockSource, ByteSink, ByteSource } from "../src/encoding/source.ts";
import { mulberry32 } from "@strata/testkit";

function unhex(s: string): Uint8Array {
  const h = s.replace(/[^0-9a-fA-F]/g, "");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Byte equality without vitest's per-element deep diff (slow on large arrays). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function randomChunk(rnd: () => number, maxLen: number): Chunk {
  const data = new Uint8Array(Math.floor(rnd() * maxLen));
  for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
  return { encoding: 1 + ((rnd() * 3) | 0), data };
}

/** A BlockSource over a MemoryBlock that records every read. */
class CountingBlock implements BlockSource {
  readonly name = "counting";
  readonly reads: { file: string; offset: number; length: number }[] = [];
  readonly inner: MemoryBlock;
  maxRead = Infinity;
  /** Offer readInto (what enables read-ahead), as files and object stores do. */
  withReadInto = false;
  constructor(inner: MemoryBlock) {
    this.inner = inner;
  }
  async open(rel: string): Promise<ByteSource> {
    const s = await this.inner.open(rel);
    const read = async (offset: number, length: number) => {
      if (length > this.maxRead) throw new Error(`read of ${length} bytes exceeds the test's limit`);
      this.reads.push({ file: rel, offset, length });
      return s.read(offset, length);
    };
    if (!this.withReadInto) return { size: s.size, read };
    return {
      size: s.size,
      read,
      readInto: async (offset: number, dst: Uint8Array) => dst.set(await read(offset, dst.length)),
    };
  }
  async tryOpen(rel: string): Promise<ByteSource | undefined> {
    return this.inner.files.has(rel) ? this.open(rel) : undefined;
  }
  listChunkFiles(): Promise<string[]> {
    return this.inner.listChunkFiles();
  }
}

/** A BlockSink over a MemoryBlock counting write calls. */
class CountingSink implements BlockSink {
  writes = 0;
  readonly inner = new MemoryBlock();
  async create(rel: string): Promise<ByteSink> {
    const s = await this.inner.create(rel);
    return {
      write: async (b) => {
        this.writes++;
        await s.write(b);
      },
      close: () => s.close(),
    };
  }
}

async function expectFormatError(
  p: Promise<unknown>,
  code: string,
  file?: string,
  offset?: number,
): Promise<FormatError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FormatError);
  const fe = e as FormatError;
  expect(fe.code).toBe(code);
  if (file !== undefined) expect(fe.file).toBe(file);
  if (offset !== undefined) expect(fe.offset).toBe(offset);
  return fe;
}

function segmentWith(...records: Uint8Array[]): Uint8Array {
  return concat([unhex("85BD40DD 01 000000"), ...records]);
}

function blockOf(files: Record<string, Uint8Array>): MemoryBlock {
  const b = new MemoryBlock();
  for (const [k, v] of Object.entries(files)) b.files.set(k, v);
  return b;
}

// The §12 reference XOR chunk: (1000, 1.0), (2000, 1.0), (3000, 2.0).
const XOR_DATA = unhex("00 03 D0 0F 3F F0 00 00 00 00 00 00 E8 07 30 97 FF C0");
const XOR_RECORD = unhex("12 01 00 03 D0 0F 3F F0 00 00 00 00 00 00 E8 07 30 97 FF C0 79 61 73 68");

describe("chunk refs and segment names", () => {
  it("packs segment index and offset without 32-bit overflow", () => {
    expect(packChunkRef(0, 8)).toBe(8);
    expect(packChunkRef(1, 8)).toBe(4294967304);
    const big = packChunkRef(2 ** 21 - 1, 0xffffffff);
    expect(chunkRefSegment(big)).toBe(2 ** 21 - 1);
    expect(chunkRefOffset(big)).toBe(0xffffffff);
    expect(Number.isSafeInteger(big)).toBe(true);
    expect(() => packChunkRef(2 ** 21, 0)).toThrow(RangeError);
    expect(() => packChunkRef(0, 2 ** 32)).toThrow(RangeError);
  });

  it("names segments like Go's %0.6d and parses like strconv.ParseUint", () => {
    expect(segmentFileName(1)).toBe("000001");
    expect(segmentFileName(123456)).toBe("123456");
    expect(segmentFileName(1234567)).toBe("1234567");
    expect(parseSegmentFileName("000001")).toBe(1);
    expect(parseSegmentFileName("0000000000000000000000042")).toBe(42);
    expect(parseSegmentFileName("18446744073709551615")).toBeDefined();
    for (const bad of [
      "",
      "abc",
      "-1",
      "+1",
      "1.0",
      "0x1",
      "000001.tmp",
      "1_000",
      "18446744073709551616",
      "99999999999999999999",
    ]) {
      expect(parseSegmentFileName(bad)).toBeUndefined();
    }
  });
});

describe("ChunkWriter / ChunkReader", () => {
  it("writes the reference XOR record byte for byte and reads it back", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    const ref = await w.write({ encoding: 1, data: XOR_DATA });
    expect(ref).toBe(8);
    expect(await w.close()).toEqual([{ name: "000001", size: 8 + XOR_RECORD.length }]);
    expect(blk.files.get("chunks/000001")).toEqual(segmentWith(XOR_RECORD));
    // The stored CRC covers encoding byte + data.
    expect(crc32c(XOR_RECORD, 1, XOR_RECORD.length - 4)).toBe(0x79617368);

    const r = await ChunkReader.open(blk);
    const c = await r.chunk(ref);
    expect(c.encoding).toBe(1);
    expect(c.data).toEqual(XOR_DATA);
    await r.close();
  });

  it("reproduces Prometheus' testdata segment (index_format_v1/chunks/000001)", async () => {
    // 102 legacy one-sample chunks, each `0c 01 | 00 01 00×10 | 1b f8 6a 40`: 1844 bytes.
    const rec = unhex("0c 01 0001 00000000000000000000 1bf86a40");
    const expected = segmentWith(...Array.from({ length: 102 }, () => rec));
    expect(expected.length).toBe(1844);

    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    const refs: number[] = [];
    for (let i = 0; i < 102; i++) refs.push(await w.write({ encoding: 1, data: rec.subarray(2, 14) }));
    await w.close();
    expect(blk.files.get("chunks/000001")).toEqual(expected);
    expect(refs).toEqual(Array.from({ length: 102 }, (_, i) => 8 + 18 * i));

    const r = await ChunkReader.open(blk);
    for (const ref of refs) expect((await r.chunk(ref)).data).toEqual(rec.subarray(2, 14));
  });

  it("creates no segment when nothing is written", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    await w.writeChunks([]);
    expect(await w.close()).toEqual([]);
    expect(blk.files.size).toBe(0);
    const r = await ChunkReader.open(blk);
    expect(r.segments).toEqual([]);
    await expectFormatError(r.chunk(8), "invalid-size", "chunks");
  });

  it("round-trips random chunks across segments and windows (seeded)", async () => {
    for (const seed of [1, 2, 3]) {
      const rnd = mulberry32(seed);
      const sink = new CountingSink();
      const segmentSize = 20_000 + Math.floor(rnd() * 20_000);
      const w = new ChunkWriter(sink, { segmentSize, bufferSize: 4096 });
      const chunks: Chunk[] = [];
      const refs: number[] = [];
      for (let s = 0; s < 150; s++) {
        const metas: ChunkMeta[] = [];
        const n = 1 + Math.floor(rnd() * 4);
        for (let i = 0; i < n; i++) {
          // Mostly small chunks, sometimes one larger than a reader window or a whole segment.
          const big = rnd() < 0.02;
          const c = randomChunk(rnd, big ? 50_000 : 600);
          chunks.push(c);
          metas.push({ ref: 0, minTime: 0, maxTime: 0, chunk: c });
        }
        await w.writeChunks(metas);
        for (const m of metas) refs.push(m.ref);
      }
      const segs = await w.close();
      expect(segs.map((x) => x.name)).toEqual(segs.map((_, i) => segmentFileName(i + 1)));
      for (const [i, sg] of segs.entries()) {
        const bytes = sink.inner.files.get(`chunks/${sg.name}`)!;
        expect(bytes.length).toBe(sg.size);
        expect(sg.size).toBeGreaterThan(SEGMENT_HEADER_SIZE); // no empty segments
        // Only a segment holding a single oversized chunk may exceed the target.
        if (sg.size > segmentSize) expect(refs.filter((r) => chunkRefSegment(r) === i).length).toBe(1);
      }
      for (let i = 1; i < refs.length; i++) expect(refs[i]).toBeGreaterThan(refs[i - 1]!); // strictly increasing

      const src = new CountingBlock(sink.inner);
      const windowSize = 8192;
      const r = await ChunkReader.open(src, { windowSize });
      expect(r.segments).toEqual(segs);
      for (let i = 0; i < refs.length; i++) {
        const c = await r.chunk(refs[i]!);
        expect(c.encoding).toBe(chunks[i]!.encoding);
        expect(sameBytes(c.data, chunks[i]!.data)).toBe(true);
      }
      // Reads: one header per segment, then never more than one window per window's worth
      // of bytes, plus one per record larger than the window.
      const total = segs.reduce((a, s) => a + s.size, 0);
      const bigRecords = chunks.filter((c) => c.data.length + 10 > windowSize).length;
      const dataReads = src.reads.length - segs.length;
      expect(dataReads).toBeLessThanOrEqual(Math.ceil(total / (windowSize - 700)) + 2 * bigRecords + segs.length);
      for (const rd of src.reads) expect(rd.length <= windowSize || rd.offset >= SEGMENT_HEADER_SIZE).toBe(true);
      await r.close();
    }
  });

  it("coalesces sink writes instead of one per chunk", async () => {
    const sink = new CountingSink();
    const w = new ChunkWriter(sink);
    const data = new Uint8Array(100).fill(7);
    for (let i = 0; i < 5000; i++) await w.write({ encoding: 1, data });
    await w.close();
    // 5000 × 106 bytes ≈ 530 KB: a single buffer flush.
    expect(sink.writes).toBe(1);
    expect(sink.inner.files.get("chunks/000001")!.length).toBe(8 + 5000 * 106);
  });

  it("reads increasing refs with one source read per window", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    const refs: number[] = [];
    const data = new Uint8Array(94).fill(3); // 100-byte records
    for (let i = 0; i < 1000; i++) refs.push(await w.write({ encoding: 1, data }));
    await w.close();
    const src = new CountingBlock(blk);
    src.maxRead = 10_000;
    const r = await ChunkReader.open(src, { windowSize: 10_000 });
    for (const ref of refs) await r.chunk(ref);
    // 100 008 bytes / 10 000-byte windows; windows start at a record, so ≤ 11 data reads.
    expect(src.reads.length - 1).toBeLessThanOrEqual(11);
    expect(src.reads.length - 1).toBeGreaterThanOrEqual(10);
  });

  it("walks with the windows it read ahead, also when a record straddles a window's end", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    const refs: number[] = [];
    const data = new Uint8Array(997).fill(5); // 1004-byte records: window ends fall inside records
    for (let i = 0; i < 1000; i++) refs.push(await w.write({ encoding: 1, data }));
    await w.close();
    const src = new CountingBlock(blk);
    src.withReadInto = true;
    const windowSize = 100_000;
    const r = await ChunkReader.open(src, { windowSize });
    for (const ref of refs) await r.chunk(ref);
    const data_ = src.reads.filter((x) => x.offset > 0 || x.length > 8);
    // Each window after the first is the one read ahead: it starts 64 KiB before the end of
    // the previous one. A discarded read-ahead would show as a second read at a record start.
    for (let i = 1; i < data_.length; i++)
      expect(data_[i]!.offset).toBe(data_[i - 1]!.offset + data_[i - 1]!.length - 65_536);
    const size = blk.files.get("chunks/000001")!.length;
    expect(data_[data_.length - 1]!.offset + data_[data_.length - 1]!.length).toBe(size);
    expect(data_.length).toBe(1 + Math.ceil((size - 8 - windowSize) / (windowSize - 65_536)));
  });

  it("gives records longer than the window their own read", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    const small = new Uint8Array(10).fill(1);
    const huge = new Uint8Array(300_000).map((_, i) => i & 0xff);
    const r1 = await w.write({ encoding: 1, data: small });
    const r2 = await w.write({ encoding: 2, data: huge });
    const r3 = await w.write({ encoding: 1, data: small });
    await w.close();
    const src = new CountingBlock(blk);
    const r = await ChunkReader.open(src, { windowSize: 4096 });
    expect((await r.chunk(r1)).data).toEqual(small);
    expect(sameBytes((await r.chunk(r2)).data, huge)).toBe(true);
    expect((await r.chunk(r3)).data).toEqual(small);
    const lens = src.reads.map((x) => x.length);
    expect(lens).toContain(chunkRecordLen(huge.length));
    expect(Math.max(...lens.filter((l) => l !== chunkRecordLen(huge.length)))).toBeLessThanOrEqual(4096);
  });
});

function chunkRecordLen(n: number): number {
  let v = 1;
  for (let x = n; x >= 0x80; x = Math.floor(x / 128)) v++;
  return v + 1 + n + 4;
}

describe("segment cutting follows Prometheus WriteChunks", () => {
  const data100 = new Uint8Array(100); // record = 1 + 1 + 100 + 4 = 106, budget = 110

  async function layout(segmentSize: number, calls: number[]): Promise<number[]> {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk, { segmentSize });
    for (const n of calls) {
      await w.writeChunks(
        Array.from({ length: n }, () => ({ ref: 0, minTime: 0, maxTime: 0, chunk: { encoding: 1, data: data100 } })),
      );
    }
    return (await w.close()).map((s) => (s.size - 8) / 106);
  }

  it("budgets 5 length bytes per chunk, so a segment may end short of the limit", async () => {
    // One chunk per call: the k-th chunk fits while 8 + 106(k-1) + 110 ≤ size.
    expect(await layout(8 + 3 * 110, [1, 1, 1, 1, 1, 1, 1])).toEqual([3, 3, 1]);
    // Exactly 3 records would fit (326 bytes), but the budget of the third says 330.
    expect(await layout(8 + 3 * 106, [1, 1, 1, 1, 1, 1])).toEqual([2, 2, 2]);
  });

  it("measures a multi-chunk call by budget sums, not by bytes written", async () => {
    // One call of 3 on a fresh segment: 3 × 110 + 8 = 338 > 330 → cut before the third.
    expect(await layout(330, [3])).toEqual([2, 1]);
    // The same chunks in 3 calls: 220 + 110 = 330 ≤ 330 → all three fit.
    expect(await layout(330, [1, 1, 1])).toEqual([3]);
    // With data already in the segment, the first batch counts from the bytes written.
    expect(await layout(330, [1, 2])).toEqual([2, 1]);
  });

  it("puts an oversized chunk alone in a segment and never writes an empty one", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk, { segmentSize: 100 });
    const refs = [
      await w.write({ encoding: 1, data: new Uint8Array(10) }),
      await w.write({ encoding: 1, data: new Uint8Array(500) }),
      await w.write({ encoding: 1, data: new Uint8Array(10) }),
    ];
    const segs = await w.close();
    expect(segs.map((s) => s.name)).toEqual(["000001", "000002", "000003"]);
    expect(refs.map(chunkRefSegment)).toEqual([0, 1, 2]);
    expect(refs.map(chunkRefOffset)).toEqual([8, 8, 8]);
    expect(segs[1]!.size).toBe(8 + 2 + 1 + 500 + 4);
  });

  it("write(c) and writeChunks([c]) produce identical segments (seeded)", async () => {
    const rnd = mulberry32(99);
    const chunks = Array.from({ length: 400 }, () => randomChunk(rnd, rnd() < 0.05 ? 3000 : 300));
    const a = new MemoryBlock();
    const b = new MemoryBlock();
    const wa = new ChunkWriter(a, { segmentSize: 2000, bufferSize: 512 });
    const wb = new ChunkWriter(b, { segmentSize: 2000, bufferSize: 512 });
    for (const c of chunks) {
      const m: ChunkMeta = { ref: 0, minTime: 0, maxTime: 0, chunk: c };
      await wb.writeChunks([m]);
      expect(await wa.write(c)).toBe(m.ref);
    }
    const sa = await wa.close();
    expect(await wb.close()).toEqual(sa);
    expect(sa.length).toBeGreaterThan(10);
    for (const s of sa) expect(sameBytes(a.files.get(`chunks/${s.name}`), b.files.get(`chunks/${s.name}`)!)).toBe(true);
  });

  it("uses 512 MiB by default and treats ≤ 0 as the default", () => {
    expect(DEFAULT_SEGMENT_SIZE).toBe(536870912);
    expect(() => new ChunkWriter(new MemoryBlock(), { segmentSize: 0 })).not.toThrow();
    expect(() => new ChunkWriter(new MemoryBlock(), { segmentSize: 2 ** 32 + 1 })).toThrow(RangeError);
  });
});

describe("ChunkReader rejects corrupt segments", () => {
  const good = segmentWith(XOR_RECORD);

  it("checks magic, version and header size on open", async () => {
    const badMagic = good.slice();
    badMagic[0] = 0x84;
    let e = await expectFormatError(
      ChunkReader.open(blockOf({ "chunks/000001": badMagic })),
      "bad-magic",
      "chunks/000001",
      0,
    );
    expect(e.message).toContain("0x85bd40dd");
    const badVersion = good.slice();
    badVersion[4] = 2;
    await expectFormatError(
      ChunkReader.open(blockOf({ "chunks/000001": good, "chunks/000002": badVersion })),
      "unsupported-version",
      "chunks/000002",
      4,
    );
    e = await expectFormatError(
      ChunkReader.open(blockOf({ "chunks/000001": good.subarray(0, 5) })),
      "invalid-size",
      "chunks/000001",
      0,
    );
    expect(e.message).toContain("5 bytes");
  });

  it("ignores non-numeric files and orders segments by name", async () => {
    const other = segmentWith(unhex("00 01 00000000"));
    // CRC32C of a lone encoding byte 0x01.
    const crc = crc32c(Uint8Array.of(1));
    other.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], 10);
    const r = await ChunkReader.open(
      blockOf({
        "chunks/000002": other,
        "chunks/000001": good,
        "chunks/000001.tmp": new Uint8Array(3),
        "chunks/notes": new Uint8Array(1),
      }),
    );
    expect(r.segments.map((s) => s.name)).toEqual(["000001", "000002"]);
    expect((await r.chunk(packChunkRef(1, 8))).data.length).toBe(0);
    expect((await r.chunk(8)).data).toEqual(XOR_DATA);
  });

  it("bounds-checks refs", async () => {
    const r = await ChunkReader.open(blockOf({ "chunks/000001": good }));
    await expectFormatError(r.chunk(packChunkRef(1, 8)), "invalid-size", "chunks");
    await expectFormatError(r.chunk(4), "invalid-size", "chunks/000001", 4);
    await expectFormatError(r.chunk(good.length), "invalid-size", "chunks/000001", good.length);
    await expectFormatError(r.chunk(-1), "invalid-value");
    await expectFormatError(r.chunk(8.5), "invalid-value");
  });

  it("rejects truncated records", async () => {
    for (const cut of [1, 4, 10, XOR_RECORD.length - 1]) {
      const r = await ChunkReader.open(blockOf({ "chunks/000001": good.subarray(0, 8 + cut) }));
      const e = await expectFormatError(r.chunk(8), "invalid-size", "chunks/000001", 8);
      expect(e.message).toContain("chunks/000001 @8");
    }
    // A length varint cut off by the end of the file.
    const r = await ChunkReader.open(blockOf({ "chunks/000001": segmentWith(Uint8Array.of(0x80)) }));
    await expectFormatError(r.chunk(8), "invalid-size", "chunks/000001", 8);
  });

  it("rejects huge or over-long length prefixes without allocating", async () => {
    const cases: [string, string][] = [
      ["FF FF FF FF 0F", "invalid-size"], // 2^32-1: fits 32 bits, far beyond the file
      ["80 80 80 80 10", "invalid-value"], // 2^32: does not fit 32 bits
      ["FF FF FF FF FF 01", "invalid-value"], // 6-byte varint
    ];
    for (const [prefix, code] of cases) {
      const seg = segmentWith(unhex(prefix), new Uint8Array(64));
      const src = new CountingBlock(blockOf({ "chunks/000001": seg }));
      src.maxRead = 4096; // any read sized by the bogus length would throw
      const r = await ChunkReader.open(src, { windowSize: 4096 });
      const e = await expectFormatError(r.chunk(8), code, "chunks/000001", 8);
      expect(e.message).toMatch(/chunk length|runs past/);
    }
  });

  it("rejects a CRC mismatch, naming the record offset", async () => {
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    await w.write({ encoding: 1, data: new Uint8Array(40).fill(9) });
    const ref = await w.write({ encoding: 1, data: XOR_DATA });
    await w.close();
    const seg = blk.files.get("chunks/000001")!;
    seg[ref + 5]! ^= 0x10; // a data byte of the second record
    const r = await ChunkReader.open(blk);
    expect((await r.chunk(8)).data.length).toBe(40);
    const e = await expectFormatError(r.chunk(ref), "invalid-checksum", "chunks/000001", ref);
    expect(e.message).toContain(`chunks/000001 @${ref}`);
    expect(e.message).toContain("stored 0x79617368");
  });
});

describe("chunks.md", () => {
  it("keeps its example segment in step with the writer and reader", async () => {
    const doc = readFileSync(new URL("../docs/format/chunks.md", import.meta.url), "utf8");
    const m = /<!-- example: segment -->\s*```[a-z]*\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const bytes = unhex(
      m![1]!
        .split("\n")
        .map((l) => l.replace(/#.*$/, ""))
        .join(" "),
    );
    const blk = new MemoryBlock();
    const w = new ChunkWriter(blk);
    expect(await w.write({ encoding: 1, data: XOR_DATA })).toBe(8);
    await w.close();
    expect(blk.files.get("chunks/000001")).toEqual(bytes);
    const r = await ChunkReader.open(blockOf({ "chunks/000001": bytes }));
    expect((await r.chunk(8)).data).toEqual(XOR_DATA);
    expect(new DataView(bytes.buffer).getUint32(0)).toBe(MAGIC_CHUNKS);
  });
});

describe("one chunk record on its own (chunks/record.ts)", () => {
  it("frames a record as the writer stores it, finds its data and checks its CRC", async () => {
    for (const len of [0, 1, 127, 128, 300, 20_000]) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 31) & 0xff);
      const rec = new Uint8Array(chunkRecordSize(len) + 3);
      const end = writeChunkRecord(rec, 3, 1, data);
      expect(end).toBe(rec.length);
      const record = rec.subarray(3);
      // The bytes a segment holds for the same chunk, after its 8-byte header.
      const sink = new MemoryBlock();
      const w = new ChunkWriter(sink);
      await w.write({ encoding: 1, data });
      await w.close();
      expect(sink.files.get("chunks/000001")!.subarray(8)).toEqual(record);
      expect(ChunkReader.chunkOfRecord(record)).toEqual({ encoding: 1, data });
      expect(chunkRecordCrcOk(record)).toBe(true);
      const bad = record.slice();
      bad[bad.length - 5]! ^= 1; // the last data byte (the encoding byte when there is none)
      expect(chunkRecordCrcOk(bad)).toBe(false);
    }
    expect(chunkRecordCrcOk(new Uint8Array(3))).toBe(false);
  });
});
