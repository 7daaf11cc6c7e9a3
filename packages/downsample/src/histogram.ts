/**
 * Native histogram downsampling as Thanos does it (T: downsampleHistogramBatch,
 * histogramAggregator, downsampleHistogramAggrBatch, expand*HistogramChunkIterator).
 * Histogram aggregate chunks carry count (XOR), sum and counter (float histogram
 * chunks); min and max are absent. Integer histograms are turned into float ones; each
 * batch works at the smallest schema it holds. Histograms are objects (one series at a
 * time), unlike floats: they are rare and their buckets vary per sample.
 */
import {
  AggrType,
  CUSTOM_BUCKETS_SCHEMA,
  CounterResetHint,
  Encoding,
  FloatHistogramIterator,
  FormatError,
  HistogramIterator,
  addFloatHistogram,
  cloneFloatHistogram,
  copyFloatHistogram,
  copyToSchema,
  detectReset,
  encodeAggrChunk,
  encodeXOR,
  isStaleNaN,
  subFloatHistogram,
  toFloatHistogram,
  type Chunk,
  type ChunkToWrite,
  type FloatHistogram,
} from "@strata/tsdb";
import { ASSUMED_RAW_INTERVAL, currentWindow, targetChunkCount } from "./resolution.ts";
import { FloatHistogramAppender } from "./histogram-appender.ts";
import type { FloatRun } from "./samples.ts";
import { windowStat, type AggrParts } from "./float-aggr.ts";
import type { FloatScratch } from "./float-raw.ts";

const STAT_SUM = 0;

/** A run of histogram samples of one series, expanded as Thanos expands them. */
export class HistogramRun {
  ts: number[] = [];
  hs: FloatHistogram[] = [];
  private readonly hit = new HistogramIterator();
  private readonly fit = new FloatHistogramIterator();

  get n(): number {
    return this.ts.length;
  }

  clear(): void {
    this.ts.length = 0;
    this.hs.length = 0;
  }

  /**
   * Append a histogram or float histogram chunk: stale markers and samples going back in
   * time within the chunk (floor 0) are dropped, integer histograms become float ones.
   */
  append(chunk: Chunk): void {
    if (chunk.encoding === Encoding.Histogram) {
      const it = this.hit;
      it.reset(chunk.data);
      let lastT = 0;
      while (it.next()) {
        if (isStaleNaN(it.h.sum) || it.t < lastT) continue;
        lastT = it.t;
        this.push(it.t, toFloatHistogram(it.h));
      }
    } else {
      const it = this.fit;
      it.reset(chunk.data);
      let lastT = 0;
      while (it.next()) {
        if (isStaleNaN(it.h.sum) || it.t < lastT) continue;
        lastT = it.t;
        this.push(it.t, cloneFloatHistogram(it.h));
      }
    }
  }

  private push(t: number, h: FloatHistogram): void {
    if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
      throw new FormatError(
        "unknown-encoding",
        "native histograms with custom buckets (schema -53) cannot be downsampled (Thanos does not support them either)",
        {
          expected: "exponential schema (-4..8)",
          found: "schema -53",
        },
      );
    }
    this.ts.push(t);
    this.hs.push(h);
  }
}

/** Thanos' histogramAggregator: window count and sum, the running reset-adjusted counter. */
class HistogramAggregator {
  total = 0;
  count = 0;
  sum: FloatHistogram | undefined;
  counter: FloatHistogram | undefined;
  private previous: FloatHistogram | undefined;
  private readonly schema: number;
  private readonly withCounter: boolean;

  constructor(schema: number, withCounter = true) {
    this.schema = schema;
    this.withCounter = withCounter;
  }

  reset(): void {
    this.count = 0;
    this.sum = undefined;
  }

