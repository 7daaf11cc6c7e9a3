import {
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHint,
  bucketBound,
  type FloatHistogram,
  type Span,
} from "./histogram-types.ts";

/**
 * Float histogram arithmetic with Prometheus' semantics (P: model/histogram/
 * float_histogram.go and generic.go: CopyToSchema, Add, Sub, DetectReset, the zero-bucket
 * reconciliation and reduceResolution), for exponential schemas. Downsampling needs the
 * exact span shapes and counter reset hints Go produces, since both end up in chunks.
 * Histograms with custom buckets (schema -53) are refused with a RangeError.
 */

const GO_CHUNK_HINT = CounterResetHint; // hints use the chunk-header numbering (see histogram-types.ts)

function requireExponential(h: FloatHistogram, op: string): void {
  if (h.schema === CUSTOM_BUCKETS_SCHEMA)
    throw new RangeError(`${op}: histograms with custom buckets (schema -53) are not supported`);
}

/** Bucket index in targetSchema of bucket idx in originSchema (originSchema ≥ targetSchema). */
export function targetBucketIndex(idx: number, originSchema: number, targetSchema: number): number {
  return ((idx - 1) >> (originSchema - targetSchema)) + 1;
}

/** Go's reduceResolution for absolute (non-delta) counts: merges buckets into the coarser schema. */
export function reduceBuckets(
  spans: readonly Span[],
  buckets: ArrayLike<number>,
  originSchema: number,
  targetSchema: number,
): { spans: Span[]; buckets: Float64Array } {
  const outSpans: Span[] = [];
  const out: number[] = [];
  let idx = 0;
  let b = 0;
  let lastTarget = 0;
  for (const span of spans) {
    idx += span.offset;
    for (let j = 0; j < span.length; j++, idx++, b++) {
      if (b >= buckets.length) throw new RangeError(`have ${buckets.length} buckets but spans need more`);
      const ti = targetBucketIndex(idx, originSchema, targetSchema);
      if (outSpans.length === 0) {
        outSpans.push({ offset: ti, length: 1 });
        out.push(buckets[b]!);
        lastTarget = ti;
      } else if (ti === lastTarget) {
        out[out.length - 1]! += buckets[b]!;
      } else if (ti === lastTarget + 1) {
        outSpans[outSpans.length - 1]!.length++;
        lastTarget++;
        out.push(buckets[b]!);
      } else {
        outSpans.push({ offset: ti - lastTarget - 1, length: 1 });
        lastTarget = ti;
        out.push(buckets[b]!);
      }
    }
  }
  if (b !== buckets.length) throw new RangeError(`spans need ${b} buckets, have ${buckets.length}`);
  return { spans: outSpans, buckets: Float64Array.from(out) };
}

/**
 * Go's CopyToSchema: the same histogram at a coarser (or equal) schema. As in Go, a real
 * reduction does not carry the counter reset hint over (the copy's hint is unknown).
 */
export function copyToSchema(h: FloatHistogram, targetSchema: number): FloatHistogram {
  if (targetSchema === h.schema) return copyFloatHistogram(h);
  requireExponential(h, "copyToSchema");
  if (targetSchema > h.schema) throw new RangeError(`cannot copy from schema ${h.schema} to ${targetSchema}`);
  const p = reduceBuckets(h.positiveSpans, h.positiveBuckets, h.schema, targetSchema);
  const n = reduceBuckets(h.negativeSpans, h.negativeBuckets, h.schema, targetSchema);
  return {
    schema: targetSchema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    positiveSpans: p.spans,
    negativeSpans: n.spans,
    positiveBuckets: p.buckets,
    negativeBuckets: n.buckets,
    counterResetHint: GO_CHUNK_HINT.Unknown,
  };
}

/** Go's Copy: a deep copy owning its spans and buckets. */
export function copyFloatHistogram(h: FloatHistogram): FloatHistogram {
  const c: FloatHistogram = {
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    positiveSpans: h.positiveSpans.map((s) => ({ offset: s.offset, length: s.length })),
    negativeSpans: h.negativeSpans.map((s) => ({ offset: s.offset, length: s.length })),
    positiveBuckets: h.positiveBuckets.slice(),
    negativeBuckets: h.negativeBuckets.slice(),
    counterResetHint: h.counterResetHint,
  };
  if (h.customValues) c.customValues = h.customValues.slice();
  return c;
}

/**
 * Go's adjustCounterReset: the receiver's hint after adding or subtracting `other`; true on a reset/not-reset
 * collision.
 */
