/**
 * Chunk-level checks (§10 item 19): known encoding, decodes without running out of bits,
 * at least one sample, strictly increasing timestamps, first/last timestamp equal to the
 * chunk meta's minT/maxT. Samples are decoded into reused typed arrays, never objects.
 */
import {
  AggrType,
  Encoding,
  FloatHistogramIterator,
  FormatError,
  HistogramIterator,
  chunkNumSamples,
  decodeAggrChunk,
  decodeXOR,
  aggrNumSamples,
  encodingName,
  type Chunk,
} from "@strata/tsdb";
import { decodeXOR2 } from "@strata/tsdb";
import { Code, type ProblemCode } from "./report.ts";

/** What one chunk's check found: the sample count (Prometheus' NumSamples) and at most one problem. */
export interface ChunkVerdict {
  samples: number;
  problem?: { code: ProblemCode; message: string; expected?: string; found?: string; offset?: number };
}

const MAX_SAMPLES = 65536;
const ts = new Float64Array(MAX_SAMPLES);
const vs = new Float64Array(MAX_SAMPLES);
const hist = new HistogramIterator();
const fhist = new FloatHistogramIterator();

/** Check a chunk against its meta's [minT, maxT]; `aggrPart` relaxes the time match for a downsampled sub-chunk. */
export function checkChunk(c: Chunk, minT: number, maxT: number): ChunkVerdict {
  const e = c.encoding;
  if (e === Encoding.Aggr) return checkAggr(c);
  if (
    e !== Encoding.XOR &&
    e !== Encoding.XOR2 &&
    e !== Encoding.Histogram &&
    e !== Encoding.FloatHistogram &&
    e !== Encoding.HistogramST &&
    e !== Encoding.FloatHistogramST
  ) {
    return {
      samples: 0,
      problem: {
        code: Code.UnknownChunkEncoding,
        message: `unknown chunk encoding ${encodingName(e)}`,
        expected: "1-6 or 255",
        found: String(e),
      },
    };
  }
  const samples = chunkNumSamples(c);
  if (samples === 0)
    return {
      samples,
      problem: {
        code: Code.EmptyChunk,
        message: `${encodingName(e)} chunk holds no samples`,
        expected: "≥ 1 sample",
        found: "0",
      },
    };
  let n: number;
  try {
    n = decode(c);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    return {
      samples,
      problem: {
        code: Code.ChunkDecodeError,
        message: `${encodingName(e)} chunk does not decode: ${err.detail}`,
        expected: err.expected,
        found: err.found,
      },
    };
  }
  if (n < 0) return { samples }; // encoding we only read headers of
  const order = checkOrder(n);
  if (order) return { samples, problem: order };
  if (ts[0] !== minT || ts[n - 1] !== maxT) {
    return {
      samples,
      problem: {
        code: Code.ChunkTimeMismatch,
        message: "chunk's first/last sample times differ from its index entry",
        expected: `[${minT}, ${maxT}]`,
        found: `[${ts[0]}, ${ts[n - 1]}]`,
      },
    };
  }
  return { samples };
}

/** Decode timestamps into `ts`; returns the count, or -1 for encodings without a decoder here. */
function decode(c: Chunk): number {
  switch (c.encoding) {
    case Encoding.XOR:
      return decodeXOR(c.data, ts, vs);
    case Encoding.XOR2:
      return decodeXOR2(c.data, ts, vs);
    case Encoding.Histogram: {
      hist.reset(c.data);
      let n = 0;
      while (hist.next()) ts[n++] = hist.t;
      return n;
    }
    case Encoding.FloatHistogram: {
      fhist.reset(c.data);
      let n = 0;
      while (fhist.next()) ts[n++] = fhist.t;
      return n;
    }
    default:
      return -1;
  }
}

/**
 * Strictly increasing sample times in `ts[0..n)`. With `counterAggr` (the XOR counter
 * sub-chunk of a downsampled chunk) two repeats are Thanos' deliberate layout, not
 * disorder (T: pkg/compact/downsample/downsample.go, downsampleFloatBatch and
 * downsampleFloatAggrBatch, read back by ApplyCounterResetsSeriesIterator): the chunk opens
 * with the first raw value at its own time, then one running counter per window stamped
 * with the window's end clamped to the batch's last sample, then closes with the last raw
 * value under that repeated last time. So the last sample may equal (never precede) the one
 * before it, and sample 1 may equal sample 0 when the first raw sample lies on a window end
 * (t % resolution == resolution - 1) or is the batch's last (a one-sample batch gives three
 * samples at one time). Nothing else may repeat: Thanos' histogram counter, count, sum, min
 * and max sub-chunks are plain per-window series (downsampleBatch's window ends strictly
 * increase), so they get no exception.
 */
function checkOrder(n: number, counterAggr = false): ChunkVerdict["problem"] {
  for (let i = 1; i < n; i++) {
    if (!(ts[i]! > ts[i - 1]!) && !(counterAggr && (i === 1 || i === n - 1) && ts[i] === ts[i - 1])) {
      return {
        code: Code.ChunkSamplesOutOfOrder,
        message: `sample ${i} is not after sample ${i - 1}`,
        expected: `> ${ts[i - 1]}`,
        found: String(ts[i]),
      };
    }
  }
  return undefined;
}

/**
 * A Thanos downsampled chunk: five optional sub-chunks, each must decode with increasing
 * times (the XOR counter's first and last raw values may repeat a time: checkOrder).
 */
function checkAggr(c: Chunk): ChunkVerdict {
  const samples = aggrNumSamples(c.data);
  let parts: (Chunk | undefined)[];
  try {
    parts = decodeAggrChunk(c.data);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    return {
      samples,
      problem: {
        code: Code.ChunkDecodeError,
        message: `aggregate chunk does not decode: ${err.detail}`,
        expected: err.expected,
        found: err.found,
      },
    };
  }
  if (parts.every((p) => p === undefined))
    return {
      samples,
      problem: {
        code: Code.EmptyChunk,
        message: "aggregate chunk holds no aggregates",
        expected: "≥ 1 aggregate",
        found: "0",
      },
    };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p) continue;
    if (p.encoding === Encoding.Aggr)
      return {
        samples,
        problem: { code: Code.ChunkDecodeError, message: `aggregate ${i} is itself an aggregate chunk` },
      };
    let n: number;
    try {
      n = decode(p);
    } catch (err) {
      if (!(err instanceof FormatError)) throw err;
      return {
        samples,
        problem: {
          code: Code.ChunkDecodeError,
          message: `aggregate ${i} does not decode: ${err.detail}`,
          expected: err.expected,
          found: err.found,
        },
      };
    }
    if (n === -1 && p.encoding !== Encoding.HistogramST && p.encoding !== Encoding.FloatHistogramST) {
      return {
        samples,
        problem: {
          code: Code.UnknownChunkEncoding,
          message: `aggregate ${i} has unknown encoding`,
          found: String(p.encoding),
        },
      };
    }
    const order = n > 0 ? checkOrder(n, i === AggrType.Counter && p.encoding === Encoding.XOR) : undefined;
    if (order) return { samples, problem: { ...order, message: `aggregate ${i}: ${order.message}` } };
  }
  return { samples };
}
