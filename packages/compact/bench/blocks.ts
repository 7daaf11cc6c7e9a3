/**
 * Test and bench fixtures: blocks written with our own writer from sample arrays, into
 * any BlockSink (memory for unit tests, directories for the benchmark and the CLI).
 */
import {
  BlockReader,
  BlockWriter,
  Encoding,
  MemoryBlock,
  Tombstones,
  compareLabels,
  compareStrings,
  decodeXOR,
  decodeHistogramChunk,
  decodeFloatHistogramChunk,
  encodeTombstones,
  encodeXOR,
  labelsFrom,
  labelsToString,
  newUlid,
  xorNumSamples,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
  type ChunkToWrite,
  type Interval,
  type Label,
  type ThanosMeta,
} from "@strata/tsdb";
import { compactBlocks, type CompactOptions } from "../src/execute/compact.ts";

export interface SeriesSpec {
  labels: Record<string, string>;
  /** Float samples as [t, v] pairs, ascending; cut into chunks of `chunkSize` (default 120). */
  samples?: [number, number][];
  chunkSize?: number;
  /** Or explicit chunks (written as given). */
  chunks?: ChunkToWrite[];
}

export interface BlockSpec {
  minTime: number;
  maxTime: number;
  ulid?: string;
  level?: number;
  sources?: string[];
  thanos?: ThanosMeta;
}

/** XOR chunks of `chunkSize` samples from [t, v] pairs. */
export function floatChunks(samples: readonly [number, number][], chunkSize = 120): ChunkToWrite[] {
  const ts = Float64Array.from(samples, (s) => s[0]);
  const vs = Float64Array.from(samples, (s) => s[1]);
  const out: ChunkToWrite[] = [];
  for (let i = 0; i < samples.length; i += chunkSize) {
    const end = Math.min(samples.length, i + chunkSize);
    out.push({
      minTime: ts[i]!,
      maxTime: ts[end - 1]!,
      chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) },
    });
  }
  return out;
}

/** Write a block of the given series (any order) into `sink`; returns its meta. */
export async function writeBlock(sink: BlockSink, series: readonly SeriesSpec[], spec: BlockSpec): Promise<BlockMeta> {
  const rows = series
    .map((s) => ({ labels: labelsFrom(s.labels), chunks: s.chunks ?? floatChunks(s.samples ?? [], s.chunkSize) }))
    .sort((a, b) => compareLabels(a.labels, b.labels));
  const symbols = new Set<string>();
  for (const r of rows) for (const l of r.labels) symbols.add(l.name).add(l.value);
  const w = new BlockWriter(sink);
  await w.addSymbols([...symbols].sort(compareStrings));
  for (const r of rows) await w.addSeries(r.labels, r.chunks);
  const ulid = spec.ulid ?? newUlid();
  const meta: BlockMeta = {
    ulid,
    minTime: spec.minTime,
    maxTime: spec.maxTime,
    stats: {},
    compaction: { level: spec.level ?? 1, sources: spec.sources ?? [ulid] },
    version: 1,
  };
  if (spec.thanos) meta.thanos = spec.thanos;
  return (await w.finish(meta)).meta;
}

/** An in-memory block. */
export async function memBlock(series: readonly SeriesSpec[], spec: BlockSpec): Promise<MemoryBlock> {
  const b = new MemoryBlock(spec.ulid ?? "mem");
  await writeBlock(b, series, spec);
  return b;
}

/** Replace a memory block's tombstones: intervals per series, selected by labels. */
export async function setTombstones(
  block: MemoryBlock,
  deletions: { labels: Record<string, string>; intervals: Interval[] }[],
): Promise<void> {
  const r = await BlockReader.open(block);
  const t = new Tombstones();
  for await (const s of r.series({ withChunks: false })) {
    for (const d of deletions) {
      if (compareLabels(s.labels, labelsFrom(d.labels)) === 0) for (const iv of d.intervals) t.add(s.id, iv);
    }
  }
  await r.close();
  block.files.set("tombstones", encodeTombstones(t));
}

export interface DumpedSeries {
  labels: string;
  /** Float samples as [t, v]; histograms as [t, "h:" + count]. */
  samples: [number, number | string][];
  chunks: { minTime: number; maxTime: number; encoding: number; data: Uint8Array }[];
}

/** Every series of a block with its decoded samples and (copied) chunk bytes. */
export async function dumpBlock(src: BlockSource): Promise<DumpedSeries[]> {
  const r = await BlockReader.open(src);
  const out: DumpedSeries[] = [];
  try {
    for await (const s of r.series()) {
      const d: DumpedSeries = { labels: labelsToString(s.labels as Label[]), samples: [], chunks: [] };
      for (const c of s.chunks) {
        const ch = c.chunk!;
        d.chunks.push({ minTime: c.minTime, maxTime: c.maxTime, encoding: ch.encoding, data: ch.data.slice() });
        if (ch.encoding === Encoding.XOR) {
          const n = xorNumSamples(ch.data);
          const ts = new Float64Array(n);
          const vs = new Float64Array(n);
          decodeXOR(ch.data, ts, vs);
          for (let i = 0; i < n; i++) d.samples.push([ts[i]!, vs[i]!]);
        } else if (ch.encoding === Encoding.Histogram) {
          for (const h of decodeHistogramChunk(ch.data)) d.samples.push([h.t, `h:${h.h.count}`]);
        } else if (ch.encoding === Encoding.FloatHistogram) {
          for (const h of decodeFloatHistogramChunk(ch.data)) d.samples.push([h.t, `fh:${h.h.count}`]);
        }
      }
      out.push(d);
    }
  } finally {
    await r.close();
  }
  return out;
}

/** Compact in-memory blocks into in-memory outputs; `blocks[i]` is `outputs[i]`'s sink. */
export async function compactInMemory(inputs: MemoryBlock[], opts: CompactOptions = {}) {
  const r = await compactBlocks(inputs, (_i, ulid) => new MemoryBlock(ulid), opts);
  return { ...r, blocks: r.outputs.map((o) => o.sink as MemoryBlock) };
}
