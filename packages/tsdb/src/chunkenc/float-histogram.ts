import { BitReader, BitWriter } from "../encoding/bstream.ts";
import { FormatError } from "../encoding/errors.ts";
import { floatHi, floatLo, isStaleNaN } from "../encoding/float-bits.ts";
import {
  CounterResetHint,
  cloneFloatHistogram,
  type FloatHistogram,
  type FloatHistogramSample,
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
import { putVarbitInt, readVarbitInt, xorRead, xorWrite } from "./varbit.ts";

/**
 * Float histogram chunk, encoding 3 (P: tsdb/chunkenc/float_histogram.go).
 *
 *   header | layout | sample 0: t varbit_int, then count, zeroCount, sum and every bucket
 *            (absolute) as 64 raw bits
 *          | sample n: t varbit_int delta-of-delta, then the same fields XOR-encoded,
 *            each field with its own (leading, trailing) window
 *
 * A stale marker writes t, count 0, zeroCount 0 and the sum, but no buckets.
 */

const EMPTY = new Uint8Array(0);
// Field slots in the value state: count, zero count, sum, then buckets (positive, negative).
const F_COUNT = 0;
const F_ZERO = 1;
const F_SUM = 2;
const F_BUCKETS = 3;

export class FloatHistogramIterator {
  t = 0;
  /**
   * The current histogram. Reused: the same object (and bucket arrays) is overwritten by
   * every next() within a chunk, and reset() starts a new object. Spans and custom values
   * are shared by all samples of the chunk; treat them as read-only. Use cloneFloatHistogram
   * to keep a sample.
   */
  h: FloatHistogram = blank();
  numSamples = 0;
  counterResetHeader: CounterResetHint = CounterResetHint.Unknown;

  private r = new BitReader(EMPTY);
  private numRead = 0;
  private tDelta = 0;
  private vals = new Float64Array(F_BUCKETS);
  private bits = new Uint32Array(this.vals.buffer);
  private win = new Uint8Array(2 * F_BUCKETS);
  private nPos = 0;
  private schema = 0;
  private zeroThreshold = 0;
  private pSpans: Span[] = [];
  private nSpans: Span[] = [];
  private customValues: number[] | undefined;
  private posOut = new Float64Array(0);
  private negOut = new Float64Array(0);

  /** Start iterating over a chunk's data bytes (after the encoding byte). */
  reset(data: Uint8Array): void {
    const hdr = histogramChunkHeader(data);
    this.numSamples = hdr.numSamples;
    this.counterResetHeader = hdr.counterResetHint;
    this.r = new BitReader(data, HISTOGRAM_HEADER_SIZE);
    this.numRead = 0;
    this.t = 0;
    this.tDelta = 0;
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
      const bits = this.bits;
      const win = this.win;
      xorRead(r, bits, win, F_COUNT);
      xorRead(r, bits, win, F_ZERO);
      xorRead(r, bits, win, F_SUM);
      if (!isStaleNaN(this.vals[F_SUM]!)) {
        const n = this.vals.length;
        for (let i = F_BUCKETS; i < n; i++) xorRead(r, bits, win, i);
      }
    }
    this.numRead++;
    if (isStaleNaN(this.vals[F_SUM]!)) this.setStale();
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
    // Each bucket of the first sample takes 64 bits: refuse impossible counts before allocating.
    if (total * 64 > r.bitsLeft()) {
      throw new FormatError("invalid-size", "float histogram layout has more buckets than the chunk has bits", {
        offset: r.pos >>> 3,
        expected: `<= ${Math.floor(r.bitsLeft() / 64)} buckets`,
        found: `${total}`,
      });
    }
    this.nPos = np;
    this.vals = new Float64Array(F_BUCKETS + total);
    this.bits = new Uint32Array(this.vals.buffer);
    this.win = new Uint8Array(2 * (F_BUCKETS + total));
    this.posOut = new Float64Array(np);
    this.negOut = new Float64Array(total - np);
    this.t = readVarbitInt(r);
    const bits = this.bits;
    const n = F_BUCKETS + total;
    for (let i = 0; i < n; i++) {
      r.readBits64(64);
      bits[2 * i + 1] = r.hi;
      bits[2 * i] = r.lo;
    }
  }

  private publish(): void {
    const h = this.h;
    const vals = this.vals;
    h.schema = this.schema;
    h.zeroThreshold = this.zeroThreshold;
    h.count = vals[F_COUNT]!;
    h.zeroCount = vals[F_ZERO]!;
    h.sum = vals[F_SUM]!;
    h.positiveSpans = this.pSpans;
    h.negativeSpans = this.nSpans;
    h.customValues = this.customValues;
    h.counterResetHint = sampleHint(this.counterResetHeader, this.numRead - 1);
    const pStart = F_BUCKETS;
    const nStart = F_BUCKETS + this.nPos;
    this.posOut.set(vals.subarray(pStart, nStart));
    this.negOut.set(vals.subarray(nStart));
    h.positiveBuckets = this.posOut;
    h.negativeBuckets = this.negOut;
  }

  /** Go reports a stale sample as a bare histogram holding only the sum. */
  private setStale(): void {
    const h = this.h;
    h.schema = 0;
    h.zeroThreshold = 0;
    h.count = 0;
    h.zeroCount = 0;
    h.sum = this.vals[F_SUM]!;
    h.positiveSpans = [];
    h.negativeSpans = [];
    h.positiveBuckets = new Float64Array(0);
    h.negativeBuckets = new Float64Array(0);
    h.customValues = undefined;
    h.counterResetHint = CounterResetHint.Unknown;
  }
}

