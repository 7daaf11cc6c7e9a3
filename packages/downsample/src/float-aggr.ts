/**
 * Float aggregate chunks → coarser aggregate chunks (T: downsampleAggr,
 * downsampleAggrLoop, downsampleFloatAggrBatch, genericAggregate,
 * ApplyCounterResetsSeriesIterator). Batches follow input chunk boundaries so the first
 * and last raw counter values each chunk carries survive into the output.
 */
import { AggrType, Encoding, FormatError, encodeAggrChunk, type Chunk, type ChunkToWrite } from "@strata/tsdb";
import { currentWindow, targetChunkCount } from "./resolution.ts";
import { FloatRun } from "./samples.ts";
import type { FloatScratch } from "./float-raw.ts";

/** The five decoded sub-chunks of one input aggregate chunk (index = AggrType). */
export type AggrParts = (Chunk | undefined)[];

const STAT_SUM = 0;
const STAT_MIN = 1;
const STAT_MAX = 2;
const STAT_COUNTER = 3;
const MAX_FLOAT = Number.MAX_VALUE;

/** Reusable buffers for one downsampling run. */
export class AggrScratch {
  readonly run = new FloatRun();
  readonly raw = new FloatRun();
}

/**
 * Downsample a run of float aggregate chunks spanning [mint, maxt] (their chunk metas'
 * times) from inRes to outRes, appending output chunks to `out`.
 */
export function downsampleFloatAggr(
  chunks: readonly AggrParts[],
  mint: number,
  maxt: number,
  inRes: number,
  outRes: number,
  out: ChunkToWrite[],
  fs: FloatScratch,
  as: AggrScratch,
): void {
  if (chunks.length === 0) return;
  let numSamples = 0;
  for (const p of chunks) numSamples += countSamples(p);
  const numChunks = targetChunkCount(mint, maxt, inRes, outRes, numSamples);
  // Thanos fails when asked for more output chunks than it has input chunks (batch size
  // 0); one input chunk per batch gives the same windows without failing.
  const batchSize = Math.max(1, Math.trunc(chunks.length / numChunks));
  for (let i = 0; i < chunks.length; i += batchSize) {
    out.push(floatAggrBatch(chunks.slice(i, i + batchSize), outRes, fs, as));
  }
}

/** NumSamples of an aggregate chunk: the samples of its count sub-chunk. */
export function countSamples(p: AggrParts): number {
  const c = p[AggrType.Count];
  return c && c.data.length >= 2 ? (c.data[0]! << 8) | c.data[1]! : 0;
}

