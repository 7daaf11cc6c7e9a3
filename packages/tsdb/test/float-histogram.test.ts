import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import { STALE_NAN, bitsToFloat, floatHi, floatLo, isStaleNaN } from "../src/encoding/float-bits.ts";
import {
  FloatHistogramIterator,
  decodeFloatHistogramChunk,
  encodeFloatHistogramChunk,
} from "../src/chunkenc/float-histogram.ts";
import { histogramChunkHeader, planChunk, spanIndices } from "../src/chunkenc/histogram-meta.ts";
import {
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHint,
  floatHistogramToString,
  type FloatHistogram,
  type FloatHistogramSample,
  type Span,
} from "../src/chunkenc/histogram-types.ts";
import { mulberry32 } from "@strata/testkit";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}
function unhex(s: string): Uint8Array {
  return Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));
}
function bitsOf(v: number): string {
  return floatHi(v).toString(16).padStart(8, "0") + floatLo().toString(16).padStart(8, "0");
}

function fhist(
  p: Partial<Omit<FloatHistogram, "positiveBuckets" | "negativeBuckets">> & {
    positiveBuckets?: number[];
    negativeBuckets?: number[];
  },
): FloatHistogram {
  return {
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: [],
    negativeSpans: [],
    counterResetHint: CounterResetHint.Unknown,
    ...p,
    positiveBuckets: Float64Array.from(p.positiveBuckets ?? []),
    negativeBuckets: Float64Array.from(p.negativeBuckets ?? []),
  };
}

// Worked out by hand from float_histogram.go (see docs/format/chunks-histogram.md): same
// layout as the integer example; count 5 → 8.5, buckets [1, 3] → [2, 5.5].
const HAND_FLOAT =
  "00 02 00 74 46 47 8f a1 00 50 00 00 00 00 00 00 ff c0 00 00 00 00 00 01 00 90 00 00 00 00 00 00 " +
  "ff c0 00 00 00 00 00 01 00 20 00 00 00 00 00 03 c7 d1 a8 6d 5a c3 b8 4b ff fa c4 f0";
const span2 = [{ offset: 0, length: 2 }];
const handSamples: FloatHistogramSample[] = [
  {
    t: 1000,
    h: fhist({
      zeroThreshold: 2 ** -128,
      count: 5,
      zeroCount: 1,
      sum: 10,
      positiveSpans: span2,
      positiveBuckets: [1, 3],
    }),
  },
  {
    t: 2000,
    h: fhist({
      zeroThreshold: 2 ** -128,
      count: 8.5,
      zeroCount: 1,
      sum: 16,
      positiveSpans: span2,
      positiveBuckets: [2, 5.5],
    }),
  },
];

describe("float histogram chunk bytes", () => {
  it("matches the hand-derived 2-sample chunk", () => {
    // Sample 1 after t dod: count XOR 0x0035<<48 (11 01010 000110 110101), zero count 0,
    // sum 11 01011 000011 101, bucket 0 11 00001 001011 1×11, bucket 1 11 01011 000100 1111.
    expect(hex(encodeFloatHistogramChunk(handSamples))).toBe(hex(unhex(HAND_FLOAT)));
    const got = decodeFloatHistogramChunk(unhex(HAND_FLOAT));
    expect(got.map((s) => s.t)).toEqual([1000, 2000]);
    expect(Array.from(got[1]!.h.positiveBuckets)).toEqual([2, 5.5]);
    expect(got[1]!.h).toMatchObject({
      count: 8.5,
      zeroCount: 1,
      sum: 16,
      zeroThreshold: 2 ** -128,
      counterResetHint: CounterResetHint.NotReset,
    });
  });

  it("keeps the doc's example bytes in sync", () => {
    const doc = readFileSync(new URL("../docs/format/chunks-histogram.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```hex\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/#.*$/gm, ""));
    expect(hex(unhex(blocks[1]!))).toBe(hex(unhex(HAND_FLOAT)));
    expect(hex(encodeFloatHistogramChunk(decodeFloatHistogramChunk(unhex(blocks[1]!))))).toBe(hex(unhex(HAND_FLOAT)));
  });

  it("preserves NaN payloads and signed zeros bit-exactly", () => {
    const goNaN = bitsToFloat(0x7ff80000, 1); // Go's math.NaN()
    const h = (t: number, v: number): FloatHistogramSample => {
      const fh = fhist({
        count: v,
        zeroCount: -0,
        sum: v,
        positiveSpans: [{ offset: 1, length: 1 }],
        positiveBuckets: [0],
      });
      fh.positiveBuckets[0] = v;
      return { t, h: fh };
    };
    const got = decodeFloatHistogramChunk(encodeFloatHistogramChunk([h(1, goNaN), h(2, -0), h(3, goNaN)]));
    expect(got.map((s) => [bitsOf(s.h.count), bitsOf(s.h.positiveBuckets[0]!), bitsOf(s.h.zeroCount)])).toEqual([
      ["7ff8000000000001", "7ff8000000000001", "8000000000000000"],
      ["8000000000000000", "8000000000000000", "8000000000000000"],
      ["7ff8000000000001", "7ff8000000000001", "8000000000000000"],
    ]);
  });
});

describe("float stale markers", () => {
  it("writes count 0 and the stale sum, no buckets, and keeps the NaN bits", () => {
    const stale = (t: number): FloatHistogramSample => ({
      t,
      h: fhist({ sum: STALE_NAN, count: 3, positiveSpans: span2, positiveBuckets: [1, 2] }),
    });
    const data = encodeFloatHistogramChunk([...handSamples, stale(3000), stale(4000)]);
    const got = decodeFloatHistogramChunk(data);
    expect(got.map((s) => [s.t, bitsOf(s.h.sum), s.h.count, s.h.positiveBuckets.length])).toEqual([
      [1000, bitsOf(10), 5, 2],
      [2000, bitsOf(16), 8.5, 2],
      [3000, "7ff0000000000002", 0, 0],
      [4000, "7ff0000000000002", 0, 0],
    ]);
    expect(hex(encodeFloatHistogramChunk(got))).toBe(hex(data));
    expect(floatHistogramToString(got[3]!.h)).toBe("{count:0, sum:NaN}");
    expect(() => encodeFloatHistogramChunk([stale(1), handSamples[1]!])).toThrow(/stale marker/);
  });
});

// ---- Random round trips ----

function randomSpans(rnd: () => number): Span[] {
  const spans: Span[] = [];
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const offset = i === 0 ? Math.floor(rnd() * 30) - 15 : Math.floor(rnd() * 5);
    spans.push({ offset, length: rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 5) });
  }
  return spans;
}

