/**
 * Decoded samples of one series stretch, float and histogram mixed, in parallel columns:
 * times and float values in Float64Arrays (NaN payloads such as the stale marker survive
 * bit-exactly), histogram values in a side array. Merges work on these; re-encoding cuts
 * them into chunks as Prometheus' compactor does (120 samples, a new chunk when the value
 * type or the histogram layout changes).
 */
import {
  Encoding,
  FormatError,
  decodeXOR,
  encodeXOR,
  xorNumSamples,
  decodeHistogramChunk,
  decodeFloatHistogramChunk,
  encodeHistogramChunk,
  encodeFloatHistogramChunk,
  encodingName,
  type Chunk,
  type ChunkToWrite,
  type Histogram,
  type FloatHistogram,
} from "@strata/tsdb";
import { histogramChunkCutReason } from "@strata/tsdb";

/** Value kinds; equal to the chunk encodings that carry them. */
export const Kind = {
  Float: Encoding.XOR,
  Histogram: Encoding.Histogram,
  FloatHistogram: Encoding.FloatHistogram,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Samples per chunk when re-encoding merged data (Prometheus' compactor target). */
export const SAMPLES_PER_CHUNK = 120;

export class SampleList {
  n = 0;
  ts: Float64Array;
  vs: Float64Array;
  kinds: Uint8Array;
  /** Histogram values by position; empty while the list holds floats only. */
  hs: (Histogram | FloatHistogram | undefined)[] = [];

  constructor(capacity = 256) {
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
  }

  clear(): void {
    this.n = 0;
    this.hs.length = 0;
  }

  ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.ts.length) return;
    const cap = Math.max(need, this.ts.length * 2);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    const kinds = new Uint8Array(cap);
    ts.set(this.ts.subarray(0, this.n));
    vs.set(this.vs.subarray(0, this.n));
    kinds.set(this.kinds.subarray(0, this.n));
    this.ts = ts;
    this.vs = vs;
    this.kinds = kinds;
  }

  pushFloat(t: number, v: number): void {
    this.ensure(1);
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.kinds[this.n] = Kind.Float;
    this.n++;
  }

  /** Copy sample i of `src` (histograms are shared, not cloned: they are never mutated). */
  pushFrom(src: SampleList, i: number): void {
    this.ensure(1);
    const k = src.kinds[i]!;
    this.ts[this.n] = src.ts[i]!;
    this.vs[this.n] = src.vs[i]!;
    this.kinds[this.n] = k;
    if (k !== Kind.Float) this.hs[this.n] = src.hs[i];
    this.n++;
  }

  /** Append every sample of a chunk. Only XOR and the two histogram encodings can be decoded. */
  appendChunk(chunk: Chunk): void {
    switch (chunk.encoding) {
      case Encoding.XOR: {
        const m = xorNumSamples(chunk.data);
        this.ensure(m);
        const got = decodeXOR(chunk.data, this.ts, this.vs, this.n);
        this.kinds.fill(Kind.Float, this.n, this.n + got);
        this.n += got;
        return;
      }
      case Encoding.Histogram:
      case Encoding.FloatHistogram: {
        const samples =
          chunk.encoding === Encoding.Histogram
            ? decodeHistogramChunk(chunk.data)
            : decodeFloatHistogramChunk(chunk.data);
        this.ensure(samples.length);
        for (const s of samples) {
          this.ts[this.n] = s.t;
          this.vs[this.n] = NaN;
          this.kinds[this.n] = chunk.encoding;
          this.hs[this.n] = s.h;
          this.n++;
        }
        return;
      }
      default:
        throw new FormatError(
          "unknown-encoding",
          `cannot merge overlapping ${encodingName(chunk.encoding)} chunks (only XOR and native histogram chunks are decoded)`,
          {
            found: String(chunk.encoding),
          },
        );
    }
  }
}

/**
 * Cut samples [0, n) of `s` into chunks: at most 120 samples each, a new chunk whenever
 * the value kind changes or a histogram cannot join the current chunk's layout.
 */
export function encodeSamples(s: SampleList, out: ChunkToWrite[]): void {
  let i = 0;
  while (i < s.n) {
    const kind = s.kinds[i]!;
    let j = i + 1;
    if (kind === Kind.Float) {
      while (j < s.n && j - i < SAMPLES_PER_CHUNK && s.kinds[j] === Kind.Float) j++;
      out.push({
        minTime: s.ts[i]!,
        maxTime: s.ts[j - 1]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(s.ts, s.vs, i, j) },
      });
    } else {
      const ref = s.hs[i]!;
      while (
        j < s.n &&
        j - i < SAMPLES_PER_CHUNK &&
        s.kinds[j] === kind &&
        histogramChunkCutReason(ref, s.hs[j - 1]!, s.hs[j]!) === undefined
      )
        j++;
      const samples = [];
      for (let k = i; k < j; k++) samples.push({ t: s.ts[k], h: s.hs[k]! });
      const data =
        kind === Kind.Histogram
          ? encodeHistogramChunk(samples as { t: number; h: Histogram }[])
          : encodeFloatHistogramChunk(samples as { t: number; h: FloatHistogram }[]);
      out.push({ minTime: s.ts[i]!, maxTime: s.ts[j - 1]!, chunk: { encoding: kind, data } });
    }
    i = j;
  }
}
