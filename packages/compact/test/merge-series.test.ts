import { describe, expect, it } from "vitest";
import {
  CounterResetHint,
  Encoding,
  decodeHistogramChunk,
  decodeXOR,
  encodeHistogramChunk,
  xorNumSamples,
  type ChunkToWrite,
  type Histogram,
} from "@strata/tsdb";
import { SeriesMerger } from "../src/merge/index.ts";
import { floatChunks } from "../bench/blocks.ts";

function range(from: number, n: number, step: number, v: (i: number) => number = (i) => i): [number, number][] {
  return Array.from({ length: n }, (_, i) => [from + i * step, v(i)] as [number, number]);
}
function samplesOf(chunks: readonly ChunkToWrite[]): [number, number][] {
  const out: [number, number][] = [];
  for (const c of chunks) {
    const n = xorNumSamples(c.chunk.data);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    decodeXOR(c.chunk.data, ts, vs);
    for (let i = 0; i < n; i++) out.push([ts[i]!, vs[i]!]);
    expect(c.minTime).toBe(ts[0]);
    expect(c.maxTime).toBe(ts[n - 1]);
  }
  return out;
}

describe("SeriesMerger", () => {
  it("passes non-overlapping chunks from several inputs through untouched (same bytes, no decode)", () => {
    const a = floatChunks(range(0, 240, 1000));
    const b = floatChunks(range(240_000, 240, 1000));
    const c = floatChunks(range(480_000, 100, 1000));
    const m = new SeriesMerger();
    const out: ChunkToWrite[] = [];
    m.merge([b, c, a], { mode: "chain" }, out);
    expect(out.map((x) => x.chunk.data)).toEqual([...a, ...b, ...c].map((x) => x.chunk.data));
    // Identity, not just equality: the bytes were copied through without re-encoding.
    expect(out[0]!.chunk.data).toBe(a[0]!.chunk.data);
    expect(m.counters).toMatchObject({ copiedChunks: 5, decodedChunks: 0, encodedChunks: 0 });
  });

  it("drops identical chunks without decoding them", () => {
    const a = floatChunks(range(0, 240, 1000));
    const b = a.map((c) => ({ ...c, chunk: { encoding: c.chunk.encoding, data: c.chunk.data.slice() } }));
    const m = new SeriesMerger();
    const out: ChunkToWrite[] = [];
    m.merge([a, b], { mode: "chain" }, out);
    expect(out.length).toBe(2);
    expect(m.counters).toMatchObject({ duplicateChunks: 2, decodedChunks: 0, copiedChunks: 2 });
    m.merge([a, b], { mode: "penalty", counter: true }, out);
    expect(out.length).toBe(2);
    expect(m.counters.decodedChunks).toBe(0);
  });

  it("merges overlapping chunks sample by sample and re-cuts at 120 samples", () => {
    // Even seconds from A, odd seconds from B, over the same 300 s: 300 samples, 3 chunks.
    const a = floatChunks(range(0, 150, 2000), 50);
    const b = floatChunks(
      range(1000, 150, 2000, (i) => 1000 + i),
      70,
    );
    const m = new SeriesMerger();
    const out: ChunkToWrite[] = [];
    m.merge([a, b], { mode: "chain" }, out);
    expect(out.map((c) => xorNumSamples(c.chunk.data))).toEqual([120, 120, 60]);
    const s = samplesOf(out);
    expect(s.length).toBe(300);
    expect(s.map(([t]) => t)).toEqual(range(0, 300, 1000).map(([t]) => t));
    expect(s[1]).toEqual([1000, 1000]);
    expect(m.counters.encodedChunks).toBe(3);
  });

  it("merges equal timestamps one-to-one, keeping the first input's sample", () => {
    const a = floatChunks(range(0, 10, 1000, () => 1));
    const b = floatChunks(range(5000, 10, 1000, () => 2));
    const out: ChunkToWrite[] = [];
    new SeriesMerger().merge([a, b], { mode: "chain" }, out);
    const s = samplesOf(out);
    expect(s.length).toBe(15);
    expect(s.filter(([t]) => t >= 5000 && t <= 9000).every(([, v]) => v === 1)).toBe(true);
    expect(s.slice(10).every(([, v]) => v === 2)).toBe(true);
  });

  it("only decodes the overlapping run; chunks before and after are copied", () => {
    const a = floatChunks(range(0, 360, 1000), 120); // [0,119] [120,239] [240,359] s
    const b = floatChunks(range(150_500, 10, 1000, () => 7)); // inside A's second chunk
    const m = new SeriesMerger();
    const out: ChunkToWrite[] = [];
    m.merge([a, b], { mode: "chain" }, out);
    expect(out[0]!.chunk.data).toBe(a[0]!.chunk.data);
    expect(out[out.length - 1]!.chunk.data).toBe(a[2]!.chunk.data);
    expect(m.counters).toMatchObject({ copiedChunks: 2, decodedChunks: 2 });
    expect(samplesOf(out).length).toBe(370);
  });

  it("merges native histogram chunks and cuts where the schema changes", () => {
    const h = (count: number, schema = 0): Histogram => ({
      schema,
      zeroThreshold: 0.001,
      zeroCount: 0,
      count,
      sum: count * 2,
      positiveSpans: [{ offset: 0, length: 1 }],
      negativeSpans: [],
      positiveBuckets: [count],
      negativeBuckets: [],
      counterResetHint: CounterResetHint.Unknown,
    });
    const a: ChunkToWrite = {
      minTime: 0,
      maxTime: 20_000,
      chunk: {
        encoding: Encoding.Histogram,
        data: encodeHistogramChunk([0, 10_000, 20_000].map((t, i) => ({ t, h: h(i + 1) }))),
      },
    };
    const b: ChunkToWrite = {
      minTime: 15_000,
      maxTime: 25_000,
      chunk: {
        encoding: Encoding.Histogram,
        data: encodeHistogramChunk([15_000, 25_000].map((t) => ({ t, h: h(9, 1) }))),
      },
    };
    const out: ChunkToWrite[] = [];
    new SeriesMerger().merge([[a], [b]], { mode: "chain" }, out);
    const got = out.flatMap((c) => decodeHistogramChunk(c.chunk.data).map((s) => [s.t, s.h.schema, s.h.count]));
    expect(got).toEqual([
      [0, 0, 1],
      [10_000, 0, 2],
      [15_000, 1, 9],
      [20_000, 0, 3],
      [25_000, 1, 9],
    ]);
    // Schema 0 → 1 → 0 → 1: every change starts a chunk.
    expect(out.map((c) => [c.minTime, c.maxTime])).toEqual([
      [0, 10_000],
      [15_000, 15_000],
      [20_000, 20_000],
      [25_000, 25_000],
    ]);
  });

  it("cuts a new chunk where the value type changes from float to histogram", () => {
    const f = floatChunks(range(0, 5, 1000));
    const hist: Histogram = {
      schema: 0,
      zeroThreshold: 0,
      zeroCount: 1,
      count: 1,
      sum: 1,
      positiveSpans: [],
      negativeSpans: [],
      positiveBuckets: [],
      negativeBuckets: [],
      counterResetHint: CounterResetHint.Unknown,
    };
    const h: ChunkToWrite = {
      minTime: 2500,
      maxTime: 2500,
      chunk: { encoding: Encoding.Histogram, data: encodeHistogramChunk([{ t: 2500, h: hist }]) },
    };
    const out: ChunkToWrite[] = [];
    new SeriesMerger().merge([f, [h]], { mode: "chain" }, out);
    expect(out.map((c) => [c.chunk.encoding, c.minTime, c.maxTime])).toEqual([
      [Encoding.XOR, 0, 2000],
      [Encoding.Histogram, 2500, 2500],
      [Encoding.XOR, 3000, 4000],
    ]);
  });

  it("penalty mode deduplicates overlapping replicas over the whole series", () => {
    const a = floatChunks(
      range(0, 300, 15_000, (i) => i),
      120,
    );
    const b = floatChunks(
      range(5_000, 300, 15_000, (i) => 1000 + i),
      100,
    );
    const out: ChunkToWrite[] = [];
    new SeriesMerger().merge([a, b], { mode: "penalty", counter: false }, out);
    const s = samplesOf(out);
    expect(s).toEqual(range(0, 300, 15_000, (i) => i));
    expect(out.map((c) => xorNumSamples(c.chunk.data))).toEqual([120, 120, 60]);
  });
});
