// Native histograms: promtool 2.42 cannot make them (OpenMetrics text only), so the block is
// written by @strata/tsdb with integer counter histograms (bucket layout growing, a counter
// reset), float gauge histograms and a float series; the files are read back through hyparquet.
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { describe, expect, it } from "vitest";
import { convertBlock, decodeDataColumn } from "@strata/parquet";
import {
  BlockReader,
  BlockWriter,
  compareStrings,
  CounterResetHint,
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
  Encoding,
  encodeFloatHistogramChunk,
  encodeHistogramChunk,
  encodeXOR,
  type FloatHistogramSample,
  type HistogramSample,
  histogramChunkHeader,
  type Label,
  labelsFrom,
  MemoryBlock,
  type Span,
} from "@strata/tsdb";

const MIN = 60_000;
const T0 = 0;
const N = 300; // 5h at 1m: five 1h data columns

function intSample(i: number): HistogramSample {
  // A counter whose buckets grow (a new bucket appears at i = 100) and that resets at i = 170.
  const base = i < 170 ? i : i - 170;
  const spans: Span[] = i < 100 ? [{ offset: 0, length: 2 }] : [{ offset: 0, length: 3 }];
  const buckets = i < 100 ? [base, 2 * base] : [base, 2 * base, base];
  const count = buckets.reduce((a, b) => a + b, 0);
  return {
    t: T0 + i * MIN,
    h: {
      schema: 0,
      zeroThreshold: 1e-128,
      zeroCount: 0,
      count,
      sum: count * 1.5,
      positiveSpans: spans,
      negativeSpans: [],
      positiveBuckets: buckets,
      negativeBuckets: [],
      counterResetHint: CounterResetHint.Unknown,
    },
  };
}

function floatSample(i: number): FloatHistogramSample {
  const v = (i * 7) % 13;
  return {
    t: T0 + i * MIN,
    h: {
      schema: 1,
      zeroThreshold: 1e-128,
      zeroCount: 0.5,
      count: v + 0.5 + 1,
      sum: v * 0.25,
      positiveSpans: [{ offset: -1, length: 2 }],
      negativeSpans: [],
      positiveBuckets: Float64Array.from([v, 1]),
      negativeBuckets: new Float64Array(0),
      counterResetHint: CounterResetHint.Gauge,
    },
  };
}

async function makeBlock(): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const series: Label[][] = [
    labelsFrom({ __name__: "f" }),
    labelsFrom({ __name__: "h_float" }),
    labelsFrom({ __name__: "h_int" }),
  ];
  await w.addSymbols([...new Set(series.flatMap((s) => s.flatMap((l) => [l.name, l.value])))].sort(compareStrings));
  const ts = Float64Array.from({ length: N }, (_, i) => T0 + i * MIN);
  const vs = Float64Array.from({ length: N }, (_, i) => i);
  const cuts = (enc: (a: number, b: number) => Uint8Array, e: number) =>
    Array.from({ length: Math.ceil(N / 120) }, (_, k) => {
      const a = k * 120;
      const z = Math.min(N, a + 120);
      return { minTime: ts[a]!, maxTime: ts[z - 1]!, chunk: { encoding: e, data: enc(a, z) } };
    });
  await w.addSeries(
    series[0]!,
    cuts((a, z) => encodeXOR(ts, vs, a, z), Encoding.XOR),
  );
  const fl = Array.from({ length: N }, (_, i) => floatSample(i));
  await w.addSeries(
    series[1]!,
    cuts((a, z) => encodeFloatHistogramChunk(fl.slice(a, z), CounterResetHint.Gauge), Encoding.FloatHistogram),
  );
  // The source chunks are cut at 120 samples only (the reset at 170 sits inside one of them).
  const int = Array.from({ length: N }, (_, i) => intSample(i));
  await w.addSeries(
    series[2]!,
    cuts((a, z) => encodeHistogramChunk(int.slice(a, z)), Encoding.Histogram),
  );
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    minTime: T0,
    maxTime: T0 + N * MIN,
    stats: {},
    compaction: { level: 1, sources: ["01HZZZZZZZZZZZZZZZZZZZZZZZ"] },
    version: 1,
  });
  return b;
}

/** A histogram as comparable data: absolute bucket index → count, zero buckets left out. */
function shape(h: HistogramSample["h"] | FloatHistogramSample["h"]): unknown {
  const buckets: Record<number, number> = {};
  let idx = 0;
  let k = 0;
  for (const s of h.positiveSpans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++, idx++, k++) if (h.positiveBuckets[k] !== 0) buckets[idx] = h.positiveBuckets[k]!;
  }
  return { schema: h.schema, count: h.count, sum: h.sum, zeroCount: h.zeroCount, buckets };
}

describe("native histograms", () => {
  it("re-encoded per 1h column: every sample back, resets and gauges in the chunk headers, XOR < histogram < float histogram", async () => {
    const block = await makeBlock();
    const out = new MemoryBlock("out");
    const r = await convertBlock(block, out, { colDurationMs: 60 * MIN });
    expect(r.series).toBe(3);
    const bytes = out.files.get("0.chunks.parquet")!;
    const rows = (await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
      compressors,
      utf8: false,
    })) as Record<string, Uint8Array>[];
    const reader = await BlockReader.open(block);
    const want = new Map<string, unknown[]>();
    for await (const s of reader.series()) {
      const samples: unknown[] = [];
      for (const c of s.chunks) {
        const d = c.chunk!;
        if (d.encoding === Encoding.Histogram)
          for (const x of decodeHistogramChunk(d.data)) samples.push([x.t, shape(x.h)]);
        else if (d.encoding === Encoding.FloatHistogram)
          for (const x of decodeFloatHistogramChunk(d.data)) samples.push([x.t, shape(x.h)]);
        else samples.push("xor");
      }
      want.set(s.labels[0]!.value, samples);
    }
    await reader.close();
    const names = ["f", "h_float", "h_int"]; // row order: by __name__
    let resets = 0;
    for (let row = 0; row < 3; row++) {
      const got: unknown[] = [];
      for (let col = 0; col < 6; col++) {
        const chunks = decodeDataColumn(rows[row]![`s_data_${col}`]!);
        const encs = chunks.map((c) => c.encoding);
        expect(encs).toEqual([...encs].sort());
        for (const c of chunks) {
          if (c.encoding === Encoding.XOR) {
            got.push("xor");
            continue;
          }
          const hdr = histogramChunkHeader(c.data);
          expect(hdr.numSamples).toBeLessThanOrEqual(120);
          if (c.encoding === Encoding.FloatHistogram) {
            expect(hdr.counterResetHint).toBe(CounterResetHint.Gauge);
            for (const x of decodeFloatHistogramChunk(c.data)) got.push([x.t, shape(x.h)]);
          } else {
            if (hdr.counterResetHint === CounterResetHint.Reset) resets++;
            const xs = decodeHistogramChunk(c.data);
            expect(c.minTime).toBe(xs[0]!.t);
            expect(c.maxTime).toBe(xs[xs.length - 1]!.t);
            for (const x of xs) got.push([x.t, shape(x.h)]);
          }
        }
      }
      const w = want.get(names[row]!)!;
      if (names[row] === "f") expect(got.length).toBeGreaterThan(0);
      else expect(got).toEqual(w);
    }
    // The reset at sample 170 (2h50m) cuts column 2's chunk and marks the new one.
    expect(resets).toBe(1);
  });
});
