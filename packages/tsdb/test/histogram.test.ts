import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BitReader, BitWriter } from "../src/encoding/bstream.ts";
import { FormatError } from "../src/encoding/errors.ts";
import { STALE_NAN, floatHi, floatLo, isStaleNaN } from "../src/encoding/float-bits.ts";
import { HistogramIterator, decodeHistogramChunk, encodeHistogramChunk } from "../src/chunkenc/histogram.ts";
import {
  canonicalSpans,
  histogramChunkHeader,
  planChunk,
  putCustomBound,
  putZeroThreshold,
  readCustomBound,
  readZeroThreshold,
  spanIndices,
} from "../src/chunkenc/histogram-meta.ts";
import {
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHint,
  bucketBound,
  floatHistogramToString,
  histogramToString,
  toFloatHistogram,
  type Histogram,
  type HistogramSample,
  type Span,
} from "../src/chunkenc/histogram-types.ts";
import { putVarbitInt, putVarbitUint, readVarbitInt, readVarbitUint } from "../src/chunkenc/varbit.ts";
import { mulberry32 } from "@strata/testkit";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
function unhex(s: string): Uint8Array {
  return Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));
}
function bitString(w: BitWriter): string {
  let s = "";
  const b = w.bytes();
  for (let i = 0; i < w.nbits; i++) s += (b[i >>> 3]! >>> (7 - (i & 7))) & 1;
  return s;
}
function bitsOf(v: number): string {
  return floatHi(v).toString(16).padStart(8, "0") + floatLo().toString(16).padStart(8, "0");
}

function hist(p: Partial<Histogram>): Histogram {
  return {
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
    counterResetHint: CounterResetHint.Unknown,
    ...p,
  };
}

describe("varbit integers", () => {
  it("uses Go's bit buckets at every class boundary", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [1, "10001"],
      [4, "10100"],
      [-3, "10101"],
      [5, "110000101"],
      [-4, "110111100"],
      [32, "110100000"],
      [-31, "110100001"],
      [33, "1110000100001"],
      [256, "1110100000000"],
      [2048, "11110100000000000"],
      [-2047, "11110100000000001"],
    ];
    for (const [v, bits] of cases) {
      const w = new BitWriter();
      putVarbitInt(w, v);
      expect(bitString(w), `value ${v}`).toBe(bits);
    }
  });

  it("round-trips signed and unsigned values across all widths", () => {
    const vals = [
      0, 1, -1, 4, -3, 5, -4, 32, -31, 33, 256, -255, 257, 2048, -2047, 2049, 131072, -131071, 131073, 16777216,
      -16777215, 16777217,
    ];
    const big = [
      2 ** 40,
      -(2 ** 40),
      2 ** 55,
      -(2 ** 55 - 1),
      2 ** 55 + 8,
      -(2 ** 55) - 8,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      1_700_000_000_000,
    ];
    const w = new BitWriter();
    for (const v of [...vals, ...big]) putVarbitInt(w, v);
    const uvals = [
      0,
      7,
      8,
      63,
      64,
      511,
      512,
      4095,
      4096,
      262143,
      262144,
      33554431,
      33554432,
      2 ** 56 - 8,
      2 ** 56,
      Number.MAX_SAFE_INTEGER,
    ];
    for (const v of uvals) putVarbitUint(w, v);
    const r = new BitReader(w.bytes());
    for (const v of [...vals, ...big]) expect(readVarbitInt(r)).toBe(v);
    for (const v of uvals) expect(readVarbitUint(r)).toBe(v);
  });

  it("sizes the 56- and 64-bit classes like Go", () => {
    const w = new BitWriter();
    putVarbitInt(w, 2 ** 55);
    expect(w.nbits).toBe(8 + 56);
    const w2 = new BitWriter();
    putVarbitInt(w2, -(2 ** 55));
    expect(w2.nbits).toBe(8 + 64);
  });
});

