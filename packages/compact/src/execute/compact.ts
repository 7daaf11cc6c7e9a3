/**
 * Executing one compaction: the given blocks in, one block (or one per shard) out.
 *
 *   inputs ─▶ InputStream per block (replica labels stripped, window, tombstones)
 *          ─▶ SeriesHeap (k-way by labels) ─▶ SeriesMerger (copy / dedup / merge)
 *          ─▶ BlockWriter of the series' shard (created on its first series)
 *
 * Memory: each reader's symbols, postings offset table and read windows, the symbol
 * union (one SymbolTable shared by every output), each writer's postings, and one series'
 * chunks per input; never a whole block.
 */
import {
  BlockReader,
  BlockWriter,
  SymbolTable,
  getLabel,
  labelsEqual,
  labelsFrom,
  newUlid,
  METRIC_NAME,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
  type ChunkToWrite,
  type Labels,
  type WrittenBlock,
} from "@strata/tsdb";
import { InputStream, type InputCounters } from "../merge/input-stream.ts";
import { SeriesHeap } from "../merge/heap.ts";
import { SeriesMerger, type MergeCounters } from "../merge/series-merge.ts";
import { looksLikeCounter } from "../merge/penalty.ts";
import { shardOf, COMPACTOR_SHARD_ID_LABEL } from "../shard/shard.ts";
import { mergeSortedSymbols } from "./symbols.ts";
import { checkCompatible, outputMeta } from "./meta.ts";
import { checkIndexLimits, estimateOutputIndex, type IndexLimits } from "./guard.ts";

export type DedupMode = "none" | "1:1" | "penalty";

export interface CompactOptions {
  /** "none" and "1:1": Prometheus' merge (equal timestamps kept once). "penalty": Thanos' HA dedup. Default "1:1". */
  dedup?: DedupMode;
  /** Labels that tell replicas apart: removed from series labels and external labels before merging. */
  replicaLabels?: readonly string[];
  /** Split the output into this many blocks by series hash (Mimir's split stage). */
  shards?: number;
  /**
   * With `shards`: write only these outputs (0-based), skipping other shards' series without
   * merging them. How a retried split job redoes just the shards a crash left unwritten.
   */
  onlyShards?: ReadonlySet<number>;
  /** Output time range [minTime, maxTime); default: from the inputs' metas. Samples outside are dropped. */
  outputRange?: { minTime: number; maxTime: number };
  /** ULID of the output (shard 0 when sharding); others are generated with the same timestamp. */
  ulid?: string;
  /** Series treated as counters by penalty dedup (default: names ending _total, _count, _bucket). */
  isCounter?: (labels: Labels) => boolean;
  segmentSize?: number;
  /** Override the index format limits (tests). */
  indexLimits?: IndexLimits;
}

/** Where output `shardIndex` (0 when not sharding) with the given ULID is written. */
export type SinkFactory = (shardIndex: number, ulid: string) => BlockSink;

export interface CompactOutput extends WrittenBlock {
  shard: number;
  sink: BlockSink;
}

export interface CompactResult {
  outputs: CompactOutput[];
  /**
   * Where the time went. `openMs` is opening the inputs (meta, index TOC, symbols, postings
   * offsets); Prometheus' logged compaction `duration` starts with its blocks already open,
   * so read + merge + write is the figure to set beside it.
   */
  timings: { openMs: number; readMs: number; mergeMs: number; writeMs: number };
  /** Peak resident set size of this process so far, bytes. */
  peakRss: number;
  /**
   * What the job held for its outputs' symbols: how many distinct symbol tables the output
   * writers used (1 whatever the shard count; 0 with no output), the symbols in it, and
   * its approximate bytes (beyond the strings the input readers hold anyway).
   */
  symbols: { tables: number; count: number; bytes: number };
  counters: MergeCounters & InputCounters & { seriesWritten: number };
}

/** A compaction refused before anything was written (bad combination of inputs, index limits). */
export class CompactionError extends Error {
  override name = "CompactionError";
}

interface Output {
  shard: number;
  ulid: string;
  sink: BlockSink;
  writer: BlockWriter;
}

