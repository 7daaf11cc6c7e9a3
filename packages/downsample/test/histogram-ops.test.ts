import { describe, expect, it } from "vitest";
import {
  CounterResetHint,
  addFloatHistogram,
  copyToSchema,
  detectReset,
  subFloatHistogram,
  type FloatHistogram,
  type Span,
} from "@strata/tsdb";

function fh(
  schema: number,
  spans: Span[],
  buckets: number[],
  hint: FloatHistogram["counterResetHint"] = CounterResetHint.Unknown,
): FloatHistogram {
  const count = buckets.reduce((a, b) => a + b, 0);
  return {
    schema,
    zeroThreshold: 0,
    zeroCount: 0,
    count,
    sum: count,
    positiveSpans: spans,
    negativeSpans: [],
    positiveBuckets: Float64Array.from(buckets),
    negativeBuckets: new Float64Array(0),
    counterResetHint: hint,
  };
}

describe("float histogram ops (Prometheus semantics)", () => {
  it("copyToSchema merges pairs of buckets per schema step and drops the hint", () => {
    // Schema 1 indices 1..4 → schema 0: (1,2) → 1, (3,4) → 2; index 7 → 4.
    const r = copyToSchema(
      fh(
        1,
        [
          { offset: 1, length: 4 },
          { offset: 2, length: 1 },
        ],
        [1, 2, 3, 4, 5],
        CounterResetHint.Gauge,
      ),
      0,
    );
    expect(r.positiveSpans).toEqual([
      { offset: 1, length: 2 },
      { offset: 1, length: 1 },
    ]);
    expect(Array.from(r.positiveBuckets)).toEqual([3, 7, 5]);
    expect(r.counterResetHint).toBe(CounterResetHint.Unknown);
  });

  it("add fills a one-bucket gap by extending the previous span, as Go's addBuckets does", () => {
    const a = fh(
      0,
      [
        { offset: 0, length: 1 },
        { offset: 1, length: 1 },
      ],
      [1, 1],
    );
    addFloatHistogram(a, fh(0, [{ offset: 1, length: 1 }], [5]));
    // Go leaves a zero-offset second span rather than merging.
    expect(a.positiveSpans).toEqual([
      { offset: 0, length: 2 },
      { offset: 0, length: 1 },
    ]);
    expect(Array.from(a.positiveBuckets)).toEqual([1, 5, 1]);
    expect(a.count).toBe(7);
  });

  it("sub keeps the receiver's buckets and takes the gauge hint from either side", () => {
    const a = fh(0, [{ offset: 0, length: 2 }], [4, 4], CounterResetHint.NotReset);
    subFloatHistogram(a, fh(0, [{ offset: 1, length: 1 }], [1], CounterResetHint.Gauge));
    expect(Array.from(a.positiveBuckets)).toEqual([4, 3]);
    expect(a.counterResetHint).toBe(CounterResetHint.Gauge);
  });

  it("detectReset: hints first, then count, schema increase and vanished buckets", () => {
    const prev = fh(0, [{ offset: 0, length: 2 }], [2, 2]);
    expect(detectReset(fh(0, [{ offset: 0, length: 2 }], [3, 2]), prev)).toBe(false);
    expect(detectReset(fh(0, [{ offset: 0, length: 2 }], [3, 1], CounterResetHint.NotReset), prev)).toBe(false);
    expect(detectReset(fh(0, [{ offset: 0, length: 2 }], [5, 1]), prev)).toBe(true); // a bucket shrank
    expect(detectReset(fh(0, [{ offset: 0, length: 1 }], [9]), prev)).toBe(true); // a populated bucket vanished
    expect(detectReset(fh(1, [{ offset: 0, length: 4 }], [2, 2, 2, 2]), prev)).toBe(true); // schema went up
    // A finer previous histogram is compared at the current schema: schema 1 [1,1,1,1] at indices 0..3 is schema 0 [1,
    // 2, 1].
    expect(
      detectReset(fh(0, [{ offset: 0, length: 3 }], [1, 2, 1]), fh(1, [{ offset: 0, length: 4 }], [1, 1, 1, 1])),
    ).toBe(false);
  });
});
