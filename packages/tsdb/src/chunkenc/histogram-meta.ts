import type { BitReader, BitWriter } from "../encoding/bstream.ts";
import { FormatError } from "../encoding/errors.ts";
import { bitsToFloat, floatHi, floatLo, isStaleNaN } from "../encoding/float-bits.ts";
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type Span } from "./histogram-types.ts";
import { putVarbitInt, putVarbitUint, readVarbitInt, readVarbitUint } from "./varbit.ts";

/**
 * Pieces shared by the integer and float histogram chunks (P: tsdb/chunkenc/histogram_meta.go):
 * the 3-byte header, the chunk layout written before the first sample, and the span
 * arithmetic an encoder needs to give all samples of a chunk one bucket layout.
 */

/** BE16 numSamples | flags byte (bits 7-6: counter reset hint). */
export const HISTOGRAM_HEADER_SIZE = 3;

export function histogramChunkHeader(data: Uint8Array): { numSamples: number; counterResetHint: CounterResetHint } {
  if (data.length < HISTOGRAM_HEADER_SIZE) {
    throw new FormatError("invalid-size", "histogram chunk shorter than its header", {
      offset: 0,
      expected: `>= ${HISTOGRAM_HEADER_SIZE} bytes`,
      found: `${data.length}`,
    });
  }
  return { numSamples: (data[0]! << 8) | data[1]!, counterResetHint: (data[2]! >>> 6) as CounterResetHint };
}

/** What the first sample of a chunk dictates for all of them. */
export interface ChunkLayout {
  schema: number;
  zeroThreshold: number;
  positiveSpans: Span[];
  negativeSpans: Span[];
  /** Present (possibly empty) exactly when schema is -53. */
  customValues: number[] | undefined;
}

export function emptyLayout(): ChunkLayout {
  return { schema: 0, zeroThreshold: 0, positiveSpans: [], negativeSpans: [], customValues: undefined };
}

export function writeLayout(w: BitWriter, l: ChunkLayout): void {
  putZeroThreshold(w, l.zeroThreshold);
  putVarbitInt(w, l.schema);
  putSpans(w, l.positiveSpans);
  putSpans(w, l.negativeSpans);
  if (l.schema === CUSTOM_BUCKETS_SCHEMA) {
    const cv = l.customValues ?? [];
    putVarbitUint(w, cv.length);
    for (const v of cv) putCustomBound(w, v);
  }
}

/** Reads the layout and rejects schemas Prometheus does not know (-53, or -9..52). */
export function readLayout(r: BitReader): ChunkLayout {
  const zeroThreshold = readZeroThreshold(r);
  const at = r.pos >>> 3;
  const schema = readVarbitInt(r);
  if (schema !== CUSTOM_BUCKETS_SCHEMA && (schema < -9 || schema > 52)) {
    throw new FormatError("invalid-value", "unknown histogram schema", {
      offset: at,
      expected: "-53 or -9..52",
      found: `${schema}`,
    });
  }
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  let customValues: number[] | undefined;
  if (schema === CUSTOM_BUCKETS_SCHEMA) {
    const n = readCount(r, 1, "custom bounds");
    customValues = new Array<number>(n);
    for (let i = 0; i < n; i++) customValues[i] = readCustomBound(r);
  }
  return { schema, zeroThreshold, positiveSpans, negativeSpans, customValues };
}

/** A count read from the stream, rejected if its items (each >= minBits) cannot fit in what is left. */
function readCount(r: BitReader, minBits: number, what: string): number {
  const at = r.pos >>> 3;
  const n = readVarbitUint(r);
  if (n * minBits > r.bitsLeft()) {
    throw new FormatError("invalid-size", `${what} count exceeds the chunk`, {
      offset: at,
      expected: `<= ${Math.floor(r.bitsLeft() / minBits)}`,
      found: `${n}`,
    });
  }
  return n;
}

function putSpans(w: BitWriter, spans: readonly Span[]): void {
  putVarbitUint(w, spans.length);
  for (const s of spans) {
    putVarbitUint(w, s.length);
    putVarbitInt(w, s.offset);
  }
}

function readSpans(r: BitReader): Span[] {
  const n = readCount(r, 2, "span");
  const spans = new Array<Span>(n);
  for (let i = 0; i < n; i++) {
    const at = r.pos >>> 3;
    const length = readVarbitUint(r);
    const offset = readVarbitInt(r);
    // Go stores these as uint32 / int32.
    if (length > 0xffffffff || offset < -0x80000000 || offset > 0x7fffffff) {
      throw new FormatError("invalid-value", "histogram span out of range", {
        offset: at,
        expected: "uint32 length, int32 offset",
        found: `length ${length}, offset ${offset}`,
      });
    }
    spans[i] = { offset, length };
  }
  return spans;
}

/**
 * Zero threshold: byte 0 for 0; byte e+243 for 0.5·2^e with -242 <= e <= 11 (the powers
 * of two 2^-243..2^10; the default 2^-128 is byte 116); otherwise byte 255 and 64 bits.
 */