  add(orig: FloatHistogram): void {
    // A schema above the batch minimum is reduced; reset detection still looks at the original.
    const fh = orig.schema > this.schema ? copyToSchema(orig, this.schema) : orig;
    if (this.withCounter) {
      if (this.total > 0) {
        if (fh.counterResetHint !== CounterResetHint.Gauge && detectReset(orig, this.previous!))
          addFloatHistogram(this.counter!, fh);
        else addFloatHistogram(this.counter!, subFloatHistogram(copyFloatHistogram(fh), this.previous!));
      } else {
        this.counter = copyFloatHistogram(fh);
      }
    }
    if (this.sum === undefined) this.sum = copyFloatHistogram(fh);
    else addFloatHistogram(this.sum, fh);
    // Sums are gauges, or the appender would see resets between windows.
    this.sum.counterResetHint = CounterResetHint.Gauge;
    this.previous = fh;
    this.count++;
    this.total++;
  }
}

function minSchema(hs: readonly FloatHistogram[], from: number, to: number): number {
  let s = Infinity;
  for (let i = from; i < to; i++) if (!isStaleNaN(hs[i]!.sum) && hs[i]!.schema < s) s = hs[i]!.schema;
  return s;
}

/**
 * Thanos' downsampleBatch over samples [from, to): calls emit(windowT) at each window end; returns the last window
 * time.
 */
function eachWindow(
  ts: readonly number[],
  from: number,
  to: number,
  res: number,
  aggr: HistogramAggregator,
  hs: readonly FloatHistogram[],
  emit: (t: number) => void,
): number {
  const lastT = ts[to - 1]!;
  let nextT = -1;
  for (let i = from; i < to; i++) {
    const t = ts[i]!;
    if (t > nextT) {
      if (nextT !== -1) emit(nextT);
      aggr.reset();
      const w = currentWindow(t, res);
      nextT = w < lastT ? w : lastT;
    }
    aggr.add(hs[i]!);
  }
  if (aggr.total > 0) emit(nextT);
  return nextT;
}

/** Downsample one run of raw histogram samples into aggregate chunks appended to `out`. */
export function downsampleRawHistogram(run: HistogramRun, res: number, out: ChunkToWrite[]): void {
  const n = run.n;
  if (n === 0) return;
  const { ts, hs } = run;
  const numChunks = targetChunkCount(ts[0]!, ts[n - 1]!, ASSUMED_RAW_INTERVAL, res, n);
  const batchSize = Math.trunc(n / numChunks) + 1;
  let i = 0;
  const bts: number[] = [];
  const bhs: FloatHistogram[] = [];
  while (i < n) {
    let j = Math.min(i + batchSize, n);
    const curW = currentWindow(ts[j - 1]!, res);
    while (j < n && ts[j]! <= curW) j++;
    bts.length = 0;
    bhs.length = 0;
    for (let k = i; k < j; k++) {
      if (hs[k]!.sum !== hs[k]!.sum) continue; // NaN sums leave the batch
      bts.push(ts[k]!);
      bhs.push(hs[k]!);
    }
    i = j;
    if (bts.length > 0) out.push(rawHistogramBatch(bts, bhs, res));
  }
}

function rawHistogramBatch(ts: number[], hs: FloatHistogram[], res: number): ChunkToWrite {
  const gauge = hs[0]!.counterResetHint === CounterResetHint.Gauge;
  const aggr = new HistogramAggregator(minSchema(hs, 0, hs.length));
  const counter = new FloatHistogramAppender();
  const sum = new FloatHistogramAppender();
  const cts: number[] = [];
  const cvs: number[] = [];
  eachWindow(ts, 0, ts.length, res, aggr, hs, (t) => {
    if (gauge) {
      aggr.counter!.counterResetHint = CounterResetHint.Gauge;
      aggr.sum!.counterResetHint = CounterResetHint.Gauge;
    }
    counter.append(t, aggr.counter!);
    sum.append(t, aggr.sum!);
    cts.push(t);
    cvs.push(aggr.count);
  });
  const parts: (Chunk | undefined)[] = [];
  parts[AggrType.Count] = xorChunk(cts, cvs);
  parts[AggrType.Sum] = sum.chunk();
  parts[AggrType.Counter] = counter.chunk();
  return {
    minTime: cts[0]!,
    maxTime: cts[cts.length - 1]!,
    chunk: { encoding: Encoding.Aggr, data: encodeAggrChunk(parts) },
  };
}

