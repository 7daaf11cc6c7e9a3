/**
 * One series' chunks → its downsampled chunks (T: downsample.go downsampleRaw/
 * downsampleAggr per series). Used on the main thread and in the workers alike.
 */
import {
  Encoding,
  FormatError,
  RESOLUTION_5M,
  RESOLUTION_RAW,
  decodeAggrChunk,
  labelsToString,
  type ChunkMeta,
  type ChunkToWrite,
  type Labels,
} from "@strata/tsdb";
import { FloatRun, unsupportedEncoding } from "./samples.ts";
import { FloatScratch, downsampleRawFloat } from "./float-raw.ts";
import { AggrScratch, countSamples, downsampleFloatAggr, type AggrParts } from "./float-aggr.ts";
import { HistogramRun, downsampleRawHistogram, histogramAggrBatch, isHistogramAggr } from "./histogram.ts";
import { targetChunkCount } from "./resolution.ts";

/**
 * A FormatError from one series, named by its labels and placed in the block's files
 * (readers name files relative to the block). Other errors pass through.
 */
export function inSeries(e: unknown, block: string, labels: Labels): unknown {
  if (!(e instanceof FormatError)) return e;
  return new FormatError(
    e.code,
    `series ${labelsToString(labels)}: ${e.detail}`,
    { file: `${block}/${e.file ?? "chunks"}`, offset: e.offset, expected: e.expected, found: e.found },
    { cause: e },
  );
}

/** Per-series work with buffers reused across series: memory is one series' samples. */
export class SeriesDownsampler {
  private readonly inRes: number;
  private readonly outRes: number;
  private readonly run = new FloatRun();
  private readonly fs = new FloatScratch();
  private readonly as = new AggrScratch();
  private readonly hrun = new HistogramRun();
  private readonly out: ChunkToWrite[] = [];

  constructor(inRes: number, outRes: number) {
    this.inRes = inRes;
    this.outRes = outRes;
  }

  /** The output chunks of one series (a reused array). */
  series(chunks: readonly ChunkMeta[]): ChunkToWrite[] {
    for (let i = 1; i < chunks.length; i++) {
      if (chunks[i - 1]!.maxTime >= chunks[i]!.minTime) {
        throw new FormatError("out-of-order", `chunks ${i - 1} and ${i} overlap`, {
          expected: "chunks ordered by time and not overlapping",
          found: `[${chunks[i - 1]!.minTime}, ${chunks[i - 1]!.maxTime}] then [${chunks[i]!.minTime}, ${chunks[i]!.maxTime}]`,
        });
      }
    }
    this.out.length = 0;
    this.fs.beginSeries();
    if (this.inRes === RESOLUTION_RAW) this.raw(chunks);
    else this.aggregated(chunks);
    return this.out;
  }

  private raw(chunks: readonly ChunkMeta[]): void {
    // Thanos cuts the series into runs of float and of histogram chunks and downsamples
    // each run on its own.
    this.run.clear();
    this.hrun.clear();
    let hist: boolean | undefined;
    for (const c of chunks) {
      const chunk = c.chunk!;
      const isHist = isHistogramChunk(chunk.encoding);
      if (!isHist && chunk.encoding !== Encoding.XOR)
        throw unsupportedEncoding(`chunk at ref ${c.ref}`, chunk.encoding);
      if (hist !== undefined && isHist !== hist) this.flushRaw(hist);
      hist = isHist;
      if (isHist) atRef(c.ref, () => this.hrun.append(chunk));
      else {
        try {
          this.run.appendXOR(chunk.data);
        } catch (e) {
          throw refError(c.ref, e);
        }
      }
    }
    if (hist !== undefined) this.flushRaw(hist);
  }

  private flushRaw(hist: boolean): void {
    if (hist) {
      downsampleRawHistogram(this.hrun, this.outRes, this.out);
      this.hrun.clear();
    } else {
      downsampleRawFloat(this.run, this.outRes, this.out, this.fs);
      this.run.clear();
    }
  }

  private aggregated(chunks: readonly ChunkMeta[]): void {
    let parts: AggrParts[] = [];
    let hist = false;
    let mint = 0;
    let maxt = 0;
    const add = (p: AggrParts, minTime: number, maxTime: number) => {
      const isHist = isHistogramAggr(p);
      if (parts.length > 0 && isHist !== hist) {
        this.flushAggr(parts, mint, maxt, hist);
        parts = [];
      }
      if (parts.length === 0) mint = minTime;
      hist = isHist;
      parts.push(p);
      maxt = maxTime;
    };
    for (const c of chunks) {
      const chunk = c.chunk!;
      if (chunk.encoding !== Encoding.Aggr) {
        // Downsampled blocks written by old Thanos versions may hold plain chunks
        // (thanos#5272): empty ones are dropped, others re-downsampled to 5m first.
        const fixed: ChunkToWrite[] = [];
        if (chunk.encoding === Encoding.XOR) {
          this.run.clear();
          atRef(c.ref, () => this.run.appendXOR(chunk.data));
          downsampleRawFloat(this.run, RESOLUTION_5M, fixed, this.fs);
        } else if (isHistogramChunk(chunk.encoding)) {
          this.hrun.clear();
          atRef(c.ref, () => this.hrun.append(chunk));
          downsampleRawHistogram(this.hrun, RESOLUTION_5M, fixed);
        } else {
          throw unsupportedEncoding(`chunk at ref ${c.ref}`, chunk.encoding);
        }
        for (const f of fixed) add(decodeAggrChunk(f.chunk.data), f.minTime, f.maxTime);
        continue;
      }
      add(
        atRef(c.ref, () => decodeAggrChunk(chunk.data)),
        c.minTime,
        c.maxTime,
      );
    }
    if (parts.length > 0) this.flushAggr(parts, mint, maxt, hist);
  }

  private flushAggr(parts: AggrParts[], mint: number, maxt: number, hist: boolean): void {
    if (!hist) {
      downsampleFloatAggr(parts, mint, maxt, this.inRes, this.outRes, this.out, this.fs, this.as);
      return;
    }
    let numSamples = 0;
    for (const p of parts) numSamples += countSamples(p);
    const numChunks = targetChunkCount(mint, maxt, this.inRes, this.outRes, numSamples);
    // As for floats: one input chunk per batch where Thanos would ask for batches of none.
    const batchSize = Math.max(1, Math.trunc(parts.length / numChunks));
    for (let i = 0; i < parts.length; i += batchSize) {
      this.out.push(histogramAggrBatch(parts.slice(i, i + batchSize), this.outRes, this.fs, this.as.run));
    }
  }
}

function isHistogramChunk(encoding: number): boolean {
  return encoding === Encoding.Histogram || encoding === Encoding.FloatHistogram;
}

/** Run fn, naming the chunk in any FormatError it throws. */
function atRef<T>(ref: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw refError(ref, e);
  }
}

/** A FormatError from inside one chunk's data, naming the chunk (its offsets are within the data). */
function refError(ref: number, e: unknown): unknown {
  if (!(e instanceof FormatError)) return e;
  const at = e.offset !== undefined ? ` (byte ${e.offset} of its data)` : "";
  return new FormatError(
    e.code,
    `chunk at ref ${ref}${at}: ${e.detail}`,
    { expected: e.expected, found: e.found },
    { cause: e },
  );
}