function adjustCounterReset(h: FloatHistogram, other: FloatHistogram): boolean {
  const a = h.counterResetHint;
  const b = other.counterResetHint;
  if (a === b || a === GO_CHUNK_HINT.Gauge) return false;
  if (b === GO_CHUNK_HINT.Gauge) {
    h.counterResetHint = GO_CHUNK_HINT.Gauge;
    return false;
  }
  if (a === GO_CHUNK_HINT.Unknown) return false;
  h.counterResetHint = GO_CHUNK_HINT.Unknown;
  return b !== GO_CHUNK_HINT.Unknown;
}

/** h += other (Go's Add), in place; returns h. */
export function addFloatHistogram(h: FloatHistogram, other: FloatHistogram): FloatHistogram {
  return addOrSub(h, other, false);
}

/** h -= other (Go's Sub), in place; returns h. */
export function subFloatHistogram(h: FloatHistogram, other: FloatHistogram): FloatHistogram {
  return addOrSub(h, other, true);
}

function addOrSub(h: FloatHistogram, other: FloatHistogram, negate: boolean): FloatHistogram {
  requireExponential(h, negate ? "sub" : "add");
  requireExponential(other, negate ? "sub" : "add");
  adjustCounterReset(h, other);
  const otherZero = reconcileZeroBuckets(h, other);
  h.zeroCount = negate ? h.zeroCount - otherZero : h.zeroCount + otherZero;
  h.count = negate ? h.count - other.count : h.count + other.count;
  h.sum = negate ? h.sum - other.sum : h.sum + other.sum;
  let hp = { spans: h.positiveSpans.map(copySpan), buckets: h.positiveBuckets as ArrayLike<number> };
  let hn = { spans: h.negativeSpans.map(copySpan), buckets: h.negativeBuckets as ArrayLike<number> };
  let op = { spans: other.positiveSpans as readonly Span[], buckets: other.positiveBuckets as ArrayLike<number> };
  let on = { spans: other.negativeSpans as readonly Span[], buckets: other.negativeBuckets as ArrayLike<number> };
  if (other.schema < h.schema) {
    hp = reduceBuckets(hp.spans, hp.buckets, h.schema, other.schema);
    hn = reduceBuckets(hn.spans, hn.buckets, h.schema, other.schema);
    h.schema = other.schema;
  } else if (other.schema > h.schema) {
    op = reduceBuckets(op.spans, op.buckets, other.schema, h.schema);
    on = reduceBuckets(on.spans, on.buckets, other.schema, h.schema);
  }
  const p = addBuckets(h.schema, h.zeroThreshold, negate, hp.spans, Array.from(hp.buckets), op.spans, op.buckets);
  const n = addBuckets(h.schema, h.zeroThreshold, negate, hn.spans, Array.from(hn.buckets), on.spans, on.buckets);
  h.positiveSpans = p.spans;
  h.positiveBuckets = Float64Array.from(p.buckets);
  h.negativeSpans = n.spans;
  h.negativeBuckets = Float64Array.from(n.buckets);
  return h;
}

function copySpan(s: Span): Span {
  return { offset: s.offset, length: s.length };
}

/**
 * Go's addBuckets: merge B's buckets (those above the zero threshold) into A's spans,
 * extending a neighbouring span where a new bucket touches one and opening a span
 * otherwise. The span shapes it leaves are what chunk layouts are built from.
 */