function randomChunk(rnd: () => number): { samples: FloatHistogramSample[]; hint: CounterResetHint } {
  const custom = rnd() < 0.2;
  const schema = custom ? CUSTOM_BUCKETS_SCHEMA : Math.floor(rnd() * 13) - 4;
  const zeroThreshold = custom ? 0 : [0, 2 ** -128, 0.001, 3.5][Math.floor(rnd() * 4)];
  const customValues = custom
    ? Array.from({ length: Math.floor(rnd() * 8) }, (_, i) => i * 0.25 + (rnd() < 0.3 ? rnd() / 1e6 : 0))
    : undefined;
  const hint = ([0, 1, 2, 3] as const)[Math.floor(rnd() * 4)]!;
  const n = 1 + Math.floor(rnd() * 40);
  const staleFrom = rnd() < 0.2 ? Math.floor(rnd() * n) : n;
  const samples: FloatHistogramSample[] = [];
  let t = Math.floor(rnd() * 1e12);
  const value = (): number => {
    const r = rnd();
    if (r < 0.25) return 0;
    if (r < 0.5) return Math.floor(rnd() * 100);
    if (r < 0.55) return -rnd() * 10; // gauges and broken data
    return rnd() * 1000;
  };
  for (let i = 0; i < n; i++) {
    t += 1 + Math.floor(rnd() * 60000);
    if (i >= staleFrom) {
      samples.push({ t, h: fhist({ sum: STALE_NAN }) });
      continue;
    }
    const ps = randomSpans(rnd);
    const ns = custom ? [] : randomSpans(rnd);
    const pb = spanIndices(ps).map(value);
    const nb = spanIndices(ns).map(value);
    const zeroCount = custom ? 0 : value();
    const count = zeroCount + pb.reduce((a, b) => a + b, 0) + nb.reduce((a, b) => a + b, 0);
    samples.push({
      t,
      h: fhist({
        schema,
        zeroThreshold,
        zeroCount,
        count,
        sum: value() * 3.3,
        positiveSpans: ps,
        negativeSpans: ns,
        positiveBuckets: pb,
        negativeBuckets: nb,
        customValues: customValues?.slice(),
      }),
    });
  }
  return { samples, hint };
}