function floatAggrBatch(part: readonly AggrParts[], res: number, fs: FloatScratch, as: AggrScratch): ChunkToWrite {
  const run = as.run;
  const parts: (Chunk | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  let mint = Infinity;
  let maxt = -Infinity;
  const plain: [number, number][] = [
    [AggrType.Count, STAT_SUM], // counts add up
    [AggrType.Sum, STAT_SUM],
    [AggrType.Min, STAT_MIN],
    [AggrType.Max, STAT_MAX],
  ];
  for (const [type, stat] of plain) {
    run.clear();
    for (const p of part) {
      const c = p[type];
      if (c === undefined) continue;
      requireXOR(c, type);
      run.appendXOR(c.data);
    }
    if (run.n === 0) continue;
    fs.ensure(run.n);
    const nw = windowStat(run.ts, run.vs, run.n, res, stat, fs.wt, fs.vals[0]!);
    parts[type] = fs.xor(fs.wt, fs.vals[0]!, nw);
    if (fs.wt[0]! < mint) mint = fs.wt[0]!;
    if (fs.wt[nw - 1]! > maxt) maxt = fs.wt[nw - 1]!;
  }

  // Counter: undo the resets across the batch's counter sub-chunks, then re-window.
  const raw = as.raw;
  raw.clear();
  for (const p of part) {
    const c = p[AggrType.Counter];
    if (c === undefined) continue;
    requireXOR(c, AggrType.Counter);
    raw.appendXORUnfiltered(c.data);
  }
  run.clear();
  const lastV = applyCounterResets(raw, run);
  if (run.n > 0) {
    fs.ensure(run.n);
    const cts = fs.cts;
    const cvs = fs.cvs;
    const nw = windowStat(run.ts, run.vs, run.n, res, STAT_COUNTER, fs.wt, fs.vals[0]!);
    cts[0] = run.ts[0]!;
    cvs[0] = run.vs[0]!;
    cts.set(fs.wt.subarray(0, nw), 1);
    cvs.set(fs.vals[0]!.subarray(0, nw), 1);
    cts[nw + 1] = fs.wt[nw - 1]!;
    cvs[nw + 1] = lastV;
    parts[AggrType.Counter] = fs.xor(cts, cvs, nw + 2);
    if (fs.wt[0]! < mint) mint = fs.wt[0]!;
    if (fs.wt[nw - 1]! > maxt) maxt = fs.wt[nw - 1]!;
  }
  if (mint === Infinity) {
    throw new FormatError("invalid-value", "aggregate chunks hold no samples to downsample", {
      expected: "at least one aggregate sample in each batch of chunks",
    });
  }
  return { minTime: mint, maxTime: maxt, chunk: { encoding: Encoding.Aggr, data: encodeAggrChunk(parts) } };
}

function requireXOR(c: Chunk, type: number): void {
  if (c.encoding !== Encoding.XOR) {
    throw new FormatError(
      "unknown-encoding",
      `float aggregate chunk has a non-XOR ${["count", "sum", "min", "max", "counter"][type]} sub-chunk`,
      {
        expected: "XOR (1)",
        found: String(c.encoding),
      },
    );
  }
}

/**
 * Thanos' ApplyCounterResetsSeriesIterator over counter samples, expanded as Thanos
 * expands it: NaNs skipped; a later time adds the increase (or, after a drop, the new
 * value); a repeated time is a chunk's true last raw value, kept only to compare with
 * the next chunk's first value; earlier times are skipped. Emits (t, running total)
 * into `out` and returns the last raw value seen.
 */
export function applyCounterResets(raw: FloatRun, out: FloatRun): number {
  const ts = raw.ts;
  const vs = raw.vs;
  let total = 0;
  let lastT = 0;
  let lastV = 0;
  let totalV = 0;
  let floor = 0; // the expansion's own "not back in time" floor
  for (let i = 0; i < raw.n; i++) {
    const v = vs[i]!;
    if (v !== v) continue;
    const t = ts[i]!;
    if (total === 0) {
      total++;
      lastT = t;
      lastV = v;
      totalV = v;
    } else if (t > lastT) {
      totalV += v >= lastV ? v - lastV : v;
      lastT = t;
      lastV = v;
      total++;
    } else {
      if (t === lastT) lastV = v;
      continue;
    }
    if (lastT >= floor) {
      // A NaN total (∞ − ∞) is kept: only the stale bit pattern is dropped, and sums never produce it.
      out.push(lastT, totalV);
      floor = lastT;
    }
  }
  return lastV;
}

/**
 * Thanos' downsampleBatch with a float aggregator over samples [0, n), writing one
 * statistic per window into (outT, outV); returns the number of windows. NaNs are
 * aggregated as they come (only raw batches drop them).
 */
export function windowStat(
  ts: Float64Array,
  vs: Float64Array,
  n: number,
  res: number,
  stat: number,
  outT: Float64Array,
  outV: Float64Array,
): number {
  const lastT = ts[n - 1]!;
  let nextT = -1;
  let nw = 0;
  let total = 0;
  let wsum = 0;
  let wmin = MAX_FLOAT;
  let wmax = -MAX_FLOAT;
  let counter = 0;
  let prev = 0;
  for (let k = 0; k < n; k++) {
    const t = ts[k]!;
    const v = vs[k]!;
    if (t > nextT) {
      if (nextT !== -1) {
        outT[nw] = nextT;
        outV[nw] = stat === STAT_SUM ? wsum : stat === STAT_MIN ? wmin : stat === STAT_MAX ? wmax : counter;
        nw++;
      }
      wsum = 0;
      wmin = MAX_FLOAT;
      wmax = -MAX_FLOAT;
      const w = currentWindow(t, res);
      nextT = w < lastT ? w : lastT;
    }
    if (total > 0) counter += v < prev ? v : v - prev;
    else counter = v;
    prev = v;
    total++;
    wsum += v;
    if (v < wmin) wmin = v;
    if (v > wmax) wmax = v;
  }
  outT[nw] = nextT;
  outV[nw] = stat === STAT_SUM ? wsum : stat === STAT_MIN ? wmin : stat === STAT_MAX ? wmax : counter;
  return nw + 1;
}
