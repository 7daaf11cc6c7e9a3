/**
 * The cost model: what a job will cost (seconds, peak memory) from what the planner knows
 * about its inputs — meta.json's `stats` and the file sizes in `thanos.files` (or an index
 * size learnt elsewhere). Pure functions, no I/O; the throughputs are the named constants of
 * ./constants.ts, S3 throughput a parameter.
 */
import { formatDuration, type BlockMeta } from "@strata/tsdb";
import * as C from "./constants.ts";

/** What one input block weighs. */
export interface BlockCost {
  indexBytes: number;
  chunkBytes: number;
  series: number;
  samples: number;
  chunks: number;
}

/** One job's estimate; it travels with the plan (PlanSchema's `estimate`). */
export interface JobEstimate {
  /** Wall-clock seconds of the whole job. */
  seconds: number;
  /** The part of `seconds` spent moving bytes to and from the store. */
  transferSeconds: number;
  /** Peak memory of the job's own work, above the runtime. */
  peakBytes: number;
  /** Bytes read from the store (index + chunks of every input). */
  readBytes: number;
  /** Bytes written to the store (worst case). */
  writeBytes: number;
  /** Input series (sum over inputs). */
  series: number;
  samples: number;
  chunks: number;
}

export interface CostParams {
  /** Bytes/s read from the store; Infinity for a local disk (its cost is in the CPU figures). */
  s3ReadBytesPerSecond?: number;
  /** Bytes/s written to the store; Infinity for a local disk. */
  s3WriteBytesPerSecond?: number;
  /** Bytes of store pages the job caches for its inputs (the pipeline's page cache), added to every peak; default 0. */
  cacheBytes?: number;
  /** ... and at most this much per input (the cache's per-input cap); default no cap. */
  cacheBytesPerInput?: number;
}

function cache(inputs: number, p: CostParams): number {
  return Math.min(p.cacheBytes ?? 0, Math.max(1, inputs) * (p.cacheBytesPerInput ?? Infinity));
}

/** The time and memory a job may take. */
export interface JobBudget {
  seconds: number;
  /** Peak bytes of the job's own work (the function's memory minus the runtime). */
  memoryBytes: number;
}

const num = (v: bigint | number | undefined): number | undefined => (v === undefined ? undefined : Number(v));

/**
 * A block's weight from its meta: sizes from `thanos.files` (the index, the `chunks/`
 * segments), else `indexBytes` from the caller, else the fallbacks of ./constants.ts.
 */
export function blockCostOf(meta: BlockMeta, indexBytes?: number): BlockCost {
  const series = num(meta.stats.numSeries) ?? 0;
  const samples = num(meta.stats.numSamples);
  const chunks = num(meta.stats.numChunks);
  let idx: number | undefined;
  let chunkBytes: number | undefined;
  for (const f of meta.thanos?.files ?? []) {
    if (f.size_bytes === undefined || f.size_bytes <= 0) continue;
    if (f.rel_path === "index") idx = f.size_bytes;
    else if (f.rel_path.startsWith("chunks/")) chunkBytes = (chunkBytes ?? 0) + f.size_bytes;
  }
  idx ??= indexBytes ?? series * C.FALLBACK_INDEX_BYTES_PER_SERIES;
  chunkBytes ??=
    samples !== undefined
      ? samples * C.FALLBACK_CHUNK_BYTES_PER_SAMPLE
      : (chunks ?? 0) * C.FALLBACK_CHUNK_BYTES_PER_CHUNK;
  return { indexBytes: idx, chunkBytes, series, samples: samples ?? (chunks ?? 0) * 120, chunks: chunks ?? 0 };
}

function transfer(read: number, write: number, p: CostParams): number {
  const r = p.s3ReadBytesPerSecond ?? C.DEFAULT_S3_READ_BYTES_PER_SECOND;
  const w = p.s3WriteBytesPerSecond ?? C.DEFAULT_S3_WRITE_BYTES_PER_SECOND;
  return read / r + write / w;
}

function timing(cpu: number, transferSeconds: number): { seconds: number; transferSeconds: number } {
  return { seconds: C.JOB_START_SECONDS + cpu + transferSeconds, transferSeconds };
}

function sum(blocks: readonly BlockCost[]): BlockCost {
  const s: BlockCost = { indexBytes: 0, chunkBytes: 0, series: 0, samples: 0, chunks: 0 };
  for (const b of blocks) {
    s.indexBytes += b.indexBytes;
    s.chunkBytes += b.chunkBytes;
    s.series += b.series;
    s.samples += b.samples;
    s.chunks += b.chunks;
  }
  return s;
}

export interface CompactionShape {
  /** Inputs overlap in time: a vertical merge decodes and re-encodes (charged for every sample). */
  overlapping?: boolean;
  /** Output shards of a split (1 or absent: one output). */
  shards?: number;
}

/**
 * One compaction job (leveled or vertical merge, tombstone rewrite, split into N shards):
 * every input read whole, the output written (worst case: as large as the inputs).
 */