function blank(): FloatHistogram {
  return {
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count: 0,
    sum: 0,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: new Float64Array(0),
    negativeBuckets: new Float64Array(0),
    counterResetHint: CounterResetHint.Unknown,
  };
}

/** All samples of a chunk, each histogram a fresh copy. */
export function decodeFloatHistogramChunk(data: Uint8Array): FloatHistogramSample[] {
  const it = new FloatHistogramIterator();
  it.reset(data);
  const out: FloatHistogramSample[] = [];
  while (it.next()) out.push({ t: it.t, h: cloneFloatHistogram(it.h) });
  return out;
}

/**
 * Encode samples (ascending times) into one float histogram chunk's data bytes. Same
 * rules and layout choice as encodeHistogramChunk; values are written bit-exactly.
 */
export function encodeFloatHistogramChunk(
  samples: readonly FloatHistogramSample[],
  hint?: CounterResetHint,
): Uint8Array {
  const hs = samples.map((s) => s.h);
  const header = hint ?? (samples.length > 0 ? defaultChunkHint(hs[0]!) : CounterResetHint.Unknown);
  const { layout, positiveIdx, negativeIdx } = planChunk(hs, header === CounterResetHint.Gauge);
  const np = positiveIdx.length;
  const total = np + negativeIdx.length;
  const nFields = F_BUCKETS + total;

  const w = new BitWriter(64 + samples.length * (24 + 4 * total));
  w.writeBits(samples.length, 16);
  w.writeBits(header << 6, 8);
  writeLayout(w, layout);

  const cur = new Float64Array(total); // this sample's buckets in the chunk layout
  const curBits = new Uint32Array(cur.buffer);
  const curPos = cur.subarray(0, np);
  const curNeg = cur.subarray(np);
  const vals = new Uint32Array(2 * nFields); // previous value of each field
  const win = new Uint8Array(2 * nFields);
  for (let i = 0; i < nFields; i++) win[2 * i] = 0xff; // no window yet
  let t = 0;
  let tDelta = 0;

  for (let i = 0; i < samples.length; i++) {
    const ts = samples[i]!.t;
    const h = samples[i]!.h;
    if (!Number.isSafeInteger(ts)) throw new RangeError(`histogram sample ${i}: timestamp ${ts} is not an integer`);
    // Go replaces a stale marker by a histogram holding only the sum.
    const stale = isStaleNaN(h.sum);
    const count = stale ? 0 : h.count;
    const zeroCount = stale ? 0 : h.zeroCount;
    if (!stale) {
      expandBuckets(curPos, positiveIdx, h.positiveSpans, h.positiveBuckets);
      expandBuckets(curNeg, negativeIdx, h.negativeSpans, h.negativeBuckets);
    }
    if (i === 0) {
      putVarbitInt(w, ts);
      setField(vals, F_COUNT, floatHi(count), floatLo());
      setField(vals, F_ZERO, floatHi(zeroCount), floatLo());
      setField(vals, F_SUM, floatHi(h.sum), floatLo());
      for (let f = F_COUNT; f <= F_SUM; f++) w.writeBits64(vals[2 * f + 1]!, vals[2 * f]!, 64);
      if (!stale) {
        for (let j = 0; j < total; j++) {
          setField(vals, F_BUCKETS + j, curBits[2 * j + 1]!, curBits[2 * j]!);
          w.writeBits64(curBits[2 * j + 1]!, curBits[2 * j]!, 64);
        }
      }
    } else {
      const td = ts - t;
      putVarbitInt(w, td - tDelta);
      tDelta = td;
      xorWrite(w, floatHi(count), floatLo(), vals, win, F_COUNT);
      xorWrite(w, floatHi(zeroCount), floatLo(), vals, win, F_ZERO);
      xorWrite(w, floatHi(h.sum), floatLo(), vals, win, F_SUM);
      if (!stale) {
        for (let j = 0; j < total; j++) xorWrite(w, curBits[2 * j + 1]!, curBits[2 * j]!, vals, win, F_BUCKETS + j);
      }
    }
    t = ts;
  }
  return w.bytes().slice();
}

function setField(vals: Uint32Array, f: number, hi: number, lo: number): void {
  vals[2 * f + 1] = hi;
  vals[2 * f] = lo;
}