describe("layout fields", () => {
  it("encodes zero thresholds in one byte for powers of two 2^-243..2^10", () => {
    const one = (zt: number): string => {
      const w = new BitWriter();
      putZeroThreshold(w, zt);
      expect(readZeroThreshold(new BitReader(w.bytes()))).toBe(zt);
      return hex(w.bytes());
    };
    expect(one(0)).toBe("00");
    expect(one(2 ** -128)).toBe("74"); // 116, Prometheus' default
    expect(one(2 ** -243)).toBe("01");
    expect(one(2 ** 10)).toBe("fe");
    expect(one(2 ** 11)).toBe("ff 40 a0 00 00 00 00 00 00");
    expect(one(2 ** -244)).toBe("ff 30 b0 00 00 00 00 00 00");
    expect(one(0.001)).toBe("ff 3f 50 62 4d d2 f1 a9 fc");
  });

  it("encodes custom bounds as varbit(x*1000+1) or a 0 bit and 64 float bits", () => {
    const w = new BitWriter();
    putCustomBound(w, 0.5); // 501: prefix 1110 + 9 bits
    expect(bitString(w)).toBe("1110" + (501).toString(2).padStart(9, "0"));
    const vals = [0, 0.001, 1, 2.5, 33554.43, 33554.431, -1, 0.0001, 1e9, Infinity, 0.1 + 0.2];
    const w2 = new BitWriter();
    for (const v of vals) putCustomBound(w2, v);
    const r = new BitReader(w2.bytes());
    for (const v of vals) expect(readCustomBound(r)).toBe(v);
    const w3 = new BitWriter();
    putCustomBound(w3, -1);
    expect(w3.nbits).toBe(65);
  });

  it("reads spans as Go's bucket iterator does", () => {
    expect(
      spanIndices([
        { offset: -2, length: 2 },
        { offset: 0, length: 0 },
        { offset: 3, length: 1 },
      ]),
    ).toEqual([-2, -1, 3]);
    expect(
      spanIndices([
        { offset: 2, length: 0 },
        { offset: 3, length: 2 },
      ]),
    ).toEqual([5, 6]);
    expect(canonicalSpans([-2, -1, 3, 4, 9])).toEqual([
      { offset: -2, length: 2 },
      { offset: 3, length: 2 },
      { offset: 4, length: 1 },
    ]);
  });
});

// A 2-sample chunk worked out by hand from histogram.go (see docs/format/chunks-histogram.md):
// schema 0, zero threshold 2^-128, positive spans [{0,2}], buckets [1,3] then [2,5].
const HAND_INT = "00 02 00 74 46 47 8f a2 b1 40 24 00 00 00 00 00 00 8c bc 7d 13 6b 0e c6 20";
const handSamples: HistogramSample[] = [
  {
    t: 1000,
    h: hist({
      zeroThreshold: 2 ** -128,
      count: 5,
      zeroCount: 1,
      sum: 10,
      positiveSpans: [{ offset: 0, length: 2 }],
      positiveBuckets: [1, 3],
    }),
  },
  {
    t: 2000,
    h: hist({
      zeroThreshold: 2 ** -128,
      count: 8,
      zeroCount: 1,
      sum: 16,
      positiveSpans: [{ offset: 0, length: 2 }],
      positiveBuckets: [2, 5],
    }),
  },
];

