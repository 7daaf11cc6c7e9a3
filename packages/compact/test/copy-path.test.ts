/**
 * The tsdb fast paths compaction relies on to copy chunks: stored records read once
 * (CRC verified) and written as is, synchronous reads and writes inside the windows and
 * buffers, and read-ahead windows on sequential walks. Outputs must be byte-identical to
 * the plain chunk paths.
 */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "@strata/testkit";
import {
  BlockReader,
  ChunkReader,
  ChunkWriter,
  FormatError,
  MemoryBlock,
  chunkRefOffset,
  type Chunk,
} from "@strata/tsdb";
import { floatChunks, writeBlock } from "../bench/blocks.ts";

function randomChunks(seed: number, n: number, maxLen: number): Chunk[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const data = new Uint8Array(1 + Math.floor(rnd() * maxLen));
    for (let i = 0; i < data.length; i++) data[i] = (rnd() * 256) | 0;
    return { encoding: 1 + ((rnd() * 3) | 0), data };
  });
}

async function writeAll(
  chunks: readonly Chunk[],
  opts: { segmentSize?: number; bufferSize?: number },
): Promise<{ block: MemoryBlock; refs: number[] }> {
  const block = new MemoryBlock();
  const w = new ChunkWriter(block, opts);
  const refs: number[] = [];
  for (const c of chunks) refs.push(await w.write(c));
  await w.close();
  return { block, refs };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe("stored records: read once, written as is", () => {
  it("record() is the stored bytes at the ref and frames the chunk chunk() returns", async () => {
    const chunks = randomChunks(1, 300, 3000);
    const { block, refs } = await writeAll(chunks, { segmentSize: 200_000 });
    const r = await ChunkReader.open(block, { windowSize: 4096 });
    for (let i = 0; i < refs.length; i++) {
      const rec = await r.record(refs[i]!);
      const seg = block.files.get(`chunks/${r.segments[Math.floor(refs[i]! / 2 ** 32)]!.name}`)!;
      const off = chunkRefOffset(refs[i]!);
      expect(sameBytes(rec, seg.subarray(off, off + rec.length)), `record ${i}`).toBe(true);
      const c = ChunkReader.chunkOfRecord(rec);
      expect(c.encoding).toBe(chunks[i]!.encoding);
      expect(sameBytes(c.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
      r.releaseViews();
    }
    await r.close();
  });

  it("writing records reproduces the plain writer's segments byte for byte (cuts, full buffers, records bigger than the buffer)", async () => {
    const chunks = randomChunks(2, 400, 5000);
    const opts = { segmentSize: 150_000, bufferSize: 4096 };
    const plain = await writeAll(chunks, opts);
    const r = await ChunkReader.open(plain.block);
    const copy = new MemoryBlock();
    const w = new ChunkWriter(copy, opts);
    let sync = 0;
    for (let i = 0; i < chunks.length; i++) {
      const rec = (await r.record(plain.refs[i]!)).slice();
      let ref = w.tryWrite(chunks[i]!, rec);
      if (ref >= 0) sync++;
      else ref = await w.write(chunks[i]!, rec);
      expect(ref).toBe(plain.refs[i]);
    }
    await w.close();
    await r.close();
    expect(sync).toBeGreaterThan(0);
    expect(sync).toBeLessThan(chunks.length); // cuts and full buffers went the async way
    expect([...copy.files.keys()].sort()).toEqual([...plain.block.files.keys()].sort());
    for (const [name, bytes] of plain.block.files) expect(sameBytes(copy.files.get(name)!, bytes), name).toBe(true);
  });

  it("keeps verifying CRCs on read, and refuses a record that does not frame its chunk", async () => {
    const chunks = randomChunks(3, 20, 200);
    const { block, refs } = await writeAll(chunks, {});
    const seg = block.files.get("chunks/000001")!;
    seg[chunkRefOffset(refs[5]!) + 3]! ^= 0x40; // a data byte of record 5
    const r = await ChunkReader.open(block);
    expect(r.tryRecord(refs[4]!)).toBeUndefined(); // nothing read yet: a read is due
    await r.record(refs[4]!);
    expect(r.tryRecord(refs[4]!)).toBeInstanceOf(Uint8Array);
    expect(() => r.tryRecord(refs[5]!)).toThrow(FormatError);
    await expect(r.record(refs[5]!)).rejects.toMatchObject({ code: "invalid-checksum" });
    const rec = await r.record(refs[6]!);
    const w = new ChunkWriter(new MemoryBlock());
    await expect(w.write(chunks[7]!, rec)).rejects.toThrow(RangeError);
    await r.close();
  });
});

describe("read-ahead windows", () => {
  // Several MiB in one segment, so the default 1 MiB windows are read ahead.
  const chunks = randomChunks(4, 6000, 2000);
  const written = writeAll(chunks, {});

  it("a sequential walk releasing views per step sees every chunk intact", async () => {
    const { block, refs } = await written;
    expect(block.files.get("chunks/000001")!.length).toBeGreaterThan(4 << 20);
    const r = await ChunkReader.open(block);
    for (let i = 0; i < refs.length; i++) {
      const c = r.tryChunk(refs[i]!) ?? (await r.chunk(refs[i]!));
      expect(sameBytes(c.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
      if (i % 7 === 0) r.releaseViews();
    }
    await r.close();
  });

  it("views held without releaseViews stay valid across read-ahead refills", async () => {
    const { block, refs } = await written;
    const r = await ChunkReader.open(block);
    const got: Chunk[] = [];
    for (const ref of refs) got.push(await r.chunk(ref));
    for (let i = 0; i < refs.length; i++) expect(sameBytes(got[i]!.data, chunks[i]!.data), `chunk ${i}`).toBe(true);
    await r.close();
  });

  it("random jumps and concurrent reads mixed with a walk stay correct", async () => {
    const { block, refs } = await written;
    const r = await ChunkReader.open(block);
    const rnd = mulberry32(9);
    for (let i = 0; i < 400; i++) {
      const k = rnd() < 0.2 ? Math.floor(rnd() * refs.length) : i;
      const c = await r.chunk(refs[k]!);
      expect(sameBytes(c.data, chunks[k]!.data), `chunk ${k}`).toBe(true);
      r.releaseViews();
    }
    // Concurrent calls each refill a window (a window per pending call): keep batches small.
    for (let from = 0; from < refs.length; from += 500) {
      const batch = refs.slice(from, from + 8);
      const all = await Promise.all(batch.map((ref) => r.record(ref)));
      for (let i = 0; i < batch.length; i++)
        expect(sameBytes(ChunkReader.chunkOfRecord(all[i]!).data, chunks[from + i]!.data), `record ${from + i}`).toBe(
          true,
        );
      r.releaseViews();
    }
    await r.close();
  });
});

describe("BlockReader.series({ withRecords })", () => {
  it("returns each chunk's record with the chunk as a view of it", async () => {
    const mem = new MemoryBlock();
    const samples = (k: number) => Array.from({ length: 500 }, (_, i): [number, number] => [i * 15_000, k * i]);
    await writeBlock(
      mem,
      Array.from({ length: 50 }, (_, k) => ({
        labels: { __name__: "m", k: String(k).padStart(3, "0") },
        samples: samples(k),
      })),
      { minTime: 0, maxTime: 7_500_000 },
    );
    const r = await BlockReader.open(mem);
    let k = 0;
    for await (const s of r.series({ withRecords: true })) {
      const want = floatChunks(samples(k++));
      expect(s.records!.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        expect(sameBytes(s.chunks[i]!.chunk!.data, want[i]!.chunk.data)).toBe(true);
        const len = s.chunks[i]!.chunk!.data.length;
        expect(s.records![i]!.length).toBe((len < 128 ? 1 : 2) + 1 + len + 4);
      }
    }
    expect(k).toBe(50);
    await r.close();
  });
});