export function estimateCompaction(
  blocks: readonly BlockCost[],
  shape: CompactionShape = {},
  params: CostParams = {},
): JobEstimate {
  const s = sum(blocks);
  const readBytes = s.indexBytes + s.chunkBytes;
  const writeBytes = readBytes;
  const shards = Math.max(1, shape.shards ?? 1);
  const cpu =
    readBytes * C.COMPACT_SECONDS_PER_BYTE +
    s.series * C.COMPACT_SECONDS_PER_SERIES +
    (shape.overlapping ? s.samples * C.VERTICAL_SECONDS_PER_SAMPLE : 0);
  return {
    ...timing(cpu, transfer(readBytes, writeBytes, params)),
    peakBytes:
      cache(blocks.length, params) +
      C.COMPACT_BASE_BYTES +
      blocks.length * C.COMPACT_BYTES_PER_INPUT +
      s.series * C.COMPACT_BYTES_PER_SERIES +
      (shards - 1) * C.COMPACT_BYTES_PER_EXTRA_SHARD,
    readBytes,
    writeBytes,
    series: s.series,
    samples: s.samples,
    chunks: s.chunks,
  };
}

/** Downsampling one block (raw → 5m or 5m → 1h). */
export function estimateDownsampling(block: BlockCost, params: CostParams = {}): JobEstimate {
  const readBytes = block.indexBytes + block.chunkBytes;
  const writeBytes = block.indexBytes + block.chunkBytes * C.DOWNSAMPLE_OUTPUT_RATIO;
  const cpu = block.samples * C.DOWNSAMPLE_SECONDS_PER_SAMPLE + block.chunkBytes * C.DOWNSAMPLE_SECONDS_PER_BYTE;
  return {
    ...timing(cpu, transfer(readBytes, writeBytes, params)),
    peakBytes: cache(1, params) + C.DOWNSAMPLE_BASE_BYTES + block.indexBytes * C.DOWNSAMPLE_BYTES_PER_INDEX_BYTE,
    readBytes,
    writeBytes,
    series: block.series,
    samples: block.samples,
    chunks: block.chunks,
  };
}

/** Verifying one block (every byte read, every chunk CRC-checked and decoded). */
export function estimateVerification(block: BlockCost, params: CostParams = {}): JobEstimate {
  const readBytes = block.indexBytes + block.chunkBytes;
  return {
    ...timing(readBytes * C.VERIFY_SECONDS_PER_BYTE, transfer(readBytes, 0, params)),
    peakBytes: cache(1, params) + C.VERIFY_BASE_BYTES + block.indexBytes * C.VERIFY_BYTES_PER_INDEX_BYTE,
    readBytes,
    writeBytes: 0,
    series: block.series,
    samples: block.samples,
    chunks: block.chunks,
  };
}

/** Whether the estimate fits the budget. */
export function fitsBudget(e: JobEstimate, b: JobBudget): boolean {
  return e.seconds <= b.seconds && e.peakBytes <= b.memoryBytes;
}

/** The engine's own throughput in the estimate: input bytes per second of work, store transfers left out. */
export function workThroughput(e: JobEstimate): number {
  const work = e.seconds - e.transferSeconds;
  return work > 0 ? e.readBytes / work : 0;
}

/** The store's throughput in the estimate: bytes moved per second of transfer. */
export function transferThroughput(e: JobEstimate): number {
  return e.transferSeconds > 0 ? (e.readBytes + e.writeBytes) / e.transferSeconds : 0;
}

/** "~40s", "~23m", "~2.5h". */
export function fmtSeconds(s: number): string {
  if (s < 90) return `~${Math.ceil(s)}s`;
  if (s < 5400) return `~${Math.ceil(s / 60)}m`;
  return `~${(s / 3600).toFixed(1)}h`;
}

/**
 * A duration setting that covers `s` seconds with 10% to spare, in whole 5 minutes ("25m"), or seconds below a minute;
 * written as every setting is (tsdb's formatDuration).
 */
export function durationSetting(s: number): string {
  const need = s * 1.1;
  return formatDuration(need < 60 ? Math.ceil(need) * 1000 : Math.ceil(need / 300) * 300_000);
}

export function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${Math.round(n)} B`;
}

/** A memory setting that covers `bytes` with 10% to spare, in whole 64 MiB ("2816MiB"). */
export function memorySetting(bytes: number): string {
  return `${Math.ceil((bytes * 1.1) / 2 ** 26) * 64}MiB`;
}

/**
 * What is over: "needs ~23m (budget 10m): 12 GB in and out at 40 MB/s (~10m), the work at the
 * measured ~260 MB/s (~1m)", and/or the memory.
 */
export function describeOver(e: JobEstimate, b: JobBudget): string {
  const parts: string[] = [];
  if (e.seconds > b.seconds) {
    const work = e.seconds - e.transferSeconds;
    const io =
      e.transferSeconds > 0
        ? `${fmtBytes(e.readBytes)} in${e.writeBytes ? " and out" : ""} at ${fmtBytes(transferThroughput(e))}/s (${fmtSeconds(e.transferSeconds)}), `
        : `${fmtBytes(e.readBytes)}: `;
    parts.push(
      `needs ${fmtSeconds(e.seconds)} (budget ${fmtSeconds(b.seconds).slice(1)}): ${io}the work at the measured ~${fmtBytes(workThroughput(e))}/s (${fmtSeconds(work)})`,
    );
  }
  if (e.peakBytes > b.memoryBytes)
    parts.push(`needs ~${fmtBytes(e.peakBytes)} of memory (budget ${fmtBytes(b.memoryBytes)})`);
  return parts.join("; ");
}