describe("random float histogram round trips", () => {
  it("decodes what it encodes, and re-encodes to the same bytes", () => {
    const rnd = mulberry32(0xf10a7);
    let total = 0;
    for (let c = 0; c < 400; c++) {
      const { samples, hint } = randomChunk(rnd);
      const data = encodeFloatHistogramChunk(samples, hint);
      expect(histogramChunkHeader(data)).toEqual({ numSamples: samples.length, counterResetHint: hint });
      const plan = planChunk(
        samples.map((s) => s.h),
        hint === CounterResetHint.Gauge,
      );
      const got = decodeFloatHistogramChunk(data);
      total += got.length;
      const side = (spans: Span[], counts: Float64Array, layoutIdx: number[]): string[] => {
        const m = new Map<number, number>();
        for (const [i, idx] of spanIndices(spans).entries()) m.set(idx, counts[i]!);
        return layoutIdx.map((idx) => bitsOf(m.get(idx) ?? 0));
      };
      const view = (i: number, h: FloatHistogram, expected: boolean): unknown => {
        if (isStaleNaN(h.sum)) return [samples[i]!.t, bitsOf(h.sum), expected ? 0 : h.count];
        return [
          expected ? samples[i]!.t : got[i]!.t,
          bitsOf(h.sum),
          h.schema,
          h.zeroThreshold,
          bitsOf(h.count),
          bitsOf(h.zeroCount),
          expected ? (h.schema === CUSTOM_BUCKETS_SCHEMA ? h.customValues : undefined) : h.customValues,
          expected ? plan.layout.positiveSpans : h.positiveSpans,
          expected ? plan.layout.negativeSpans : h.negativeSpans,
          side(h.positiveSpans, h.positiveBuckets, plan.positiveIdx),
          side(h.negativeSpans, h.negativeBuckets, plan.negativeIdx),
          expected
            ? hint === CounterResetHint.Gauge
              ? hint
              : i === 0
                ? CounterResetHint.Unknown
                : CounterResetHint.NotReset
            : h.counterResetHint,
        ];
      };
      expect(got.map((s, i) => view(i, s.h, false))).toEqual(samples.map((s, i) => view(i, s.h, true)));
      expect(hex(encodeFloatHistogramChunk(got, hint))).toBe(hex(data));
    }
    expect(total).toBeGreaterThan(4000);
  });

  it("reuses the iterator's histogram object across samples", () => {
    const it = new FloatHistogramIterator();
    it.reset(unhex(HAND_FLOAT));
    expect(it.next()).toBe(true);
    const h0 = it.h;
    expect(it.next()).toBe(true);
    expect(it.h).toBe(h0);
    expect(Array.from(h0.positiveBuckets)).toEqual([2, 5.5]);
    expect(it.next()).toBe(false);
  });
});

describe("malformed float histogram chunks", () => {
  const rnd = mulberry32(99);
  const valid: Uint8Array[] = [unhex(HAND_FLOAT)];
  for (let i = 0; i < 30; i++) valid.push(encodeFloatHistogramChunk(randomChunk(rnd).samples));
  const decodeAll = (d: Uint8Array): number => {
    const it = new FloatHistogramIterator();
    it.reset(d);
    let n = 0;
    while (it.next()) n++;
    return n;
  };

  it("throws FormatError for truncations", () => {
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

  it("never throws anything but FormatError on corrupted or random bytes", () => {
    for (let k = 0; k < 3000; k++) {
      let d: Uint8Array;
      if (k % 2 === 0) {
        d = valid[k % valid.length]!.slice();
        for (let f = 0; f < 1 + (k % 4); f++) d[Math.floor(rnd() * d.length)]! ^= 1 << Math.floor(rnd() * 8);
      } else {
        d = Uint8Array.from({ length: 3 + Math.floor(rnd() * 60) }, () => Math.floor(rnd() * 256));
      }
      try {
        decodeAll(d);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }
    expect(() => decodeAll(Uint8Array.of(0, 1))).toThrow(FormatError);
  });
});

describe("FloatHistogram String() like Go", () => {
  it("renders model/histogram's float test cases", () => {
    const exp = fhist({
      schema: 1,
      zeroThreshold: 0.01,
      zeroCount: 5.5,
      count: 3493.3,
      sum: 2349209.324,
      positiveSpans: [
        { offset: -2, length: 1 },
        { offset: 2, length: 3 },
      ],
      positiveBuckets: [1, 3.3, 4.2, 0.1],
      negativeSpans: [
        { offset: 3, length: 2 },
        { offset: 3, length: 2 },
      ],
      negativeBuckets: [3.1, 3, 1.234e5, 1000],
    });
    expect(floatHistogramToString(exp)).toBe(
      "{count:3493.3, sum:2.349209324e+06, [-22.62741699796952,-16):1000, [-16,-11.31370849898476):123400, [-4,-2.82842712474619):3, [-2.82842712474619,-2):3.1, [-0.01,0.01]:5.5, (0.35355339059327373,0.5]:1, (1,1.414213562373095]:3.3, (1.414213562373095,2]:4.2, (2,2.82842712474619]:0.1}",
    );
    const custom = fhist({
      schema: CUSTOM_BUCKETS_SCHEMA,
      count: 3493.3,
      sum: 2349209.324,
      positiveSpans: [
        { offset: 0, length: 1 },
        { offset: 2, length: 4 },
      ],
      positiveBuckets: [1, 3.3, 4.2, 0.1, 5],
      customValues: [1, 2, 5, 10, 15, 20],
    });
    expect(floatHistogramToString(custom)).toBe(
      "{count:3493.3, sum:2.349209324e+06, [-Inf,1]:1, (5,10]:3.3, (10,15]:4.2, (15,20]:0.1, (20,+Inf]:5}",
    );
  });
});
