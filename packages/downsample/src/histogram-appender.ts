/**
 * What Prometheus' float histogram appender keeps when Thanos appends aggregate
 * histograms one by one (T: aggrChunkBuilder.appendFloatHistogram; P: tsdb/chunkenc/
 * float_histogram.go AppendFloatHistogram with appendOnly = false). Thanos keeps only the
 * chunk the appender returns, so when the appender cuts a new chunk (a counter reset, a
 * schema or zero threshold change, a gauge/counter switch) the samples before are lost;
 * that is reproduced here. Layout recodings are the encoder's job (encodeFloatHistogramChunk).
 */
import {
  CounterResetHint,
  Encoding,
  copyFloatHistogram,
  encodeFloatHistogramChunk,
  isStaleNaN,
  type Chunk,
  type FloatHistogram,
  type FloatHistogramSample,
  type Span,
} from "@strata/tsdb";

export class FloatHistogramAppender {
  private samples: FloatHistogramSample[] = [];
  private header: CounterResetHint = CounterResetHint.Unknown;

  get length(): number {
    return this.samples.length;
  }

  /** Append a snapshot of h at t. */
  append(t: number, h: FloatHistogram): void {
    const s = { t, h: copyFloatHistogram(h) };
    const n = this.samples.length;
    if (n === 0) {
      this.samples.push(s);
      // Thanos passes the appender itself as "previous": a sample compared with itself is
      // no reset, so a counter chunk's header says "not reset".
      this.header =
        h.counterResetHint === CounterResetHint.Gauge
          ? CounterResetHint.Gauge
          : h.counterResetHint === CounterResetHint.Reset
            ? CounterResetHint.Reset
            : CounterResetHint.NotReset;
      return;
    }
    const last = this.samples[n - 1]!.h;
    const first = this.samples[0]!.h;
    if (h.counterResetHint !== CounterResetHint.Gauge) {
      const v = this.counterVerdict(first, last, h);
      if (v === "ok") this.samples.push(s);
      else this.cut(s, v === "reset" ? CounterResetHint.Reset : CounterResetHint.Unknown);
      return;
    }
    const ok =
      this.header === CounterResetHint.Gauge &&
      (isStaleNaN(h.sum) ||
        (!isStaleNaN(last.sum) && h.schema === first.schema && h.zeroThreshold === first.zeroThreshold));
    if (ok) this.samples.push(s);
    else this.cut(s, CounterResetHint.Gauge);
  }

  private counterVerdict(first: FloatHistogram, last: FloatHistogram, h: FloatHistogram): "ok" | "cut" | "reset" {
    if (this.header === CounterResetHint.Gauge) return "cut";
    if (h.counterResetHint === CounterResetHint.Reset) return "reset";
    if (isStaleNaN(h.sum)) return "ok";
    if (isStaleNaN(last.sum)) return "cut";
    if (h.count < last.count) return "reset";
    if (h.schema !== first.schema || h.zeroThreshold !== first.zeroThreshold) return "cut";
    if (h.zeroCount < last.zeroCount) return "reset";
    if (shrinks(last.positiveSpans, last.positiveBuckets, h.positiveSpans, h.positiveBuckets)) return "reset";
    if (shrinks(last.negativeSpans, last.negativeBuckets, h.negativeSpans, h.negativeBuckets)) return "reset";
    return "ok";
  }

  private cut(s: FloatHistogramSample, header: CounterResetHint): void {
    this.samples = [s];
    this.header = header;
  }

  /** The chunk as Thanos would keep it, or undefined when nothing was appended. */
  chunk(): Chunk | undefined {
    if (this.samples.length === 0) return undefined;
    return { encoding: Encoding.FloatHistogram, data: encodeFloatHistogramChunk(this.samples, this.header) };
  }
}

/** Does any populated bucket of `prev` shrink or vanish in `next` (same schema)? */
function shrinks(
  prevSpans: readonly Span[],
  prev: ArrayLike<number>,
  nextSpans: readonly Span[],
  next: ArrayLike<number>,
): boolean {
  const pi = indices(prevSpans);
  const ni = indices(nextSpans);
  let j = 0;
  for (let i = 0; i < pi.length && i < prev.length; i++) {
    while (j < ni.length && ni[j]! < pi[i]!) j++;
    if (j < ni.length && ni[j] === pi[i]) {
      if (prev[i]! > next[j]!) return true;
    } else if (prev[i] !== 0) return true;
  }
  return false;
}

function indices(spans: readonly Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let k = 0; k < s.length; k++) out.push(idx++);
  }
  return out;
}
