import { FormatError } from "../encoding/errors.ts";
import { Encoding, chunkNumSamples, type Chunk } from "./chunk.ts";
import { decodeXOR, encodeXOR, xorNumSamples } from "./xor.ts";
import { decodeAggrChunk, encodeAggrChunk, aggrNumSamples } from "./aggr.ts";
import { decodeHistogramChunk, encodeHistogramChunk } from "./histogram.ts";
import { decodeFloatHistogramChunk, encodeFloatHistogramChunk } from "./float-histogram.ts";
import { histogramChunkHeader } from "./histogram-meta.ts";

/** Keep a sample at time t? Used to drop deleted or out-of-range samples while re-encoding. */
export type SampleFilter = (t: number) => boolean;

/** A re-encoded chunk with the times of its first and last samples. */
export interface TimedChunk {
  chunk: Chunk;
  minTime: number;
  maxTime: number;
}

let ts = new Float64Array(512);
let vs = new Float64Array(512);
function ensureScratch(n: number): void {
  if (n <= ts.length) return;
  ts = new Float64Array(n);
  vs = new Float64Array(n);
}

/**
 * Decode a chunk and encode its (filtered) samples again in the same encoding, so that the
 * result is what our encoders write. Returns undefined when no sample survives. Encodings we
 * cannot decode are returned untouched when nothing is filtered and rejected otherwise.
 */
export function reencodeChunk(chunk: Chunk, keep?: SampleFilter): TimedChunk | undefined {
  switch (chunk.encoding) {
    case Encoding.XOR: {
      ensureScratch(xorNumSamples(chunk.data));
      const n = decodeXOR(chunk.data, ts, vs);
      const m = keep ? compact(n, keep) : n;
      if (m === 0) return undefined;
      return { chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, m) }, minTime: ts[0]!, maxTime: ts[m - 1]! };
    }
    case Encoding.Histogram: {
      const hint = histogramChunkHeader(chunk.data).counterResetHint;
      let samples = decodeHistogramChunk(chunk.data);
      if (keep) samples = samples.filter((s) => keep(s.t));
      if (samples.length === 0) return undefined;
      return {
        chunk: { encoding: Encoding.Histogram, data: encodeHistogramChunk(samples, hint) },
        minTime: samples[0]!.t,
        maxTime: samples[samples.length - 1]!.t,
      };
    }
    case Encoding.FloatHistogram: {
      const hint = histogramChunkHeader(chunk.data).counterResetHint;
      let samples = decodeFloatHistogramChunk(chunk.data);
      if (keep) samples = samples.filter((s) => keep(s.t));
      if (samples.length === 0) return undefined;
      return {
        chunk: { encoding: Encoding.FloatHistogram, data: encodeFloatHistogramChunk(samples, hint) },
        minTime: samples[0]!.t,
        maxTime: samples[samples.length - 1]!.t,
      };
    }
    case Encoding.Aggr:
      return reencodeAggr(chunk, keep);
    default:
      if (!keep) return { chunk, minTime: NaN, maxTime: NaN };
      throw new FormatError("unknown-encoding", `cannot trim a chunk with encoding ${chunk.encoding}`, {
        found: String(chunk.encoding),
      });
  }
}

/** Move kept samples to the front of the scratch buffers; returns how many were kept. */
function compact(n: number, keep: SampleFilter): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!keep(ts[i]!)) continue;
    ts[m] = ts[i]!;
    vs[m] = vs[i]!;
    m++;
  }
  return m;
}

function reencodeAggr(chunk: Chunk, keep?: SampleFilter): TimedChunk | undefined {
  const parts = decodeAggrChunk(chunk.data);
  let minTime = Infinity;
  let maxTime = -Infinity;
  const out = parts.map((p) => {
    if (!p) return undefined;
    const r = reencodeChunk(p, keep);
    if (!r) return undefined;
    if (r.minTime < minTime) minTime = r.minTime;
    if (r.maxTime > maxTime) maxTime = r.maxTime;
    return r.chunk;
  });
  if (out.every((p) => p === undefined)) return undefined;
  const data = encodeAggrChunk(out);
  return { chunk: { encoding: Encoding.Aggr, data }, minTime, maxTime };
}

/** Samples in a chunk of any known encoding (0 for opaque ones). */
export function chunkSamples(chunk: Chunk): number {
  return chunk.encoding === Encoding.Aggr ? aggrNumSamples(chunk.data) : chunkNumSamples(chunk);
}