export function putZeroThreshold(w: BitWriter, zt: number): void {
  if (zt === 0) {
    w.writeByte(0);
    return;
  }
  const hi = floatHi(zt);
  const lo = floatLo();
  const biased = hi >>> 20; // sign bit included: negative thresholds fall through
  if (lo === 0 && (hi & 0xfffff) === 0 && biased >= 780 && biased <= 1033) {
    w.writeByte(biased - 779); // frexp exponent (biased - 1022) + 243
    return;
  }
  w.writeByte(255);
  w.writeBits64(hi, lo, 64);
}

export function readZeroThreshold(r: BitReader): number {
  const b = r.readByte();
  if (b === 0) return 0;
  if (b === 255) {
    r.readBits64(64);
    return bitsToFloat(r.hi, r.lo);
  }
  return bitsToFloat((b - 244 + 1023) * 1048576, 0); // 2^(b-244)
}

/**
 * Custom bound: if x·1000 is a whole number in [0, 33554430], varbit_uint(x·1000 + 1);
 * otherwise a 0 bit (varbit_uint 0) and the 64 float bits.
 */
export function putCustomBound(w: BitWriter, x: number): void {
  const tf = x * 1000;
  if (tf < 0 || tf > 33554430 || Math.round(x * 1000) / 1000 !== x) {
    w.writeBit(0);
    w.writeBits64(floatHi(x), floatLo(), 64);
    return;
  }
  putVarbitUint(w, Math.round(tf) + 1);
}

export function readCustomBound(r: BitReader): number {
  const v = readVarbitUint(r);
  if (v !== 0) return (v - 1) / 1000;
  r.readBits64(64);
  return bitsToFloat(r.hi, r.lo);
}

// ---- Span arithmetic ----

export function countBuckets(spans: readonly Span[]): number {
  let n = 0;
  for (const s of spans) n += s.length;
  return n;
}

/** Bucket indices the spans cover, ascending (each span starts `offset` after the previous one's end). */
export function spanIndices(spans: readonly Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let j = 0; j < s.length; j++) out.push(idx++);
  }
  return out;
}

/** The spans Prometheus builds when it merges layouts: no empty spans, adjacent runs joined. */
export function canonicalSpans(indices: readonly number[]): Span[] {
  const out: Span[] = [];
  let last = 0;
  for (const idx of indices) {
    if (out.length > 0 && idx === last + 1) out[out.length - 1]!.length++;
    else out.push({ offset: out.length === 0 ? idx : idx - last - 1, length: 1 });
    last = idx;
  }
  return out;
}

function isSubset(a: readonly number[], b: readonly number[]): boolean {
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j === b.length || b[j] !== x) return false;
  }
  return true;
}

function union(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j === b.length || (i < a.length && a[i]! < b[j]!)) out.push(a[i++]!);
    else if (i === a.length || b[j]! < a[i]!) out.push(b[j++]!);
    else {
      out.push(a[i++]!);
      j++;
    }
  }
  return out;
}

/**
 * Copy a sample's bucket values into a chunk layout covering a superset of its buckets
 * (`layoutIdx` from spanIndices), leaving zeros in the buckets the sample lacks.
 */
export function expandBuckets(
  out: Float64Array,
  layoutIdx: readonly number[],
  spans: readonly Span[],
  values: ArrayLike<number>,
): void {
  out.fill(0);
  let j = 0;
  let b = 0;
  let idx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let k = 0; k < s.length; k++, idx++, b++) {
      while (layoutIdx[j]! < idx) j++;
      out[j++] = values[b]!;
    }
  }
}

/** Layout-relevant fields of Histogram and FloatHistogram. */
export interface HistogramShape {
  schema: number;
  zeroThreshold: number;
  sum: number;
  positiveSpans: readonly Span[];
  negativeSpans: readonly Span[];
  positiveBuckets: ArrayLike<number>;
  negativeBuckets: ArrayLike<number>;
  customValues?: readonly number[];
}

/**
 * Why `next` cannot join the chunk whose layout `ref` (its first sample) dictates, right
 * after `prev`; undefined if it can. Prometheus' appenders cut a new chunk in all these
 * cases, so a chunk never holds them and our encoders reject them. (They also cut on
 * counter resets; that is the caller's policy and encodes fine.)
 */
export function histogramChunkCutReason(
  ref: HistogramShape,
  prev: HistogramShape,
  next: HistogramShape,
): string | undefined {
  if (isStaleNaN(next.sum)) return undefined;
  if (isStaleNaN(prev.sum) || isStaleNaN(ref.sum)) return "a non-stale histogram follows a stale marker";
  if (next.schema !== ref.schema) return `schema changes from ${ref.schema} to ${next.schema}`;
  if (next.zeroThreshold !== ref.zeroThreshold)
    return `zero threshold changes from ${ref.zeroThreshold} to ${next.zeroThreshold}`;
  if (ref.schema === CUSTOM_BUCKETS_SCHEMA) {
    const a = ref.customValues ?? [];
    const b = next.customValues ?? [];
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) return "custom bucket bounds change";
  }
  return undefined;
}

