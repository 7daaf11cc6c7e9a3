// Readers refill their window buffers in place (ByteSource.readInto) instead of allocating one
// per window, without ever overwriting bytes a caller may still be looking at.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BlockReader,
  BlockWriter,
  ChunkReader,
  ChunkWriter,
  IndexReader,
  MemoryBlock,
  MemorySource,
  compareStrings,
  type Chunk,
  type Label,
} from "../src/index.ts";
import type { BlockSource, ByteSource } from "../src/encoding/source.ts";
import { FileSource } from "../src/node/fs.ts";
import { mulberry32 } from "@strata/testkit";

/**
 * A BlockSource over a MemoryBlock recording which buffers readers fill (by ArrayBuffer
 * identity) and how many plain reads they make; `readInto: false` hides readInto so
 * readers take their fallback path.
 */
class RecordingBlock implements BlockSource {
  readonly name = "recording";
  readonly inner: MemoryBlock;
  readonly withReadInto: boolean;
  readonly filled = new Map<string, Set<ArrayBufferLike>>();
  readonly fills = new Map<string, number>();
  reads = 0;
  constructor(inner: MemoryBlock, opts: { readInto?: boolean } = {}) {
    this.inner = inner;
    this.withReadInto = opts.readInto ?? true;
  }
  async open(rel: string): Promise<ByteSource> {
    const s = (await this.inner.open(rel)) as MemorySource;
    const src: ByteSource = {
      size: s.size,
      read: async (offset, length) => {
        this.reads++;
        // A fresh copy, as a file source returns: a view into the file bytes would hide reuse bugs.
        return (await s.read(offset, length)).slice();
      },
    };
    if (this.withReadInto) {
      src.readInto = async (offset, dst) => {
        let set = this.filled.get(rel);
        if (!set) this.filled.set(rel, (set = new Set()));
        set.add(dst.buffer);
        this.fills.set(rel, (this.fills.get(rel) ?? 0) + 1);
        await s.readInto(offset, dst);
      };
    }
    return src;
  }
  async tryOpen(rel: string): Promise<ByteSource | undefined> {
    return this.inner.files.has(rel) ? this.open(rel) : undefined;
  }
  listChunkFiles(): Promise<string[]> {
    return this.inner.listChunkFiles();
  }
  buffers(rel: string): number {
    return this.filled.get(rel)?.size ?? 0;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function randomChunk(rnd: () => number, maxLen: number): Chunk {
  const data = new Uint8Array(2 + Math.floor(rnd() * maxLen));
  for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
  return { encoding: 1, data };
}

describe("ByteSource.readInto", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "strata-readinto-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fills exactly dst.length bytes from the offset, with read's range rules (memory and file)", async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    const path = join(dir, "f");
    writeFileSync(path, bytes);
    const file = await FileSource.open(path);
    try {
      for (const src of [new MemorySource(bytes), file]) {
        const dst = new Uint8Array(300).fill(0xee);
        await src.readInto!(100, dst.subarray(10, 210));
        expect(sameBytes(dst.subarray(10, 210), bytes.subarray(100, 300))).toBe(true);
        expect(dst[9]).toBe(0xee); // nothing outside dst is touched
        expect(dst[210]).toBe(0xee);
        await src.readInto!(1000, new Uint8Array(0));
        await expect(src.readInto!(900, new Uint8Array(101))).rejects.toThrow(RangeError);
        await expect(src.readInto!(-1, new Uint8Array(1))).rejects.toThrow(RangeError);
      }
    } finally {
      await file.close();
    }
  });
});