function xorChunk(ts: number[], vs: number[]): Chunk {
  return { encoding: Encoding.XOR, data: encodeXOR(Float64Array.from(ts), Float64Array.from(vs), 0, ts.length) };
}

/** Is this aggregate chunk a histogram one (its counter is a histogram chunk)? */
export function isHistogramAggr(p: AggrParts): boolean {
  const c = p[AggrType.Counter];
  return c !== undefined && (c.encoding === Encoding.Histogram || c.encoding === Encoding.FloatHistogram);
}

/**
 * One batch of histogram aggregate chunks → one coarser aggregate chunk: the counter
 * re-aggregated with reset detection, the sums added per window, the counts summed.
 */
export function histogramAggrBatch(
  part: readonly AggrParts[],
  res: number,
  fs: FloatScratch,
  countRun: FloatRun,
): ChunkToWrite {
  let mint = Infinity;
  let maxt = -Infinity;
  const span = (t: number) => {
    if (t < mint) mint = t;
    if (t > maxt) maxt = t;
  };
  const run = new HistogramRun();
  for (const p of part) {
    const c = p[AggrType.Counter];
    if (c !== undefined) run.append(requireHistogram(c, AggrType.Counter));
  }
  const parts: (Chunk | undefined)[] = [];
  if (run.n > 0) {
    const counter = new FloatHistogramAppender();
    const aggr = new HistogramAggregator(minSchema(run.hs, 0, run.n));
    eachWindow(run.ts, 0, run.n, res, aggr, run.hs, (t) => {
      span(t);
      counter.append(t, aggr.counter!);
    });
    parts[AggrType.Counter] = counter.chunk();
  }
  run.clear();
  for (const p of part) {
    const c = p[AggrType.Sum];
    if (c !== undefined) run.append(requireHistogram(c, AggrType.Sum));
  }
  if (run.n > 0) {
    const sum = new FloatHistogramAppender();
    const aggr = new HistogramAggregator(minSchema(run.hs, 0, run.n), false);
    eachWindow(run.ts, 0, run.n, res, aggr, run.hs, (t) => {
      span(t);
      sum.append(t, aggr.sum!);
    });
    parts[AggrType.Sum] = sum.chunk();
  }
  countRun.clear();
  for (const p of part) {
    const c = p[AggrType.Count];
    if (c === undefined) continue;
    if (c.encoding !== Encoding.XOR) throw badSubChunk(AggrType.Count, c.encoding, "XOR (1)");
    countRun.appendXOR(c.data);
  }
  if (countRun.n > 0) {
    fs.ensure(countRun.n);
    const nw = windowStat(countRun.ts, countRun.vs, countRun.n, res, STAT_SUM, fs.wt, fs.vals[0]!);
    parts[AggrType.Count] = fs.xor(fs.wt, fs.vals[0]!, nw);
    span(fs.wt[0]!);
    span(fs.wt[nw - 1]!);
  }
  if (mint === Infinity) {
    throw new FormatError("invalid-value", "histogram aggregate chunks hold no samples to downsample", {
      expected: "at least one aggregate sample in each batch of chunks",
    });
  }
  return { minTime: mint, maxTime: maxt, chunk: { encoding: Encoding.Aggr, data: encodeAggrChunk(parts) } };
}

function requireHistogram(c: Chunk, type: number): Chunk {
  if (c.encoding !== Encoding.FloatHistogram && c.encoding !== Encoding.Histogram)
    throw badSubChunk(type, c.encoding, "float histogram (3)");
  return c;
}

function badSubChunk(type: number, encoding: number, expected: string): FormatError {
  return new FormatError(
    "unknown-encoding",
    `histogram aggregate chunk has a ${["count", "sum", "min", "max", "counter"][type]} sub-chunk of encoding ${encoding}`,
    {
      expected,
      found: String(encoding),
    },
  );
}
