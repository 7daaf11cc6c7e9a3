import { BitReader, BitWriter } from "../encoding/bstream.ts";
import { FormatError } from "../encoding/errors.ts";
import { floatHi, floatLo, isStaleNaN } from "../encoding/float-bits.ts";
import {
  CounterResetHint,
  cloneHistogram,
  type Histogram,
  type HistogramSample,
  type Span,
} from "./histogram-types.ts";
import {
  HISTOGRAM_HEADER_SIZE,
  countBuckets,
  defaultChunkHint,
  expandBuckets,
  histogramChunkHeader,
  planChunk,
  readLayout,
  sampleHint,
  writeLayout,
} from "./histogram-meta.ts";
import { putVarbitInt, putVarbitUint, readVarbitInt, readVarbitUint, xorRead, xorWrite } from "./varbit.ts";

/**
 * Integer histogram chunk, encoding 2 (P: tsdb/chunkenc/histogram.go).
 *
 *   header | layout | sample 0: t varbit_int, count varbit_uint, zeroCount varbit_uint,
 *            sum 64 bits, buckets varbit_int
 *          | sample n: t, count, zeroCount as varbit_int delta-of-delta, sum XOR,
 *            buckets varbit_int delta-of-delta
 *
 * Bucket values in the stream are Go's in-memory form: each bucket's count minus the
 * previous bucket's (across spans), so the per-sample dod is of those deltas. A stale
 * marker writes t, zero dods for the counts and the sum, but no buckets.
 */

const EMPTY = new Uint8Array(0);

export class HistogramIterator {
  /** Time of the current sample. */
  t = 0;
  /**
   * The current histogram. Reused: the same object (and bucket arrays) is overwritten by
   * every next() within a chunk, and reset() starts a new object. Spans and custom values
   * are shared by all samples of the chunk; treat them as read-only. Use cloneHistogram
   * to keep a sample.
   */
  h: Histogram = blank();
  numSamples = 0;
  counterResetHeader: CounterResetHint = CounterResetHint.Unknown;

  private r = new BitReader(EMPTY);
  private numRead = 0;
  private tDelta = 0;
  private cnt = 0;
  private cntDelta = 0;
  private zCnt = 0;
  private zCntDelta = 0;
  // Per bucket (positive then negative): inter-bucket delta, and its change since the last sample.
  private bkt = new Float64Array(0);
  private bktDelta = new Float64Array(0);
  private nPos = 0;
  private sum = new Float64Array(1);
  private sumBits = new Uint32Array(this.sum.buffer);
  private sumWin = new Uint8Array(2);
  private schema = 0;
  private zeroThreshold = 0;
  private pSpans: Span[] = [];
  private nSpans: Span[] = [];
  private customValues: number[] | undefined;
  private posOut: number[] = [];
  private negOut: number[] = [];

  /** Start iterating over a chunk's data bytes (after the encoding byte). */
  reset(data: Uint8Array): void {
    const hdr = histogramChunkHeader(data);
    this.numSamples = hdr.numSamples;
    this.counterResetHeader = hdr.counterResetHint;
    this.r = new BitReader(data, HISTOGRAM_HEADER_SIZE);
    this.numRead = 0;
    this.t = 0;
    this.tDelta = this.cnt = this.cntDelta = this.zCnt = this.zCntDelta = 0;
    this.sum[0] = 0;
    this.sumWin[0] = this.sumWin[1] = 0;
    this.h = blank();
  }

  /**
   * Advance to the next sample; false at the end. Throws FormatError on malformed data (offsets are within the chunk
   * data).
   */
  next(): boolean {
    if (this.numRead >= this.numSamples) return false;
    const r = this.r;
    if (this.numRead === 0) {
      this.readFirst();
    } else {
      this.tDelta += readVarbitInt(r);
      this.t += this.tDelta;
      this.cntDelta += readVarbitInt(r);
      this.cnt += this.cntDelta;
      this.zCntDelta += readVarbitInt(r);
      this.zCnt += this.zCntDelta;
      xorRead(r, this.sumBits, this.sumWin, 0);
      if (!isStaleNaN(this.sum[0]!)) {
        const bkt = this.bkt;
        const bd = this.bktDelta;
        for (let i = 0; i < bkt.length; i++) {
          bd[i]! += readVarbitInt(r);
          bkt[i]! += bd[i]!;
        }
      }
    }
    this.numRead++;
    if (isStaleNaN(this.sum[0]!)) this.setStale();
    else this.publish();
    return true;
  }