describe("ChunkReader window buffers", () => {
  const block = new MemoryBlock();
  const chunks: Chunk[] = [];
  const refs: number[] = [];
  beforeAll(async () => {
    const rnd = mulberry32(7);
    const w = new ChunkWriter(block, { segmentSize: 60_000 });
    for (let i = 0; i < 600; i++) {
      const c = randomChunk(rnd, rnd() < 0.01 ? 5000 : 300);
      chunks.push(c);
      refs.push(await w.write(c));
    }
    await w.close();
  });

  it("never overwrites a buffer it handed out views of: without releaseViews every view stays valid", async () => {
    const src = new RecordingBlock(block);
    const r = await ChunkReader.open(src, { windowSize: 1024 });
    expect(r.segments.length).toBeGreaterThan(1);
    const got = [];
    for (const ref of refs) got.push(await r.chunk(ref));
    for (let i = 0; i < refs.length; i++) expect(sameBytes(got[i]!.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
    await r.close();
  });

  it("refills two buffers in place when views are released after each use", async () => {
    const src = new RecordingBlock(block);
    const r = await ChunkReader.open(src, { windowSize: 1024 });
    for (let i = 0; i < refs.length; i++) {
      const c = await r.chunk(refs[i]!);
      expect(sameBytes(c.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
      r.releaseViews();
    }
    let fills = 0;
    const buffers = new Set<ArrayBufferLike>();
    for (const [, set] of src.filled) for (const b of set) buffers.add(b);
    for (const [, n] of src.fills) fills += n;
    expect(fills).toBeGreaterThan(100);
    // Released each time: the current window is refilled in place, across every segment.
    expect(buffers.size).toBeLessThanOrEqual(2);
    // Records bigger than a window are fresh reads of their own, the only plain reads besides headers.
    const big = chunks.filter((c) => c.data.length + 10 > 1024).length;
    expect(src.reads).toBe(r.segments.length + big);
    await r.close();
  });

  it("keeps a pinned window's views intact while later reads refill another buffer", async () => {
    const src = new RecordingBlock(block);
    const r = await ChunkReader.open(src, { windowSize: 1024 });
    for (let start = 0; start + 8 < refs.length; start += 8) {
      // A group of chunks spanning window refills, checked only after the whole group was read.
      const group = [];
      for (let i = start; i < start + 8; i++) group.push(await r.chunk(refs[i]!));
      for (let i = 0; i < 8; i++)
        expect(sameBytes(group[i]!.data, chunks[start + i]!.data), `chunk ${start + i}`).toBe(true);
      r.releaseViews();
    }
    await r.close();
  });

  it("serves concurrent reads correctly", async () => {
    const r = await ChunkReader.open(new RecordingBlock(block), { windowSize: 1024 });
    const got = await Promise.all(refs.map((ref) => r.chunk(ref)));
    for (let i = 0; i < refs.length; i++) expect(sameBytes(got[i]!.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
    await r.close();
  });
});

describe("BlockReader.series() over reused windows", () => {
  const block = new MemoryBlock();
  const expected: { labels: Label[]; chunks: Chunk[] }[] = [];
  beforeAll(async () => {
    const rnd = mulberry32(11);
    const w = new BlockWriter(block, { segmentSize: 100_000 });
    const names = Array.from({ length: 400 }, (_, i) => `s${String(i).padStart(4, "0")}`);
    await w.addSymbols(["__name__", "m", ...names].sort(compareStrings));
    for (const n of names) {
      const labels = [
        { name: "__name__", value: "m" },
        { name: n, value: "m" },
      ].sort((a, b) => compareStrings(a.name, b.name));
      const cs: Chunk[] = [];
      const count = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < count; i++) cs.push(randomChunk(rnd, rnd() < 0.02 ? 3000 : 400));
      expected.push({ labels, chunks: cs });
      await w.addSeries(
        labels,
        cs.map((chunk, i) => ({ minTime: i * 10, maxTime: i * 10 + 9, chunk })),
      );
    }
    await w.finish({
      ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
      minTime: 0,
      maxTime: 100,
      stats: {},
      compaction: { level: 1, sources: [] },
      version: 1,
    });
  });

  async function checkAll(src: RecordingBlock, chunkWindow: number): Promise<void> {
    const r = await BlockReader.open(src, { chunkWindow });
    let i = 0;
    for await (const s of r.series({ indexWindow: 256 })) {
      const want = expected[i++]!;
      expect(s.labels).toEqual(want.labels);
      expect(s.chunks.length).toBe(want.chunks.length);
      for (let j = 0; j < s.chunks.length; j++)
        expect(sameBytes(s.chunks[j]!.chunk!.data, want.chunks[j]!.data), `series ${i - 1} chunk ${j}`).toBe(true);
    }
    expect(i).toBe(expected.length);
    await r.close();
  }
  const chunkFills = (src: RecordingBlock) =>
    [...src.fills].filter(([k]) => k.startsWith("chunks/")).reduce((a, [, n]) => a + n, 0);
  const chunkBuffers = (src: RecordingBlock) =>
    new Set([...src.filled].filter(([k]) => k.startsWith("chunks/")).flatMap(([, s]) => [...s])).size;

  it("gives every series' chunk bytes intact until the next series, even when series span several windows", async () => {
    for (const readInto of [true, false]) await checkAll(new RecordingBlock(block, { readInto }), 700);
  });

  it("cycles through a bounded set of buffers (one per segment plus two) and one index buffer", async () => {
    const src = new RecordingBlock(block);
    await checkAll(src, 8000); // bigger than any series: a series straddles at most one refill
    expect(chunkFills(src)).toBeGreaterThan(20);
    // Each segment keeps its window; the walk cycles through two more.
    const segments = (await block.listChunkFiles()).length;
    expect(segments).toBeGreaterThan(2);
    expect(chunkBuffers(src)).toBeLessThanOrEqual(segments + 2);
    expect(src.buffers("index")).toBe(1);
  });

  it("iterSeries decodes the same entries whether it refills one buffer or reads fresh ones", async () => {
    const a = await IndexReader.open(await new RecordingBlock(block).open("index"));
    const b = await IndexReader.open(await new RecordingBlock(block, { readInto: false }).open("index"));
    const ea = [];
    for await (const s of a.iterSeries({ windowSize: 64 })) ea.push(s);
    const eb = [];
    for await (const s of b.iterSeries({ windowSize: 64 })) eb.push(s);
    expect(ea.length).toBe(expected.length);
    expect(ea).toEqual(eb);
  });
});
