import type { BlockSink, ByteSink } from "../encoding/source.ts";
import { FormatError } from "../encoding/errors.ts";
import { utf8Encode } from "../encoding/utf8.ts";
import { Encoding, chunkNumSamples, isFloatEncoding, isHistogramEncoding, type Chunk } from "../chunkenc/chunk.ts";
import { aggrNumSamples } from "../chunkenc/aggr.ts";
import type { Labels } from "../labels/labels.ts";
import { IndexWriter } from "../index/writer.ts";
import type { SymbolTable } from "../index/symbols.ts";
import { ChunkWriter } from "../chunks/writer.ts";
import { chunkRecordSize } from "../chunks/record.ts";
import { EMPTY_TOMBSTONES } from "../tombstones/tombstones.ts";
import { serializeMeta, type BlockMeta, type BlockStats } from "../meta/meta.ts";

/** A chunk to write: its bytes and its first/last sample times. */
export interface ChunkToWrite {
  minTime: number;
  maxTime: number;
  chunk: Chunk;
  /**
   * The chunk's whole stored record exactly as read (`ChunkReader.record()`: length
   * prefix, encoding, data, verified CRC32C), when it is copied unchanged from another
   * block: written as is, so its checksum is not computed again. Must frame `chunk`.
   */
  record?: Uint8Array;
}

export interface BlockWriterOptions {
  /** Max bytes per chunk segment (default 512 MiB, as Prometheus). */
  segmentSize?: number;
}

/** What the writer measured while writing, for meta.json and Thanos' index_stats. */
export interface WrittenBlock {
  meta: BlockMeta;
  files: { relPath: string; size: number }[];
  seriesMaxSize: number;
  chunkMaxSize: number;
}

/**
 * Streams a block out: symbols first (sorted), then series in label order, each with its
 * chunks, then `finish(meta)` writes the index tail, `meta.json` and an empty tombstones
 * file. Chunks go to segment files as they arrive; memory holds only the index's symbols
 * and postings.
 */
export class BlockWriter {
  private readonly sink: BlockSink;
  private readonly chunkWriter: ChunkWriter;
  private indexSink: ByteSink | undefined;
  private index: IndexWriter | undefined;
  private stage: "symbols" | "series" | "done" = "symbols";
  private numSamples = 0;
  private numFloat = 0;
  private numHist = 0;
  private numSeries = 0;
  private numChunks = 0;
  private chunkMaxSize = 0;
  private readonly refs: { ref: number; minTime: number; maxTime: number }[] = [];
  private readonly metaPool: { ref: number; minTime: number; maxTime: number }[] = [];
  private runRefs = new Float64Array(16);

  constructor(sink: BlockSink, opts: BlockWriterOptions = {}) {
    this.sink = sink;
    this.chunkWriter = new ChunkWriter(sink, { segmentSize: opts.segmentSize });
  }

  /**
   * All symbols the series will use, strictly ascending in Go order, or a `SymbolTable`
   * (used as is, so writers given one table share it: the shards of a split). Call once, first.
   */
  async addSymbols(symbols: Iterable<string> | SymbolTable): Promise<void> {
    if (this.stage !== "symbols")
      throw new FormatError("out-of-order", "symbols must be added once, before any series");
    this.indexSink = await this.sink.create("index");
    this.index = new IndexWriter(this.indexSink);
    await this.index.addSymbols(symbols);
    this.stage = "series";
  }

  /** The index's symbol table, once `addSymbols` was called. */
  get symbolTable(): SymbolTable | undefined {
    return this.index?.symbolTable;
  }

