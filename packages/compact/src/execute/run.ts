/**
 * The merge loop both entry points share (`compactBlocks` for blocks given by hand,
 * `executePlan` for a planner's plan): open readers in, written outputs out. The callers
 * decide what the inputs must agree on and what each output's meta.json says; this file
 * only streams.
 *
 *   readers ─▶ InputStream per block (replica labels stripped, window, tombstones)
 *           ─▶ SeriesHeap (k-way by labels) ─▶ SeriesMerger (copy / dedup / merge)
 *           ─▶ BlockWriter of the series' shard (created on its first series)
 *
 * Memory: each reader's symbols, postings offset table and read windows, the symbol
 * union (one SymbolTable shared by every output), each writer's postings, and one series'
 * chunks per input; never a whole block.
 */
import {
  BlockReader,
  BlockWriter,
  SymbolTable,
  newUlid,
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
import { shardOf } from "../shard/shard.ts";
import { mergeSortedSymbols } from "./symbols.ts";
import { checkIndexLimits, estimateOutputIndex, type IndexLimits } from "./guard.ts";

export type DedupMode = "none" | "1:1" | "penalty";

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

/**
 * A compaction refused before anything was written (bad combination of inputs, a plan its inputs contradict, index
 * limits).
 */
export class CompactionError extends Error {
  override name = "CompactionError";
}

/** What the loop needs, already validated by the caller. */
export interface RunSettings {
  dedup: DedupMode;
  replicaLabels: readonly string[];
  /** 0: one output. */
  shards: number;
  onlyShards: ReadonlySet<number> | undefined;
  /** Output range [minTime, maxTime): samples outside are dropped. */
  minTime: number;
  maxTime: number;
  /** ULID of output 0 (others get new ULIDs with the same timestamp). */
  ulid: string | undefined;
  isCounter: (labels: Labels) => boolean;
  segmentSize: number | undefined;
  indexLimits: IndexLimits | undefined;
}

/** The meta.json given to output `shard`'s writer (stats are filled in by the writer). */
export type OutputMetaFor = (ulid: string, shard: number) => BlockMeta;

/**
 * Open every source side by side (each open is a chain of small reads, so one block's waits
 * overlap another's work), run `fn` over the readers and close them all, also when one
 * failed to open.
 */
export async function withReaders<T>(
  sources: readonly BlockSource[],
  fn: (readers: BlockReader[], openMs: number) => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const readers: BlockReader[] = [];
  try {
    // The merge walks every series and never looks a postings list up: the inputs' postings
    // offset tables (~100 B per series each) are neither read nor held.
    const opened = await Promise.allSettled(sources.map((src) => BlockReader.open(src, { postingsTable: false })));
    for (const o of opened) if (o.status === "fulfilled") readers.push(o.value);
    for (const o of opened) if (o.status === "rejected") throw o.reason;
    return await fn(readers, performance.now() - t0);
  } finally {
    for (const r of readers) await r.close().catch(() => {});
  }
}

interface Output {
  shard: number;
  ulid: string;
  sink: BlockSink;
  writer: BlockWriter;
}

/** Merge the readers' series into the outputs; each output's meta comes from `metaFor`. */
export async function runCompaction(
  readers: readonly BlockReader[],
  sinks: SinkFactory,
  s: RunSettings,
  metaFor: OutputMetaFor,
  openMs: number,
): Promise<CompactResult> {
  const timings = { openMs, readMs: 0, mergeMs: 0, writeMs: 0 };
  let t0 = performance.now();
  const tooBig = checkIndexLimits(estimateOutputIndex(readers, s.shards), s.indexLimits);
  if (tooBig)
    throw new CompactionError(
      `refusing to compact ${readers.map((r) => r.meta.ulid).join(", ")}: ${tooBig}; split the job into shards`,
    );

  // One table for every output: each shard's index writes it whole (as Prometheus' shards
  // do) from this one copy, so a split holds its symbols once whatever the shard count.
  const symbols = SymbolTable.from(mergeSortedSymbols(readers.map((r) => r.index.symbols)));
  // Inputs of one stream share most symbols: keep one string per symbol for all of them
  // (the union's), not one per input, and their labels hit the lookup's cached hashes.
  for (const r of readers) r.index.shareSymbols(symbols.strings);
  const streams = readers.map(
    (r, i) =>
      new InputStream(r, i, {
        replicaLabels: s.replicaLabels,
        // Each input only contributes samples inside its own meta range (as Prometheus reads it).
        minT: Math.max(s.minTime, r.meta.minTime),
        maxT: Math.min(s.maxTime, r.meta.maxTime) - 1,
      }),
  );
  const heap = new SeriesHeap();
  for (const st of streams) {
    await st.start();
    heap.push(st);
  }
  timings.readMs += performance.now() - t0;

  const outputs = new Map<number, Output>();
  const baseUlid = s.ulid ?? newUlid();
  const ulidTimeMs = Date.now();
  const outputFor = async (shard: number): Promise<Output> => {
    let o = outputs.get(shard);
    if (o) return o;
    const ulid = shard === 0 ? baseUlid : newUlid(ulidTimeMs);
    const sink = sinks(shard, ulid);
    const writer = new BlockWriter(sink, { segmentSize: s.segmentSize });
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
    const shard = s.shards > 0 ? shardOf(labels, s.shards) : 0;
    replicas.length = 0;
    if (s.onlyShards === undefined || s.onlyShards.has(shard))
      for (const st of group) for (const r of st.head!.replicas) replicas.push(r);
    const counter = s.dedup === "penalty" && s.isCounter(labels);
    merger.merge(replicas, { mode: s.dedup === "penalty" ? "penalty" : "chain", counter }, out);
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
    for (const st of group) {
      if (!st.tryAdvance()) await st.advance();
      heap.push(st);
    }
    t1 = performance.now();
    timings.readMs += t1 - t0;
  }

  t0 = performance.now();
  const results: CompactOutput[] = [];
  for (const o of [...outputs.values()].sort((a, b) => a.shard - b.shard)) {
    const written = await o.writer.finish(metaFor(o.ulid, o.shard));
    results.push({ ...written, shard: o.shard, sink: o.sink });
  }
  timings.writeMs += performance.now() - t0;

  const counters = {
    ...merger.counters,
    seriesRead: 0,
    chunksRead: 0,
    trimmedChunks: 0,
    droppedChunks: 0,
    seriesWritten,
  };
  for (const st of streams) {
    counters.seriesRead += st.counters.seriesRead;
    counters.chunksRead += st.counters.chunksRead;
    counters.trimmedChunks += st.counters.trimmedChunks;
    counters.droppedChunks += st.counters.droppedChunks;
  }
  const tables = new Set<SymbolTable>();
  for (const o of outputs.values()) if (o.writer.symbolTable) tables.add(o.writer.symbolTable);
  let tableBytes = 0;
  for (const t of tables) tableBytes += t.retainedBytes;
  return {
    outputs: results,
    timings,
    peakRss: peakRss(),
    counters,
    symbols: { tables: tables.size, count: symbols.length, bytes: tableBytes },
  };
}

function peakRss(): number {
  const p = (globalThis as { process?: { resourceUsage?: () => { maxRSS: number } } }).process;
  return p?.resourceUsage ? p.resourceUsage().maxRSS * 1024 : 0;
}