  private readFirst(): void {
    const r = this.r;
    const l = readLayout(r);
    this.schema = l.schema;
    this.zeroThreshold = l.zeroThreshold;
    this.pSpans = l.positiveSpans;
    this.nSpans = l.negativeSpans;
    this.customValues = l.customValues;
    const np = countBuckets(l.positiveSpans);
    const total = np + countBuckets(l.negativeSpans);
    // Every bucket of the first sample takes at least one bit: refuse impossible counts before allocating.
    if (total > r.bitsLeft()) {
      throw new FormatError("invalid-size", "histogram layout has more buckets than the chunk has bits", {
        offset: r.pos >>> 3,
        expected: `<= ${r.bitsLeft()} buckets`,
        found: `${total}`,
      });
    }
    this.nPos = np;
    this.bkt = new Float64Array(total);
    this.bktDelta = new Float64Array(total);
    this.posOut = new Array<number>(np).fill(0);
    this.negOut = new Array<number>(total - np).fill(0);
    this.t = readVarbitInt(r);
    this.cnt = readVarbitUint(r);
    this.zCnt = readVarbitUint(r);
    r.readBits64(64);
    this.sumBits[1] = r.hi;
    this.sumBits[0] = r.lo;
    // Go reads the first sample's buckets even when it is stale (its layout is empty then).
    for (let i = 0; i < total; i++) this.bkt[i] = readVarbitInt(r);
  }

  private publish(): void {
    const h = this.h;
    h.schema = this.schema;
    h.zeroThreshold = this.zeroThreshold;
    h.count = this.cnt;
    h.zeroCount = this.zCnt;
    h.sum = this.sum[0]!;
    h.positiveSpans = this.pSpans;
    h.negativeSpans = this.nSpans;
    h.customValues = this.customValues;
    h.counterResetHint = sampleHint(this.counterResetHeader, this.numRead - 1);
    const bkt = this.bkt;
    const np = this.nPos;
    const pos = this.posOut;
    const neg = this.negOut;
    let acc = 0;
    for (let i = 0; i < np; i++) pos[i] = acc += bkt[i]!;
    acc = 0;
    for (let i = np; i < bkt.length; i++) neg[i - np] = acc += bkt[i]!;
    h.positiveBuckets = pos;
    h.negativeBuckets = neg;
  }

  /** Go reports a stale sample as a bare histogram holding only the sum. */
  private setStale(): void {
    const h = this.h;
    h.schema = 0;
    h.zeroThreshold = 0;
    h.count = 0;
    h.zeroCount = 0;
    h.sum = this.sum[0]!;
    h.positiveSpans = [];
    h.negativeSpans = [];
    h.positiveBuckets = [];
    h.negativeBuckets = [];
    h.customValues = undefined;
    h.counterResetHint = CounterResetHint.Unknown;
  }
}

function blank(): Histogram {
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
  };
}

/** All samples of a chunk, each histogram a fresh copy. */
export function decodeHistogramChunk(data: Uint8Array): HistogramSample[] {
  const it = new HistogramIterator();
  it.reset(data);
  const out: HistogramSample[] = [];
  while (it.next()) out.push({ t: it.t, h: cloneHistogram(it.h) });
  return out;
}

/**
 * Encode samples (ascending times) into one chunk's data bytes. They must share schema,
 * zero threshold and custom bounds, and a stale marker may only be followed by stale
 * markers (see histogramChunkCutReason); otherwise this throws RangeError. Bucket
 * layouts may differ: every sample is written in the layout Prometheus' appender would
 * end up with (planChunk), with zeros in the buckets a sample lacks. `hint` is the
 * header's counter reset hint; by default it is derived from the first sample's hint,
 * as a fresh Prometheus appender does.
 */