  /**
   * Add a series (in label order) with its chunks (in time order, not overlapping). Series without chunks are skipped.
   */
  async addSeries(labels: Labels, chunks: readonly ChunkToWrite[]): Promise<void> {
    if (this.stage !== "series" || !this.index)
      throw new FormatError("out-of-order", "addSymbols must be called before addSeries");
    if (chunks.length === 0) return;
    const metas = this.refs;
    // Meta objects are reused across series: the index writer keeps none of them.
    const pool = this.metaPool;
    while (pool.length < chunks.length) pool.push({ ref: 0, minTime: 0, maxTime: 0 });
    metas.length = 0;
    const cw = this.chunkWriter;
    if (this.runRefs.length < chunks.length) this.runRefs = new Float64Array(2 * chunks.length);
    const runRefs = this.runRefs;
    let i = 0;
    while (i < chunks.length) {
      // Records copied from one input lie back to back: copy each such run at once.
      let j = i + 1;
      const r = chunks[i]!.record;
      if (r !== undefined) {
        let end = r.byteOffset + r.length;
        while (j < chunks.length) {
          const q = chunks[j]!.record;
          if (q === undefined || q.buffer !== r.buffer || q.byteOffset !== end) break;
          end += q.length;
          j++;
        }
      }
      const run = j - i > 1 && cw.tryWriteRecords(chunks, i, j, runRefs);
      for (let k = i; k < j; k++) {
        const c = chunks[k]!;
        let ref: number;
        if (run) ref = runRefs[k - i]!;
        else {
          // Synchronous while the segment buffer has room; the sink is awaited only to flush or cut.
          ref = cw.tryWrite(c.chunk, c.record);
          if (ref < 0) ref = await cw.write(c.chunk, c.record);
        }
        const m = pool[k]!;
        metas.push(m);
        m.ref = ref;
        m.minTime = c.minTime;
        m.maxTime = c.maxTime;
        const n = numSamplesOf(c.chunk);
        this.numSamples += n;
        if (isFloatEncoding(c.chunk.encoding)) this.numFloat += n;
        else if (isHistogramEncoding(c.chunk.encoding)) this.numHist += n;
        // Thanos estimates chunk_max_size from ref gaps, i.e. whole records; the exact record
        // size is what a store gateway must fetch.
        const recordSize = c.record !== undefined ? c.record.length : chunkRecordSize(c.chunk.data.length);
        if (recordSize > this.chunkMaxSize) this.chunkMaxSize = recordSize;
      }
      i = j;
    }
    const index = this.index;
    index.appendSeries(labels, metas);
    if (index.full) await index.flushIfFull();
    this.numSeries++;
    this.numChunks += chunks.length;
  }

  stats(): BlockStats {
    return {
      numSamples: BigInt(this.numSamples),
      numFloatSamples: BigInt(this.numFloat),
      numHistogramSamples: BigInt(this.numHist),
      numSeries: BigInt(this.numSeries),
      numChunks: BigInt(this.numChunks),
    };
  }

  /**
   * Close the index and segments, then write meta.json (stats filled in here, Thanos
   * `files`/`index_stats` refreshed when a thanos section is present) and the tombstones.
   */
  async finish(meta: BlockMeta): Promise<WrittenBlock> {
    if (this.stage !== "series" || !this.index || !this.indexSink)
      throw new FormatError("out-of-order", "finish called before addSymbols or twice");
    this.stage = "done";
    const idx = await this.index.close();
    await this.indexSink.close();
    const segments = await this.chunkWriter.close();
    const files = [
      ...segments.map((s) => ({ relPath: `chunks/${s.name}`, size: s.size })),
      { relPath: "index", size: idx.size },
    ];
    const out: BlockMeta = { ...meta, stats: this.stats(), version: 1 };
    if (out.thanos) {
      out.thanos = {
        ...out.thanos,
        segment_files: segments.map((x) => x.name),
        files: [...files.map((f) => ({ rel_path: f.relPath, size_bytes: f.size })), { rel_path: "meta.json" }].sort(
          (a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0),
        ),
        index_stats: { series_max_size: idx.seriesMaxSize, chunk_max_size: this.chunkMaxSize },
      };
    }
    await writeWhole(
      this.sink,
      "meta.json",
      utf8Encode(serializeMeta(out, { style: out.thanos ? "thanos" : "prometheus" })),
    );
    await writeWhole(this.sink, "tombstones", EMPTY_TOMBSTONES);
    return { meta: out, files, seriesMaxSize: idx.seriesMaxSize, chunkMaxSize: this.chunkMaxSize };
  }
}

function numSamplesOf(c: Chunk): number {
  return c.encoding === Encoding.Aggr ? aggrNumSamples(c.data) : chunkNumSamples(c);
}

export async function writeWhole(sink: BlockSink, relPath: string, bytes: Uint8Array): Promise<void> {
  const f = await sink.create(relPath);
  await f.write(bytes);
  await f.close();
}