describe("integer histogram chunk bytes", () => {
  it("matches the hand-derived 2-sample chunk", () => {
    // 74 | 0 | 10001 10010 0 | 0 = layout; t0 11110+000111101000; count 10101; zc 10001;
    // sum 64 bits; buckets 10001 10010; t dod 1000; count dod 10011; zc dod 0;
    // sum xor 11 01011 000011 101; bucket dods 10001 10001.
    expect(hex(encodeHistogramChunk(handSamples))).toBe(HAND_INT);
    const got = decodeHistogramChunk(unhex(HAND_INT));
    expect(got.map((s) => s.t)).toEqual([1000, 2000]);
    expect(got[1]!.h).toMatchObject({
      count: 8,
      zeroCount: 1,
      sum: 16,
      positiveBuckets: [2, 5],
      counterResetHint: CounterResetHint.NotReset,
    });
    expect(got[0]!.h.counterResetHint).toBe(CounterResetHint.Unknown);
  });

  it("keeps the doc's example bytes in sync", () => {
    const doc = readFileSync(new URL("../docs/format/chunks-histogram.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```hex\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/#.*$/gm, ""));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(hex(unhex(blocks[0]!))).toBe(HAND_INT);
    expect(hex(encodeHistogramChunk(decodeHistogramChunk(unhex(blocks[0]!))))).toBe(HAND_INT);
  });

  it("writes the counter reset hint into bits 7-6 of byte 2", () => {
    for (const hint of [
      CounterResetHint.Unknown,
      CounterResetHint.NotReset,
      CounterResetHint.Reset,
      CounterResetHint.Gauge,
    ] as const) {
      const b = encodeHistogramChunk(handSamples, hint);
      expect(b[2]).toBe(hint << 6);
      expect(histogramChunkHeader(b)).toEqual({ numSamples: 2, counterResetHint: hint });
    }
    const fromFirst = encodeHistogramChunk([
      { t: 1, h: { ...handSamples[0]!.h, counterResetHint: CounterResetHint.Gauge } },
    ]);
    expect(fromFirst[2]).toBe(0xc0);
    const gauge = decodeHistogramChunk(fromFirst);
    expect(gauge[0]!.h.counterResetHint).toBe(CounterResetHint.Gauge);
  });
});

describe("chunk layout choice (what Prometheus' appender ends with)", () => {
  const sp = (...a: [number, number][]): Span[] => a.map(([offset, length]) => ({ offset, length }));
  const shape = (p: Span[], n: Span[] = []): Histogram =>
    hist({
      positiveSpans: p,
      negativeSpans: n,
      positiveBuckets: spanIndices(p).map(() => 1),
      negativeBuckets: spanIndices(n).map(() => 1),
    });

  it("keeps the first sample's spans verbatim while later samples use a subset", () => {
    const first = shape(sp([0, 2], [0, 1]));
    const plan = planChunk([first, shape(sp([1, 1])), shape(sp([0, 3]))], false);
    expect(plan.layout.positiveSpans).toEqual(sp([0, 2], [0, 1]));
  });

  it("takes a sample's own spans when it brings new buckets and covers all old ones", () => {
    const plan = planChunk([shape(sp([0, 2])), shape(sp([0, 2], [0, 0], [3, 1]))], false);
    expect(plan.layout.positiveSpans).toEqual(sp([0, 2], [0, 0], [3, 1]));
    expect(plan.positiveIdx).toEqual([0, 1, 5]);
  });

  it("uses canonical spans of the union when the new sample also lacks buckets", () => {
    const plan = planChunk([shape(sp([0, 2])), shape(sp([1, 1], [0, 1]))], false);
    expect(plan.layout.positiveSpans).toEqual(sp([0, 3]));
  });

  it("makes only the lacking side canonical for counters, both sides for gauges", () => {
    const hs = [shape(sp([0, 2]), sp([0, 1])), shape(sp([0, 1]), sp([0, 1], [0, 1]))];
    const counter = planChunk(hs, false).layout;
    expect(counter.positiveSpans).toEqual(sp([0, 2]));
    expect(counter.negativeSpans).toEqual(sp([0, 1], [0, 1]));
    const gauge = planChunk(hs, true).layout;
    expect(gauge.negativeSpans).toEqual(sp([0, 2]));
  });

  it("expands every sample into the union with zero buckets", () => {
    const a: HistogramSample = {
      t: 1,
      h: hist({ count: 3, positiveSpans: sp([0, 1], [2, 1]), positiveBuckets: [1, 2] }),
    };
    const b: HistogramSample = { t: 2, h: hist({ count: 9, positiveSpans: sp([1, 2]), positiveBuckets: [4, 5] }) };
    const got = decodeHistogramChunk(encodeHistogramChunk([a, b]));
    expect(got[0]!.h.positiveSpans).toEqual(sp([0, 4]));
    expect(got[0]!.h.positiveBuckets).toEqual([1, 0, 0, 2]);
    expect(got[1]!.h.positiveBuckets).toEqual([0, 4, 5, 0]);
  });

  it("rejects samples that Prometheus would put into a new chunk", () => {
    const base = handSamples[0]!;
    const at = (h: Partial<Histogram>): HistogramSample => ({ t: 3000, h: { ...base.h, ...h } });
    expect(() => encodeHistogramChunk([base, at({ schema: 1 })])).toThrow(/schema changes/);
    expect(() => encodeHistogramChunk([base, at({ zeroThreshold: 0.5 })])).toThrow(/zero threshold/);
    const c = (cv: number[]): Histogram =>
      hist({ schema: CUSTOM_BUCKETS_SCHEMA, customValues: cv, positiveSpans: sp([0, 1]), positiveBuckets: [1] });
    expect(() =>
      encodeHistogramChunk([
        { t: 1, h: c([1, 2]) },
        { t: 2, h: c([1, 3]) },
      ]),
    ).toThrow(/custom bucket bounds/);
    const stale = at({ sum: STALE_NAN });
    expect(() => encodeHistogramChunk([base, stale, { ...at({}), t: 4000 }])).toThrow(/stale marker/);
    expect(() => encodeHistogramChunk([])).toThrow(RangeError);
    expect(() => encodeHistogramChunk([at({ positiveBuckets: [1] })])).toThrow(/cover 2 buckets/);
    expect(() => encodeHistogramChunk([at({ count: 1.5 })])).toThrow(/count 1.5/);
  });
});

describe("stale markers", () => {
  it("keeps the stale NaN bits and writes no buckets", () => {
    const stale = (t: number): HistogramSample => ({
      t,
      h: hist({ sum: STALE_NAN, count: 99, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [7] }),
    });
    const data = encodeHistogramChunk([...handSamples, stale(3000), stale(4500)]);
    // Sample 3: t dod 0, count/zc dods forced to 0, sum window; sample 4: t dod 500.
    const got = decodeHistogramChunk(data);
    expect(got.map((s) => s.t)).toEqual([1000, 2000, 3000, 4500]);
    for (const s of got.slice(2)) {
      expect(isStaleNaN(s.h.sum)).toBe(true);
      expect(bitsOf(s.h.sum)).toBe("7ff0000000000002");
      expect(s.h).toMatchObject({ count: 0, schema: 0, positiveBuckets: [], positiveSpans: [] });
    }
    expect(hex(encodeHistogramChunk(got))).toBe(hex(data));
    expect(histogramToString(got[2]!.h)).toBe("{count:0, sum:NaN}");
  });

  it("writes a chunk that starts stale with the empty layout", () => {
    const data = encodeHistogramChunk([
      {
        t: 5,
        h: hist({
          sum: STALE_NAN,
          schema: 3,
          zeroThreshold: 1,
          positiveSpans: [{ offset: 0, length: 1 }],
          positiveBuckets: [1],
        }),
      },
      { t: 9, h: hist({ sum: STALE_NAN, schema: 5 }) },
    ]);
    // layout: 00 | schema 0 | 0 spans | 0 spans, then t=5 (10 101 → 5 bits), count 0, zc 0, sum.
    expect(hex(data.subarray(0, 4))).toBe("00 02 00 00");
    const got = decodeHistogramChunk(data);
    expect(got.map((s) => [s.t, bitsOf(s.h.sum)])).toEqual([
      [5, "7ff0000000000002"],
      [9, "7ff0000000000002"],
    ]);
    expect(() =>
      encodeHistogramChunk([
        { t: 5, h: hist({ sum: STALE_NAN }) },
        { t: 6, h: hist({ sum: 1 }) },
      ]),
    ).toThrow(/stale/);
  });
});

// ---- Random round trips ----

function randomSpans(rnd: () => number, maxBuckets: number): { spans: Span[]; idx: number[] } {
  const spans: Span[] = [];
  const n = Math.floor(rnd() * 4);
  let idx = Math.floor(rnd() * 20) - 10;
  let first = true;
  for (let i = 0; i < n; i++) {
    const offset = first ? idx : Math.floor(rnd() * 4); // offset 0 splits a run (non-canonical but valid)
    if (!first) idx += offset;
    const length = rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * Math.min(6, maxBuckets));
    spans.push({ offset, length });
    idx += length;
    first = false;
  }
  return { spans, idx: spanIndices(spans) };
}

function randomChunk(rnd: () => number): { samples: HistogramSample[]; hint: CounterResetHint } {
  const custom = rnd() < 0.2;
  const schema = custom ? CUSTOM_BUCKETS_SCHEMA : Math.floor(rnd() * 13) - 4;
  const zts = [0, 2 ** -128, 0.001, 2 ** 10, 1e-300];
  const zeroThreshold = custom ? 0 : zts[Math.floor(rnd() * zts.length)];
  let customValues: number[] | undefined;
  if (custom) {
    customValues = [];
    let b = rnd() < 0.5 ? -5 : 0;
    const nb = Math.floor(rnd() * 12);
    for (let i = 0; i < nb; i++) {
      b += rnd() < 0.5 ? Math.floor(rnd() * 5000) / 1000 + 0.001 : rnd() * 7;
      customValues.push(b);
    }
  }
  const hints = [
    CounterResetHint.Unknown,
    CounterResetHint.NotReset,
    CounterResetHint.Reset,
    CounterResetHint.Gauge,
  ] as const;
  const hint = hints[Math.floor(rnd() * 4)]!;
  const n = 1 + Math.floor(rnd() * 40);
  const samples: HistogramSample[] = [];
  let t = Math.floor(rnd() * 2e12) - 1e12;
  const staleFrom = rnd() < 0.2 ? Math.floor(rnd() * n) : n;
  const big = rnd() < 0.1;
  for (let i = 0; i < n; i++) {
    t += rnd() < 0.1 ? Math.floor(rnd() * 1e9) : 1 + Math.floor(rnd() * 30000);
    if (i >= staleFrom) {
      samples.push({ t, h: hist({ sum: STALE_NAN }) });
      continue;
    }
    const p = randomSpans(rnd, 6);
    const ng = custom ? { spans: [], idx: [] } : randomSpans(rnd, 6);
    const cnt = (): number => (rnd() < 0.3 ? 0 : Math.floor(rnd() * (big ? 2 ** 45 : rnd() < 0.5 ? 10 : 1e6)));
    const pb = p.idx.map(cnt);
    const nb = ng.idx.map(cnt);
    const zeroCount = custom ? 0 : cnt();
    const count = zeroCount + pb.reduce((a, b) => a + b, 0) + nb.reduce((a, b) => a + b, 0);
    const sum = rnd() < 0.1 ? NaN : rnd() < 0.5 ? Math.floor(rnd() * 1000) : (rnd() - 0.3) * 1e6;
    samples.push({
      t,
      h: hist({
        schema,
        zeroThreshold,
        zeroCount,
        count,
        sum,
        positiveSpans: p.spans,
        negativeSpans: ng.spans,
        positiveBuckets: pb,
        negativeBuckets: nb,
        customValues: customValues?.slice(),
      }),
    });
  }
  return { samples, hint };
}

function bucketMap(spans: Span[], counts: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (const [i, idx] of spanIndices(spans).entries()) m.set(idx, counts[i]!);
  return m;
}

describe("random integer histogram round trips", () => {
  it("decodes what it encodes, and re-encodes to the same bytes", () => {
    const rnd = mulberry32(0x5eed);
    let bytes = 0;
    let nSamples = 0;
    for (let c = 0; c < 400; c++) {
      const { samples, hint } = randomChunk(rnd);
      const data = encodeHistogramChunk(samples, hint);
      bytes += data.length;
      nSamples += samples.length;
      expect(histogramChunkHeader(data)).toEqual({ numSamples: samples.length, counterResetHint: hint });
      const plan = planChunk(
        samples.map((s) => s.h),
        hint === CounterResetHint.Gauge,
      );
      const got = decodeHistogramChunk(data);
      // Compare one summary per chunk: vitest's expect is too slow to call per bucket.
      const view = (i: number, h: Histogram, expected: boolean): unknown => {
        if (isStaleNaN(h.sum)) return [samples[i]!.t, bitsOf(h.sum), expected ? 0 : h.count];
        const hintWant =
          hint === CounterResetHint.Gauge ? hint : i === 0 ? CounterResetHint.Unknown : CounterResetHint.NotReset;
        const ref = samples[i]!.h;
        // Buckets as index→count over the chunk layout: absent buckets read back as 0.
        const side = (spans: Span[], counts: ArrayLike<number>, layoutIdx: number[]): number[] => {
          const m = bucketMap(spans, counts);
          return layoutIdx.map((idx) => m.get(idx) ?? 0);
        };
        return [
          expected ? samples[i]!.t : got[i]!.t,
          bitsOf(h.sum),
          h.schema,
          h.zeroThreshold,
          h.count,
          h.zeroCount,
          expected ? (ref.schema === CUSTOM_BUCKETS_SCHEMA ? ref.customValues : undefined) : h.customValues,
          expected ? plan.layout.positiveSpans : h.positiveSpans,
          expected ? plan.layout.negativeSpans : h.negativeSpans,
          side(h.positiveSpans, h.positiveBuckets, plan.positiveIdx),
          side(h.negativeSpans, h.negativeBuckets, plan.negativeIdx),
          expected ? hintWant : h.counterResetHint,
        ];
      };
      expect(got.map((s, i) => view(i, s.h, false))).toEqual(samples.map((s, i) => view(i, s.h, true)));
      const pSet = new Set(plan.positiveIdx);
      const nSet = new Set(plan.negativeIdx);
      const covered = samples.every(
        (s) =>
          isStaleNaN(s.h.sum) ||
          (spanIndices(s.h.positiveSpans).every((x) => pSet.has(x)) &&
            spanIndices(s.h.negativeSpans).every((x) => nSet.has(x))),
      );
      expect(covered).toBe(true);
      expect(hex(encodeHistogramChunk(got, hint))).toBe(hex(data));
    }
    expect(nSamples).toBeGreaterThan(4000);
    expect(bytes).toBeGreaterThan(0);
  });

  it("reads integer chunks as float histograms", () => {
    const fh = toFloatHistogram(decodeHistogramChunk(unhex(HAND_INT))[1]!.h);
    expect(Array.from(fh.positiveBuckets)).toEqual([2, 5]);
    expect(fh.count).toBe(8);
    expect(floatHistogramToString(fh)).toBe(histogramToString(decodeHistogramChunk(unhex(HAND_INT))[1]!.h));
  });

  it("reuses the iterator's histogram object across samples", () => {
    const it = new HistogramIterator();
    it.reset(unhex(HAND_INT));
    expect(it.next()).toBe(true);
    const h0 = it.h;
    expect(h0.positiveBuckets).toEqual([1, 3]);
    expect(it.next()).toBe(true);
    expect(it.h).toBe(h0);
    expect(h0.positiveBuckets).toEqual([2, 5]);
    expect(it.next()).toBe(false);
  });
});

describe("malformed histogram chunks", () => {
  const rnd = mulberry32(77);
  const valid: Uint8Array[] = [unhex(HAND_INT)];
  for (let i = 0; i < 30; i++) valid.push(encodeHistogramChunk(randomChunk(rnd).samples));

  const decodeAll = (d: Uint8Array): number => {
    const it = new HistogramIterator();
    it.reset(d);
    let n = 0;
    while (it.next()) n++;
    return n;
  };

  it("throws FormatError for every truncation", () => {
    for (const d of valid) {
      const step = Math.max(1, Math.floor(d.length / 60));
      for (let len = 0; len < d.length; len += len < 8 || len > d.length - 8 ? 1 : step) {
        let err: unknown;
        try {
          decodeAll(d.subarray(0, len));
        } catch (e) {
          err = e;
        }
        expect(err, `length ${len} of ${d.length}`).toBeInstanceOf(FormatError);
      }
    }
  });

  it("never throws anything but FormatError on corrupted or random bytes, and terminates", () => {
    const start = Date.now();
    for (let k = 0; k < 3000; k++) {
      let d: Uint8Array;
      if (k % 2 === 0) {
        d = valid[k % valid.length]!.slice();
        for (let f = 0; f < 1 + (k % 4); f++) d[Math.floor(rnd() * d.length)]! ^= 1 << Math.floor(rnd() * 8);
      } else {
        d = Uint8Array.from({ length: 3 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      }
      try {
        decodeAll(d);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }
    expect(Date.now() - start).toBeLessThan(20_000);
  });

  it("rejects unknown schemas and impossible span counts before allocating", () => {
    const w = new BitWriter();
    w.writeBits(1, 16);
    w.writeBits(0, 8);
    putZeroThreshold(w, 0);
    putVarbitInt(w, 60); // schema
    expect(() => decodeAll(w.bytes().slice())).toThrow(/unknown histogram schema/);
    const w2 = new BitWriter();
    w2.writeBits(1, 16);
    w2.writeBits(0, 8);
    putZeroThreshold(w2, 0);
    putVarbitInt(w2, 0);
    putVarbitUint(w2, 2 ** 50); // span count
    expect(() => decodeAll(w2.bytes().slice())).toThrow(FormatError);
    const w3 = new BitWriter();
    w3.writeBits(1, 16);
    w3.writeBits(0, 8);
    putZeroThreshold(w3, 0);
    putVarbitInt(w3, 0);
    putVarbitUint(w3, 1);
    putVarbitUint(w3, 2 ** 31); // one span with 2^31 buckets
    putVarbitInt(w3, 0);
    putVarbitUint(w3, 0);
    expect(() => decodeAll(w3.bytes().slice())).toThrow(/more buckets than/);
  });
});

describe("String() like Go", () => {
  it("renders model/histogram's integer test cases", () => {
    expect(histogramToString(hist({}))).toBe("{count:0, sum:0}");
    const neg = {
      negativeSpans: [
        { offset: 0, length: 5 },
        { offset: 1, length: 1 },
      ],
      negativeBuckets: [1, 3, 1, 2, 1, 1],
    };
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: a sum as Prometheus' own test writes it
    expect(histogramToString(hist({ count: 9, sum: -3.1415, zeroCount: 12, zeroThreshold: 0.001, ...neg }))).toBe(
      "{count:9, sum:-3.1415, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, [-0.001,0.001]:12}",
    );
    const pos = {
      positiveSpans: [
        { offset: 0, length: 4 },
        { offset: 0, length: 0 },
        { offset: 0, length: 3 },
      ],
      positiveBuckets: [1, 3, 1, 2, 1, 1, 1],
    };
    expect(
      histogramToString(
        hist({
          count: 19,
          sum: 2.7,
          ...pos,
          negativeSpans: [
            { offset: 0, length: 5 },
            { offset: 1, length: 0 },
            { offset: 0, length: 1 },
          ],
          negativeBuckets: neg.negativeBuckets,
        }),
      ),
    ).toBe(
      "{count:19, sum:2.7, [-64,-32):1, [-16,-8):1, [-8,-4):2, [-4,-2):1, [-2,-1):3, [-1,-0.5):1, (0.5,1]:1, (1,2]:3, (2,4]:1, (4,8]:2, (8,16]:1, (16,32]:1, (32,64]:1}",
    );
    expect(
      histogramToString(
        hist({
          schema: CUSTOM_BUCKETS_SCHEMA,
          count: 19,
          sum: 2.7,
          ...pos,
          customValues: [1, 2, 5, 10, 15, 20, 25, 50],
        }),
      ),
    ).toBe("{count:19, sum:2.7, [-Inf,1]:1, (1,2]:3, (2,5]:1, (5,10]:2, (10,15]:1, (15,20]:1, (20,25]:1}");
  });

  it("uses Go's tabulated bounds, not Math.pow", () => {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: Go's value, one ulp below Math.SQRT2 (1.4142135623730951)
    expect(bucketBound(1, 1)).toBe(1.414213562373095);
    expect(bucketBound(3, 8)).toBe(2 * 0.5040779490592088);
    expect(bucketBound(256, -2)).toBe(Number.MAX_VALUE); // 2^1024 would be +Inf
    expect(bucketBound(257, -2)).toBe(Infinity);
    expect(bucketBound(1024 * 256, 8)).toBe(Number.MAX_VALUE);
    expect(bucketBound(1024 * 256 + 1, 8)).toBe(Infinity);
    expect(bucketBound(-1075, 0)).toBe(0);
    expect(bucketBound(-1074, 0)).toBe(5e-324);
    expect(bucketBound(-1, 0)).toBe(0.5);
    expect(bucketBound(-1, 3)).toBe(0.9170040432046711);
  });
});