function validateShape(h: HistogramShape, i: number): void {
  const bad = (msg: string): never => {
    throw new RangeError(`histogram sample ${i}: ${msg}`);
  };
  if (!Number.isInteger(h.schema)) bad(`schema ${h.schema} is not an integer`);
  for (const [spans, n, side] of [
    [h.positiveSpans, h.positiveBuckets.length, "positive"],
    [h.negativeSpans, h.negativeBuckets.length, "negative"],
  ] as const) {
    for (let k = 0; k < spans.length; k++) {
      const s = spans[k]!;
      if (!Number.isInteger(s.length) || s.length < 0 || s.length > 0xffffffff)
        bad(`${side} span ${k} has length ${s.length}`);
      if (!Number.isInteger(s.offset) || s.offset > 0x7fffffff || s.offset < (k === 0 ? -0x80000000 : 0))
        bad(`${side} span ${k} has offset ${s.offset}`);
    }
    if (countBuckets(spans) !== n) bad(`${side} spans cover ${countBuckets(spans)} buckets but ${n} counts are given`);
  }
}

/** The chunk-wide decisions of an encoder. */
export interface ChunkPlan {
  layout: ChunkLayout;
  positiveIdx: number[];
  negativeIdx: number[];
}

/**
 * Validate a chunk's samples and choose its layout as Prometheus' appender ends up with
 * after its recodings: the first sample's spans while later samples only use a subset of
 * its buckets; after a sample brings new buckets, that sample's own spans if they cover
 * the union of all buckets so far, else the canonical spans of that union. For counter
 * chunks the canonical form applies per side (positive/negative) that needed it; for
 * gauge chunks to both sides. A chunk starting with a stale marker has the empty layout.
 */
export function planChunk(hs: readonly HistogramShape[], gauge: boolean): ChunkPlan {
  if (hs.length === 0) throw new RangeError("a histogram chunk needs at least one sample");
  if (hs.length > 0xffff) throw new RangeError(`a histogram chunk holds at most 65535 samples, got ${hs.length}`);
  const ref = hs[0]!;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i]!;
    if (i > 0) {
      const why = histogramChunkCutReason(ref, hs[i - 1]!, h);
      if (why) throw new RangeError(`histogram sample ${i} needs a new chunk: ${why}`);
    }
    if (!isStaleNaN(h.sum)) validateShape(h, i);
  }
  if (isStaleNaN(ref.sum)) return { layout: emptyLayout(), positiveIdx: [], negativeIdx: [] };

  let pSpans: readonly Span[] = ref.positiveSpans;
  let nSpans: readonly Span[] = ref.negativeSpans;
  let pIdx = spanIndices(pSpans);
  let nIdx = spanIndices(nSpans);
  for (let i = 1; i < hs.length; i++) {
    const h = hs[i]!;
    if (isStaleNaN(h.sum)) continue;
    const hp = spanIndices(h.positiveSpans);
    const hn = spanIndices(h.negativeSpans);
    const pNew = !isSubset(hp, pIdx);
    const nNew = !isSubset(hn, nIdx);
    if (!pNew && !nNew) continue; // the sample gets zero buckets inserted; the chunk keeps its layout
    const pMissing = !isSubset(pIdx, hp);
    const nMissing = !isSubset(nIdx, hn);
    const pu = pNew ? union(pIdx, hp) : pIdx;
    const nu = nNew ? union(nIdx, hn) : nIdx;
    const anyMissing = pMissing || nMissing;
    pSpans = (gauge ? anyMissing : pMissing) ? canonicalSpans(pu) : h.positiveSpans;
    nSpans = (gauge ? anyMissing : nMissing) ? canonicalSpans(nu) : h.negativeSpans;
    pIdx = pu;
    nIdx = nu;
  }
  const layout: ChunkLayout = {
    schema: ref.schema,
    zeroThreshold: ref.zeroThreshold,
    positiveSpans: pSpans.map((s) => ({ offset: s.offset, length: s.length })),
    negativeSpans: nSpans.map((s) => ({ offset: s.offset, length: s.length })),
    customValues: ref.schema === CUSTOM_BUCKETS_SCHEMA ? (ref.customValues ?? []).slice() : undefined,
  };
  return { layout, positiveIdx: pIdx, negativeIdx: nIdx };
}

/** Header hint Prometheus' appender gives a new chunk from its first sample's hint. */
export function defaultChunkHint(first: { counterResetHint: CounterResetHint }): CounterResetHint {
  const h = first.counterResetHint;
  return h === CounterResetHint.Gauge || h === CounterResetHint.Reset ? h : CounterResetHint.Unknown;
}

/**
 * The per-sample hint Go's iterators report: gauge in gauge chunks, else unknown for the first sample and "not reset"
 * after it.
 */
export function sampleHint(header: CounterResetHint, sampleIndex: number): CounterResetHint {
  if (header === CounterResetHint.Gauge) return CounterResetHint.Gauge;
  return sampleIndex > 0 ? CounterResetHint.NotReset : CounterResetHint.Unknown;
}