function addBuckets(
  schema: number,
  threshold: number,
  negative: boolean,
  spansA: Span[],
  bucketsA: number[],
  spansB: readonly Span[],
  bucketsB: ArrayLike<number>,
): { spans: Span[]; buckets: number[] } {
  let iSpan = -1;
  let iBucket = -1;
  let iInSpan = 0;
  let indexA = 0;
  let indexB = 0;
  let bIdxB = 0;
  let lowerThanThreshold = true;
  for (const spanB of spansB) {
    indexB += spanB.offset;
    for (let j = 0; j < spanB.length; j++) {
      // biome-ignore lint/suspicious/noConfusingLabels: a labelled block, as Prometheus' loop uses `continue` to skip a bucket
      add: {
        if (lowerThanThreshold && bucketBound(indexB, schema) <= threshold) break add;
        lowerThanThreshold = false;
        const bucketB = negative ? -bucketsB[bIdxB]! : bucketsB[bIdxB]!;
        if (iSpan === -1) {
          if (spansA.length === 0 || spansA[0]!.offset > indexB) {
            bucketsA.unshift(bucketB);
            if (spansA.length > 0 && spansA[0]!.offset === indexB + 1) {
              spansA[0]!.length++;
              spansA[0]!.offset--;
              break add;
            }
            spansA.unshift({ offset: indexB, length: 1 });
            if (spansA.length > 1) spansA[1]!.offset -= indexB + 1;
            break add;
          } else if (spansA[0]!.offset === indexB) {
            bucketsA[0]! += bucketB;
            break add;
          }
          iSpan = 0;
          iBucket = 0;
          iInSpan = 0;
          indexA = spansA[0]!.offset;
        }
        let deltaIndex = indexB - indexA;
        for (;;) {
          const remainingInSpan = spansA[iSpan]!.length - iInSpan;
          if (deltaIndex < remainingInSpan) {
            iBucket += deltaIndex;
            iInSpan += deltaIndex;
            bucketsA[iBucket]! += bucketB;
            break;
          }
          deltaIndex -= remainingInSpan;
          iBucket += remainingInSpan;
          iSpan++;
          if (iSpan === spansA.length || deltaIndex < spansA[iSpan]!.offset) {
            bucketsA.splice(iBucket, 0, bucketB);
            if (deltaIndex === 0) {
              if (iSpan < spansA.length) spansA[iSpan]!.offset--;
              iSpan--;
              iInSpan = spansA[iSpan]!.length;
              spansA[iSpan]!.length++;
            } else if (iSpan < spansA.length && deltaIndex === spansA[iSpan]!.offset - 1) {
              iInSpan = 0;
              spansA[iSpan]!.offset--;
              spansA[iSpan]!.length++;
            } else {
              iInSpan = 0;
              if (iSpan < spansA.length) spansA[iSpan]!.offset -= deltaIndex + 1;
              spansA.splice(iSpan, 0, { offset: deltaIndex, length: 1 });
            }
            break;
          }
          deltaIndex -= spansA[iSpan]!.offset;
          iInSpan = 0;
        }
      }
      indexA = indexB;
      indexB++;
      bIdxB++;
    }
  }
  return { spans: spansA, buckets: bucketsA };
}

/** Bucket (index, lower, upper, count) walk of one side at the histogram's own schema. */
function forEachBucketOf(
  spans: readonly Span[],
  buckets: ArrayLike<number>,
  fn: (idx: number, count: number) => boolean,
): void {
  let idx = 0;
  let b = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++, idx++, b++) {
      if (b >= buckets.length) return;
      if (!fn(idx, buckets[b]!)) return;
    }
  }
}

/**
 * Go's zeroCountForLargerThreshold: the zero count h would have with a threshold of at
 * least `larger`, and the threshold actually needed (raised to a populated bucket's bound
 * when `larger` falls inside it).
 */
function zeroCountForLargerThreshold(h: FloatHistogram, larger: number): { count: number; threshold: number } {
  if (larger === h.zeroThreshold) return { count: h.zeroCount, threshold: larger };
  if (larger < h.zeroThreshold)
    throw new RangeError(`new threshold ${larger} is less than old threshold ${h.zeroThreshold}`);
  for (;;) {
    let count = h.zeroCount;
    forEachBucketOf(h.positiveSpans, h.positiveBuckets, (idx, c) => {
      const lower = bucketBound(idx - 1, h.schema);
      const upper = bucketBound(idx, h.schema);
      if (lower >= larger) return false;
      count += c;
      if (upper > larger) {
        if (c !== 0) larger = upper;
        return false;
      }
      return true;
    });
    let redo = false;
    forEachBucketOf(h.negativeSpans, h.negativeBuckets, (idx, c) => {
      const upper = -bucketBound(idx - 1, h.schema);
      const lower = -bucketBound(idx, h.schema);
      if (upper <= -larger) return false;
      count += c;
      if (lower < -larger) {
        if (c !== 0) {
          larger = -lower;
          redo = true;
        }
        return false;
      }
      return true;
    });
    if (!redo) return { count, threshold: larger };
  }
}

/**
 * Go's reconcileZeroBuckets: widen h's zero bucket to other's (or vice versa); returns other's zero count at the common
 * threshold.
 */
function reconcileZeroBuckets(h: FloatHistogram, other: FloatHistogram): number {
  let otherZeroCount = other.zeroCount;
  let otherThreshold = other.zeroThreshold;
  while (otherThreshold !== h.zeroThreshold) {
    if (h.zeroThreshold > otherThreshold) {
      const r = zeroCountForLargerThreshold(other, h.zeroThreshold);
      otherZeroCount = r.count;
      otherThreshold = r.threshold;
    }
    if (otherThreshold > h.zeroThreshold) {
      const r = zeroCountForLargerThreshold(h, otherThreshold);
      h.zeroCount = r.count;
      h.zeroThreshold = r.threshold;
      trimBucketsInZeroBucket(h);
    }
  }
  return otherZeroCount;
}

