/**
 * Chunk CRCs are checked lazily by the compactor: a chunk copied as its stored record is
 * not verified on read (its stored CRC goes into the output, where every reader checks
 * it); a chunk that is decoded (merged, trimmed) is verified first, and a bad one fails
 * the compaction with a FormatError naming the input block, the file and the offset.
 */
import { describe, expect, it } from "vitest";
import { BlockReader, ChunkReader, FormatError, type MemoryBlock, chunkRefOffset, labelsToString } from "@strata/tsdb";
import { verifyBlock } from "@strata/verify";
import { compactInMemory, memBlock, type SeriesSpec } from "../bench/blocks.ts";

const H2 = 2 * 3600_000;
const T0 = 1_700_006_400_000;

function seriesSet(from: number, to: number, shift = 0): SeriesSpec[] {
  return Array.from({ length: 6 }, (_, s) => {
    const samples: [number, number][] = [];
    for (let t = from + shift; t < to; t += 15_000) samples.push([t, s * 1000 + (t - T0) / 15_000]);
    return { labels: { __name__: "up", instance: `host-${s}` }, samples };
  });
}

const VICTIM = '{__name__="up", instance="host-3"}';

/** Flip a data byte of chunk `k` of the victim series; returns the chunk's offset in segment 000001. */
async function corrupt(block: MemoryBlock, k: number): Promise<number> {
  const r = await BlockReader.open(block);
  let off = -1;
  for await (const s of r.series({ withChunks: false }))
    if (labelsToString(s.labels) === VICTIM) off = chunkRefOffset(s.chunks[k]!.ref);
  await r.close();
  expect(off).toBeGreaterThan(0);
  block.files.get("chunks/000001")![off + 5]! ^= 0x20; // past the length, encoding and sample count
  return off;
}

const run = compactInMemory;

async function adjacent(): Promise<MemoryBlock[]> {
  const out: MemoryBlock[] = [];
  for (let i = 0; i < 3; i++) {
    const ulid = `01JC00000000000000000000A${i}`;
    out.push(
      await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2), {
        minTime: T0 + i * H2,
        maxTime: T0 + (i + 1) * H2,
        ulid,
      }),
    );
  }
  return out;
}

describe("lazy chunk verification in compaction", () => {
  it("a corrupt chunk copied as is keeps its bad CRC in the output, where verify flags it", async () => {
    const inputs = await adjacent();
    const off = await corrupt(inputs[1]!, 1);
    const bad = inputs[1]!.files.get("chunks/000001")!;
    const r = await run(inputs);
    expect(r.counters).toMatchObject({ decodedChunks: 0, trimmedChunks: 0 });
    const out = r.blocks[0]!;

    // The output holds the very bytes of the corrupt record, stored CRC included.
    const reader = await BlockReader.open(out);
    let ref = -1;
    for await (const s of reader.series({ withChunks: false }))
      if (labelsToString(s.labels) === VICTIM) ref = s.chunks[4 + 1]!.ref;
    const rec = await reader.chunks.record(ref, false);
    expect([...rec]).toEqual([...bad.subarray(off, off + rec.length)]);
    await expect(reader.chunks.record(ref)).rejects.toMatchObject({ code: "invalid-checksum" });
    await reader.close();

    const report = await verifyBlock(out);
    expect(report.ok).toBe(false);
    expect(report.counts.BadChecksum).toBe(1);
  });

  it("a corrupt chunk that must be merged fails the compaction, naming block, file and offset", async () => {
    const a = await memBlock(seriesSet(T0, T0 + H2), {
      minTime: T0,
      maxTime: T0 + H2,
      ulid: "01JC00000000000000000000AA",
    });
    // Same series, samples in between: every chunk overlaps one of `a` and is decoded.
    const b = await memBlock(seriesSet(T0, T0 + H2, 7_500), {
      minTime: T0,
      maxTime: T0 + H2,
      ulid: "01JC00000000000000000000BB",
    });
    const off = await corrupt(b, 2);
    const err = await run([a, b]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FormatError);
    const fe = err as FormatError;
    expect(fe.code).toBe("invalid-checksum");
    expect(fe.file).toBe("01JC00000000000000000000BB/chunks/000001");
    expect(fe.offset).toBe(off);
    expect(fe.message).toContain("input block 01JC00000000000000000000BB");
  });

  it("a corrupt chunk that the output range trims fails the compaction", async () => {
    const inputs = await adjacent();
    const off = await corrupt(inputs[0]!, 0);
    await expect(run(inputs, { outputRange: { minTime: T0 + 600_000, maxTime: T0 + 3 * H2 } })).rejects.toMatchObject({
      code: "invalid-checksum",
      file: `${inputs[0]!.name}/chunks/000001`,
      offset: off,
    });
    // The same corruption in a chunk the range leaves whole is copied without a check.
    const clean = await adjacent();
    await corrupt(clean[0]!, 1);
    const r = await run(clean, { outputRange: { minTime: T0 + 600_000, maxTime: T0 + 3 * H2 } });
    expect(r.counters.trimmedChunks).toBeGreaterThan(0);
  });

  it("ChunkReader.verifyRecord checks a record read unverified", async () => {
    const block = (await adjacent())[0]!;
    const off = await corrupt(block, 0);
    const r = await ChunkReader.open(block);
    const rec = await r.record(off, false);
    expect(() => r.verifyRecord(off, rec)).toThrow(FormatError);
    expect(() => r.verifyRecord(off, rec)).toThrow(/chunk CRC32C mismatch/);
    const next = await r.record(off + rec.length, false);
    expect(() => r.verifyRecord(off + rec.length, next)).not.toThrow();
    await r.close();
  });
});
