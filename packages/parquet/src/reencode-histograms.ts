import {
  type ChunkMeta,
  CounterResetHint,
  CUSTOM_BUCKETS_SCHEMA,
  decodeFloatHistogramChunk,
  decodeHistogramChunk,
  Encoding,
  encodeFloatHistogramChunk,
  encodeHistogramChunk,
  type FloatHistogramSample,
  type HistogramSample,
  type Interval,
  isDeleted,
  isStaleNaN,
  type Span,
} from "@strata/tsdb";
import type { ByteBuf } from "./bytes.ts";
import { type ReencodeOptions, writeChunk } from "./chunk-value.ts";
import { dataColumnOf } from "./schema.ts";

type Sample = HistogramSample | FloatHistogramSample;
type Shape = Sample["h"];

/**
 * Native histogram chunks re-encoded per data column as parquet-common does with Prometheus'
 * appenders (AppendHistogram / AppendFloatHistogram, appendOnly=false, no previous appender):
 * a column's chunk is cut at samplesPerChunk samples, on a counter reset (the new chunk's
 * header says so), and where a sample cannot join (schema or zero threshold change, a sample
 * after a stale marker, a gauge following a counter or the reverse). Integer histograms first,
 * then float histograms, each after the column's XOR chunks. Returns whether a sample was kept.
 */
export function reencodeHistograms(
  chunks: readonly ChunkMeta[],
  deleted: readonly Interval[] | undefined,
  o: ReencodeOptions,
  outs: ByteBuf[],
): boolean {
  let kept = false;
  for (const enc of [Encoding.Histogram, Encoding.FloatHistogram]) {
    const open: { samples: Sample[]; header: CounterResetHint }[] = outs.map(() => ({ samples: [], header: 0 }));
    const close = (col: number): void => {
      const oc = open[col]!;
      if (oc.samples.length === 0) return;
      let minT = Number.MAX_SAFE_INTEGER;
      let maxT = 0; // Go's zero value, as upstream
      for (const s of oc.samples) {
        if (s.t < minT) minT = s.t;
        if (s.t > maxT) maxT = s.t;
      }
      const bytes =
        enc === Encoding.Histogram
          ? encodeHistogramChunk(oc.samples as HistogramSample[], oc.header)
          : encodeFloatHistogramChunk(oc.samples as FloatHistogramSample[], oc.header);
      writeChunk(outs[col]!, enc, minT, maxT, bytes);
      oc.samples = [];
    };
    for (const c of chunks) {
      if (c.chunk?.encoding !== enc) continue;
      const samples: Sample[] =
        enc === Encoding.Histogram ? decodeHistogramChunk(c.chunk.data) : decodeFloatHistogramChunk(c.chunk.data);
      for (const s of samples) {
        if (s.t < o.mint || s.t > o.maxt) continue;
        if (deleted !== undefined && deleted.length > 0 && isDeleted(deleted, s.t)) continue;
        const col = dataColumnOf(s.t, o.mint, o.colDuration);
        const oc = open[col];
        if (oc === undefined) throw new RangeError(`sample at ${s.t} past the last data column`);
        kept = true;
        if (oc.samples.length === 0) {
          oc.header = firstHeader(s.h);
        } else {
          const last = oc.samples[oc.samples.length - 1]!.h;
          const gauge = s.h.counterResetHint === CounterResetHint.Gauge;
          const verdict = gauge ? appendableGauge(oc.header, last, s.h) : appendable(oc.header, last, s.h);
          if (verdict !== "ok") {
            close(col);
            oc.header = gauge
              ? CounterResetHint.Gauge
              : verdict === "reset"
                ? CounterResetHint.Reset
                : CounterResetHint.Unknown;
          }
        }
        oc.samples.push(s);
        if (oc.samples.length >= o.samplesPerChunk) close(col);
      }
    }
    for (let col = 0; col < open.length; col++) close(col);
  }
  return kept;
}

/** A fresh appender's header after its first sample (no previous appender upstream). */
function firstHeader(h: Shape): CounterResetHint {
  if (h.counterResetHint === CounterResetHint.Gauge) return CounterResetHint.Gauge;
  if (h.counterResetHint === CounterResetHint.Reset) return CounterResetHint.Reset;
  return CounterResetHint.Unknown;
}

/** Prometheus' appendable(): "ok", a counter "reset" (new chunk, reset header) or "cut" (new chunk). */
function appendable(header: CounterResetHint, last: Shape, h: Shape): "ok" | "reset" | "cut" {
  if (header === CounterResetHint.Gauge) return "cut";
  if (h.counterResetHint === CounterResetHint.Reset) return "reset";
  if (isStaleNaN(h.sum)) return "ok";
  if (isStaleNaN(last.sum)) return "cut";
  if (h.count < last.count) return "reset";
  if (h.schema !== last.schema || h.zeroThreshold !== last.zeroThreshold) return "cut";
  if (h.schema === CUSTOM_BUCKETS_SCHEMA && !sameBounds(last, h)) return "reset";
  if (h.zeroCount < last.zeroCount) return "reset";
  if (bucketShrank(last.positiveSpans, last.positiveBuckets, h.positiveSpans, h.positiveBuckets)) return "reset";
  if (bucketShrank(last.negativeSpans, last.negativeBuckets, h.negativeSpans, h.negativeBuckets)) return "reset";
  return "ok";
}

/** Prometheus' appendableGauge(): gauges never reset, they only cut. */
function appendableGauge(header: CounterResetHint, last: Shape, h: Shape): "ok" | "cut" {
  if (header !== CounterResetHint.Gauge) return "cut";
  if (isStaleNaN(h.sum)) return "ok";
  if (isStaleNaN(last.sum)) return "cut";
  if (h.schema !== last.schema || h.zeroThreshold !== last.zeroThreshold) return "cut";
  if (h.schema === CUSTOM_BUCKETS_SCHEMA && !sameBounds(last, h)) return "cut";
  return "ok";
}

function sameBounds(a: Shape, b: Shape): boolean {
  const x = a.customValues ?? [];
  const y = b.customValues ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Absolute bucket index → count. */
function bucketMap(spans: readonly Span[], counts: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  let idx = 0;
  let k = 0;
  for (let i = 0; i < spans.length; i++) {
    idx += spans[i]!.offset;
    for (let j = 0; j < spans[i]!.length; j++) m.set(idx++, counts[k++] ?? 0);
  }
  return m;
}

/** A bucket of `last` that is lower in `next`, or missing there while it held a count. */
function bucketShrank(
  lastSpans: readonly Span[],
  lastCounts: ArrayLike<number>,
  spans: readonly Span[],
  counts: ArrayLike<number>,
): boolean {
  const next = bucketMap(spans, counts);
  for (const [i, v] of bucketMap(lastSpans, lastCounts)) {
    const n = next.get(i);
    if (n === undefined ? v !== 0 : n < v) return true;
  }
  return false;
}