/** Zero the buckets now inside the zero bucket, then drop every empty bucket (Go: Compact(0)). */
function trimBucketsInZeroBucket(h: FloatHistogram): void {
  const pos = h.positiveBuckets.slice();
  let i = 0;
  forEachBucketOf(h.positiveSpans, pos, (idx) => {
    if (bucketBound(idx - 1, h.schema) >= h.zeroThreshold) return false;
    pos[i++] = 0;
    return true;
  });
  const neg = h.negativeBuckets.slice();
  i = 0;
  forEachBucketOf(h.negativeSpans, neg, (idx) => {
    if (-bucketBound(idx - 1, h.schema) <= -h.zeroThreshold) return false;
    neg[i++] = 0;
    return true;
  });
  const p = compactEmpty(h.positiveSpans, pos);
  const n = compactEmpty(h.negativeSpans, neg);
  h.positiveSpans = p.spans;
  h.positiveBuckets = p.buckets;
  h.negativeSpans = n.spans;
  h.negativeBuckets = n.buckets;
}

/** compactBuckets with maxEmptyBuckets = 0: every empty bucket cut, runs of the rest as spans. */
function compactEmpty(spans: readonly Span[], buckets: Float64Array): { spans: Span[]; buckets: Float64Array } {
  const out: Span[] = [];
  const vals: number[] = [];
  let last = 0;
  forEachBucketOf(spans, buckets, (idx, c) => {
    if (c === 0) return true;
    if (out.length > 0 && idx === last + 1) out[out.length - 1]!.length++;
    else out.push({ offset: out.length === 0 ? idx : idx - last - 1, length: 1 });
    last = idx;
    vals.push(c);
    return true;
  });
  return { spans: out, buckets: Float64Array.from(vals) };
}

/** (index, count) of one side merged to targetSchema, skipping leading buckets whose upper bound is ≤ start. */
function mergedBuckets(
  spans: readonly Span[],
  buckets: ArrayLike<number>,
  schema: number,
  targetSchema: number,
  start: number,
): { idx: number[]; cnt: number[] } {
  const idx: number[] = [];
  const cnt: number[] = [];
  forEachBucketOf(spans, buckets, (i, c) => {
    const t = targetBucketIndex(i, schema, targetSchema);
    if (idx.length > 0 && idx[idx.length - 1] === t) cnt[cnt.length - 1]! += c;
    else {
      idx.push(t);
      cnt.push(c);
    }
    return true;
  });
  let k = 0;
  if (start !== 0) while (k < idx.length && bucketBound(idx[k]!, targetSchema) <= start) k++;
  return { idx: idx.slice(k), cnt: cnt.slice(k) };
}

function bucketsReset(curr: { idx: number[]; cnt: number[] }, prev: { idx: number[]; cnt: number[] }): boolean {
  let c = 0;
  for (let p = 0; p < prev.idx.length; p++) {
    while (c < curr.idx.length && curr.idx[c]! < prev.idx[p]!) c++;
    if (c < curr.idx.length && curr.idx[c] === prev.idx[p]) {
      if (curr.cnt[c]! < prev.cnt[p]!) return true;
    } else if (prev.cnt[p] !== 0) return true;
  }
  return false;
}

/**
 * Go's DetectReset: does h (following `previous`) start over? The hint decides when it is
 * "reset" or "not reset"; otherwise a lower count, a higher schema, a lower zero threshold,
 * a lower zero count or any bucket that shrank or vanished is a reset.
 */
export function detectReset(h: FloatHistogram, previous: FloatHistogram): boolean {
  if (h.counterResetHint === GO_CHUNK_HINT.Reset) return true;
  if (h.counterResetHint === GO_CHUNK_HINT.NotReset) return false;
  if (h.count < previous.count) return true;
  requireExponential(h, "detectReset");
  requireExponential(previous, "detectReset");
  if (h.schema > previous.schema) return true;
  if (h.zeroThreshold < previous.zeroThreshold) return true;
  const z = zeroCountForLargerThreshold(previous, h.zeroThreshold);
  if (z.threshold !== h.zeroThreshold) return true;
  if (h.zeroCount < z.count) return true;
  const zt = h.zeroThreshold;
  if (
    bucketsReset(
      mergedBuckets(h.positiveSpans, h.positiveBuckets, h.schema, h.schema, zt),
      mergedBuckets(previous.positiveSpans, previous.positiveBuckets, previous.schema, h.schema, zt),
    )
  ) {
    return true;
  }
  return bucketsReset(
    mergedBuckets(h.negativeSpans, h.negativeBuckets, h.schema, h.schema, zt),
    mergedBuckets(previous.negativeSpans, previous.negativeBuckets, previous.schema, h.schema, zt),
  );
}