export function encodeHistogramChunk(samples: readonly HistogramSample[], hint?: CounterResetHint): Uint8Array {
  const hs = samples.map((s) => s.h);
  const header = hint ?? (samples.length > 0 ? defaultChunkHint(hs[0]!) : CounterResetHint.Unknown);
  const { layout, positiveIdx, negativeIdx } = planChunk(hs, header === CounterResetHint.Gauge);
  const np = positiveIdx.length;
  const total = np + negativeIdx.length;

  const w = new BitWriter(64 + samples.length * (12 + total));
  w.writeBits(samples.length, 16);
  w.writeBits(header << 6, 8);
  writeLayout(w, layout);

  const cur = new Float64Array(total); // this sample's inter-bucket deltas
  const prev = new Float64Array(total);
  const prevDelta = new Float64Array(total);
  const curPos = cur.subarray(0, np);
  const curNeg = cur.subarray(np);
  const sum = new Float64Array(1);
  const sumBits = new Uint32Array(sum.buffer);
  const sumWin = Uint8Array.of(0xff, 0);
  let t = 0;
  let tDelta = 0;
  let cnt = 0;
  let cntDelta = 0;
  let zCnt = 0;
  let zCntDelta = 0;

  for (let i = 0; i < samples.length; i++) {
    const ts = samples[i]!.t;
    const h = samples[i]!.h;
    // Go replaces a stale marker by a histogram holding only the sum.
    const stale = isStaleNaN(h.sum);
    const count = stale ? 0 : h.count;
    const zeroCount = stale ? 0 : h.zeroCount;
    checkInteger(ts, i, "timestamp", false);
    if (!stale) {
      checkInteger(count, i, "count", true);
      checkInteger(zeroCount, i, "zero count", true);
      expandBuckets(curPos, positiveIdx, h.positiveSpans, h.positiveBuckets);
      expandBuckets(curNeg, negativeIdx, h.negativeSpans, h.negativeBuckets);
      toInterBucketDeltas(curPos, i);
      toInterBucketDeltas(curNeg, i);
    }
    if (i === 0) {
      putVarbitInt(w, ts);
      putVarbitUint(w, count);
      putVarbitUint(w, zeroCount);
      sumBits[1] = floatHi(h.sum);
      sumBits[0] = floatLo();
      w.writeBits64(sumBits[1], sumBits[0], 64);
      if (!stale) {
        for (let j = 0; j < total; j++) putVarbitInt(w, cur[j]!);
        prev.set(cur);
      }
    } else {
      const td = ts - t;
      const cd = count - cnt;
      const zd = zeroCount - zCnt;
      putVarbitInt(w, td - tDelta);
      putVarbitInt(w, stale ? 0 : cd - cntDelta);
      putVarbitInt(w, stale ? 0 : zd - zCntDelta);
      xorWrite(w, floatHi(h.sum), floatLo(), sumBits, sumWin, 0);
      if (!stale) {
        for (let j = 0; j < total; j++) {
          const d = cur[j]! - prev[j]!;
          putVarbitInt(w, d - prevDelta[j]!);
          prevDelta[j] = d;
          prev[j] = cur[j]!;
        }
      }
      tDelta = td;
      cntDelta = cd;
      zCntDelta = zd;
    }
    t = ts;
    cnt = count;
    zCnt = zeroCount;
  }
  return w.bytes().slice();
}

/** Absolute counts → Go's in-memory form (first absolute, then differences), in place. */
function toInterBucketDeltas(b: Float64Array, sample: number): void {
  let prev = 0;
  for (let j = 0; j < b.length; j++) {
    const v = b[j]!;
    if (!Number.isSafeInteger(v))
      throw new RangeError(`histogram sample ${sample}: bucket count ${v} is not an integer`);
    b[j] = v - prev;
    prev = v;
  }
}

function checkInteger(v: number, sample: number, what: string, nonNegative: boolean): void {
  if (!Number.isSafeInteger(v) || (nonNegative && v < 0)) {
    throw new RangeError(
      `histogram sample ${sample}: ${what} ${v} is not a${nonNegative ? " non-negative" : "n"} integer`,
    );
  }
}