export async function compactBlocks(inputs: readonly BlockSource[], sinks: SinkFactory, opts: CompactOptions = {}): Promise<CompactResult> {
  const dedup = opts.dedup ?? "1:1";
  if (dedup !== "none" && dedup !== "1:1" && dedup !== "penalty") throw new CompactionError(`unknown dedup mode ${JSON.stringify(dedup)}`);
  const shards = opts.shards ?? 0;
  if (!Number.isInteger(shards) || shards < 0) throw new CompactionError(`shard count must be a non-negative integer, got ${shards}`);
  const onlyShards = shards > 0 ? opts.onlyShards : undefined;
  const replicaLabels = [...(opts.replicaLabels ?? [])];
  const isCounter = opts.isCounter ?? ((ls: Labels) => looksLikeCounter(getLabel(ls, METRIC_NAME)));
  const timings = { openMs: 0, readMs: 0, mergeMs: 0, writeMs: 0 };
  let t0 = performance.now();

  const readers: BlockReader[] = [];
  try {
    // Opened side by side: each open is a chain of small reads, so one block's waits
    // overlap another's work. Those that opened are closed below if another failed.
    const opened = await Promise.allSettled(inputs.map((src) => BlockReader.open(src)));
    for (const o of opened) if (o.status === "fulfilled") readers.push(o.value);
    for (const o of opened) if (o.status === "rejected") throw o.reason;
    timings.openMs = performance.now() - t0;
    t0 = performance.now();
    const metas = readers.map((r) => r.meta);
    const problem = checkCompatible(metas) ?? checkExternalLabels(metas, replicaLabels);
    if (problem) throw new CompactionError(problem);
    const minTime = opts.outputRange?.minTime ?? Math.min(...metas.map((m) => m.minTime));
    const maxTime = opts.outputRange?.maxTime ?? Math.max(...metas.map((m) => m.maxTime));
    if (!(maxTime > minTime)) throw new CompactionError(`empty output range [${minTime}, ${maxTime})`);
    const tooBig = checkIndexLimits(estimateOutputIndex(readers, shards), opts.indexLimits);
    if (tooBig) throw new CompactionError(`refusing to compact ${metas.map((m) => m.ulid).join(", ")}: ${tooBig}; split the job into shards`);

    // One table for every output: each shard's index writes it whole (as Prometheus' shards
    // do) from this one copy, so a split holds its symbols once whatever the shard count.
    const symbols = SymbolTable.from(mergeSortedSymbols(readers.map((r) => r.index.symbols)));
    const streams = readers.map(
      (r, i) =>
        new InputStream(r, i, {
          replicaLabels,
          // Each input only contributes samples inside its own meta range (as Prometheus reads it).
          minT: Math.max(minTime, r.meta.minTime),
          maxT: Math.min(maxTime, r.meta.maxTime) - 1,
        }),
    );
    const heap = new SeriesHeap();
    for (const s of streams) {
      await s.start();
      heap.push(s);
    }
    timings.readMs += performance.now() - t0;

    const outputs = new Map<number, Output>();
    const baseUlid = opts.ulid ?? newUlid();
    const ulidTimeMs = Date.now();
    const outputFor = async (shard: number): Promise<Output> => {
      let o = outputs.get(shard);
      if (o) return o;
      const ulid = shard === 0 ? baseUlid : newUlid(ulidTimeMs);
      const sink = sinks(shard, ulid);
      const writer = new BlockWriter(sink, { segmentSize: opts.segmentSize });
      await writer.addSymbols(symbols);
      o = { shard, ulid, sink, writer };
      outputs.set(shard, o);
      return o;
    };

    const merger = new SeriesMerger();
    const group: InputStream[] = [];
    const replicas: ChunkToWrite[][] = [];
    const out: ChunkToWrite[] = [];
    let seriesWritten = 0;
    for (;;) {
      t0 = performance.now();
      const labels = heap.popGroup(group);
      if (!labels) break;
      const shard = shards > 0 ? shardOf(labels, shards) : 0;
      replicas.length = 0;
      if (onlyShards === undefined || onlyShards.has(shard)) for (const s of group) for (const r of s.head!.replicas) replicas.push(r);
      const counter = dedup === "penalty" && isCounter(labels);
      merger.merge(replicas, { mode: dedup === "penalty" ? "penalty" : "chain", counter }, out);
      let t1 = performance.now();
      timings.mergeMs += t1 - t0;
      if (out.length > 0) {
        const o = outputs.get(shard) ?? (await outputFor(shard));
        await o.writer.addSeries(labels, out);
        seriesWritten++;
      }
      t0 = performance.now();
      timings.writeMs += t0 - t1;
      // Only now may the popped inputs move on: their chunk bytes were views until written.
      // Without waiting while the inputs' read windows hold their next series.
      for (const s of group) {
        if (!s.tryAdvance()) await s.advance();
        heap.push(s);
      }
      t1 = performance.now();
      timings.readMs += t1 - t0;
    }

    t0 = performance.now();
    const results: CompactOutput[] = [];
    for (const o of [...outputs.values()].sort((a, b) => a.shard - b.shard)) {
      const meta = outputMeta(metas, {
        ulid: o.ulid,
        minTime,
        maxTime,
        replicaLabels,
        shard: shards > 0 ? { index: o.shard, count: shards } : undefined,
      });
      const written = await o.writer.finish(meta);
      results.push({ ...written, shard: o.shard, sink: o.sink });
    }
    timings.writeMs += performance.now() - t0;

    const counters = { ...merger.counters, seriesRead: 0, chunksRead: 0, trimmedChunks: 0, droppedChunks: 0, seriesWritten };
    for (const s of streams) {
      counters.seriesRead += s.counters.seriesRead;
      counters.chunksRead += s.counters.chunksRead;
      counters.trimmedChunks += s.counters.trimmedChunks;
      counters.droppedChunks += s.counters.droppedChunks;
    }
    const tables = new Set<SymbolTable>();
    for (const o of outputs.values()) if (o.writer.symbolTable) tables.add(o.writer.symbolTable);
    let tableBytes = 0;
    for (const t of tables) tableBytes += t.retainedBytes;
    return { outputs: results, timings, peakRss: peakRss(), counters, symbols: { tables: tables.size, count: symbols.length, bytes: tableBytes } };
  } finally {
    for (const r of readers) await r.close().catch(() => {});
  }
}

/** Inputs must share external labels once replica and shard labels are set aside. */
function checkExternalLabels(metas: readonly BlockMeta[], replicaLabels: readonly string[]): string | undefined {
  const strip = (m: BlockMeta) => {
    const l: Record<string, string> = { ...(m.thanos?.labels ?? {}) };
    for (const r of replicaLabels) delete l[r];
    delete l[COMPACTOR_SHARD_ID_LABEL];
    return labelsFrom(l);
  };
  const first = strip(metas[0]!);
  for (const m of metas.slice(1)) {
    if (!labelsEqual(first, strip(m))) {
      return `blocks ${metas[0]!.ulid} and ${m.ulid} belong to different streams (external labels differ beyond the replica labels)`;
    }
  }
  return undefined;
}

function peakRss(): number {
  const p = (globalThis as { process?: { resourceUsage?: () => { maxRSS: number } } }).process;
  return p?.resourceUsage ? p.resourceUsage().maxRSS * 1024 : 0;
}

