import type { BlockSource } from "../encoding/source.ts";
import { FormatError } from "../encoding/errors.ts";
import { utf8Decode } from "../encoding/utf8.ts";
import type { ChunkMeta } from "../chunkenc/chunk.ts";
import type { Label } from "../labels/labels.ts";
import { IndexReader, type SeriesEntry } from "../index/reader.ts";
import type { SeriesCursor } from "../index/series-cursor.ts";
import { ChunkReader } from "../chunks/reader.ts";
import { readTombstones, type Tombstones, type Interval } from "../tombstones/tombstones.ts";
import { parseMeta, type BlockMeta, type ParseMetaOptions } from "../meta/meta.ts";

/** One series of a block: its labels, its chunk metas and (when requested) the chunk bytes. */
export interface BlockSeries {
  /** Series id in the block's index (offset/16). */
  id: number;
  labels: Label[];
  chunks: ChunkMeta[];
  /** Tombstone intervals for this series, if any. */
  deleted: readonly Interval[] | undefined;
  /**
   * With `withRecords`: each chunk's whole stored record (CRC verified unless
   * `verifyRecords: false`), parallel to
   * `chunks`, for `ChunkToWrite.record`; `chunks[i].chunk` is then a view into it.
   */
  records?: Uint8Array[];
}

export interface SeriesOptions {
  /** Read chunk bytes into `chunks[i].chunk` (default true). */
  withChunks?: boolean;
  /** Window for sequential index reads (bytes). */
  indexWindow?: number;
  /** Also return each chunk's stored record (`BlockSeries.records`), to copy it unchanged. Implies `withChunks`. */
  withRecords?: boolean;
  /**
   * With `withRecords`: `false` skips the records' CRC check (default true). For callers
   * that copy most records as is: a copied record keeps its stored CRC, which every later
   * reader of the output checks, so nothing corrupt goes unnoticed; the caller must call
   * `chunks.verifyRecord(ref, record)` before decoding a chunk. Ignored without records.
   */
  verifyRecords?: boolean;
}

/**
 * A block opened for reading through a BlockSource. Memory: the symbol table, the postings
 * offset table and the tombstones, plus the read windows (one for the index, one per chunk
 * segment and up to two holding the current series' views, all refilled in place); series
 * and chunks stream in index order.
 */
export class BlockReader {
  readonly source: BlockSource;
  readonly meta: BlockMeta;
  readonly index: IndexReader;
  readonly chunks: ChunkReader;
  readonly tombstones: Tombstones;

  private constructor(
    source: BlockSource,
    meta: BlockMeta,
    index: IndexReader,
    chunks: ChunkReader,
    tombstones: Tombstones,
  ) {
    this.source = source;
    this.meta = meta;
    this.index = index;
    this.chunks = chunks;
    this.tombstones = tombstones;
  }

  /**
   * `chunkWindow`: bytes per chunk read window (default DEFAULT_WINDOW_SIZE, 1 MiB);
   * `postingsTable: false`: the index is opened without its postings offset table (see
   * `IndexReader.open`), for walks of every series that never look a postings list up.
   */
  static async open(
    source: BlockSource,
    opts: { chunkWindow?: number; postingsTable?: boolean } = {},
  ): Promise<BlockReader> {
    const meta = await readMeta(source);
    const indexSrc = await source.open("index");
    let index: IndexReader | undefined;
    let chunks: ChunkReader | undefined;
    try {
      index = await IndexReader.open(indexSrc, { file: "index", postingsTable: opts.postingsTable });
      chunks = await ChunkReader.open(source, { windowSize: opts.chunkWindow });
      const tombstones = await readTombstones(source);
      return new BlockReader(source, meta, index, chunks, tombstones);
    } catch (e) {
      // A broken index or chunk file must not leave its handles to the garbage collector
      // (Node warns on stderr, and a long-running worker would leak descriptors).
      await Promise.allSettled([chunks?.close(), index ? index.close() : indexSrc.close?.()]);
      throw e;
    }
  }

  /**
   * Series in index order (sorted by labels), each with its chunks. Chunk bytes
   * (`chunks[i].chunk.data`) are views into the chunk reader's windows, valid until the
   * next series is requested: the windows are then refilled in place. Copy (`slice()`)
   * what must outlive that. Run one chunk-reading walk per reader at a time.
   */
  async *series(opts: SeriesOptions = {}): AsyncGenerator<BlockSeries> {
    const c = this.seriesCursor(opts);
    for (;;) {
      const s = c.tryNext() ?? (await c.next());
      if (s === null) return;
      yield s;
    }
  }

  /**
   * `series(opts)` as a cursor: `tryNext()` returns the next series without waiting when
   * the index window and the chunk windows hold it (nearly always on a walk), `null` at
   * the end, or `undefined` when a read is due: then `next()` finishes it. Same view rules
   * as `series()`: a series' chunk bytes are valid until the next one is requested.
   */
  seriesCursor(opts: SeriesOptions = {}): BlockSeriesCursor {
    return new BlockSeriesCursor(this, opts);
  }

  async close(): Promise<void> {
    await this.chunks.close();
    await this.index.close?.();
  }
}

export async function readMeta(source: BlockSource, opts?: ParseMetaOptions): Promise<BlockMeta> {
  const src = await source.tryOpen("meta.json");
  if (!src)
    throw new FormatError("invalid-value", "block has no meta.json (incomplete upload?)", {
      file: `${source.name}/meta.json`,
    });
  try {
    const bytes = await src.read(0, src.size);
    return parseMeta(utf8Decode(bytes, 0, bytes.length), `${source.name}/meta.json`, opts);
  } finally {
    await src.close?.();
  }
}

/** See `BlockReader.seriesCursor`. */
export class BlockSeriesCursor {
  private readonly block: BlockReader;
  private readonly index: SeriesCursor;
  private readonly withChunks: boolean;
  private readonly withRecords: boolean;
  private readonly verify: boolean;
  /** The block's tombstones, or undefined when it has none (no lookup per series then). */
  private readonly tombstones: Tombstones | undefined;
  // A series whose chunks are being read: entry, next chunk to read, records so far.
  private entry: SeriesEntry | undefined;
  private at = 0;
  private records: Uint8Array[] | undefined;

  constructor(block: BlockReader, opts: SeriesOptions) {
    this.block = block;
    this.index = block.index.seriesCursor({ windowSize: opts.indexWindow });
    this.withRecords = opts.withRecords ?? false;
    this.withChunks = this.withRecords || (opts.withChunks ?? true);
    this.verify = opts.verifyRecords ?? true;
    this.tombstones = block.tombstones.size > 0 ? block.tombstones : undefined;
  }

  /** The next series, `null` at the end, or `undefined` when a read is due (call `next()`). */
  tryNext(): BlockSeries | null | undefined {
    let s = this.entry;
    if (s === undefined) {
      const e = this.index.tryNext();
      if (e == null) return e;
      s = this.begin(e);
    }
    return this.fill(s) ? this.finish(s) : undefined;
  }

  /** The next series (`null` at the end), reading windows as needed. */
  async next(): Promise<BlockSeries | null> {
    let s = this.entry;
    if (s === undefined) {
      const e = this.index.tryNext() ?? (await this.index.next());
      if (e === null) return null;
      s = this.begin(e);
    }
    const cr = this.block.chunks;
    while (!this.fill(s)) {
      // The window does not hold chunk `at`: refill it (earlier views stay valid, see ChunkReader).
      const c = s.chunks[this.at++]!;
      if (this.records !== undefined) {
        const rec = await cr.record(c.ref, this.verify);
        this.records[this.at - 1] = rec;
        c.chunk = ChunkReader.chunkOfRecord(rec);
      } else {
        c.chunk = await cr.chunk(c.ref);
      }
    }
    return this.finish(s);
  }

  private begin(e: SeriesEntry): SeriesEntry {
    this.entry = e;
    this.at = 0;
    if (this.withChunks) {
      // The previous series' views are no longer in use (the caller asked for the next one).
      this.block.chunks.releaseViews();
      this.records = this.withRecords ? new Array<Uint8Array>(e.chunks.length) : undefined;
    }
    return e;
  }

  /** Read the entry's remaining chunks from the windows in hand; false when a read is due. */
  private fill(s: SeriesEntry): boolean {
    if (!this.withChunks) return true;
    const cr = this.block.chunks;
    const chunks = s.chunks;
    const records = this.records;
    for (; this.at < chunks.length; this.at++) {
      const c = chunks[this.at]!;
      if (records !== undefined) {
        const rec = cr.tryRecord(c.ref, this.verify);
        if (rec === undefined) return false;
        records[this.at] = rec;
        c.chunk = ChunkReader.chunkOfRecord(rec);
      } else {
        const ch = cr.tryChunk(c.ref);
        if (ch === undefined) return false;
        c.chunk = ch;
      }
    }
    return true;
  }

  private finish(s: SeriesEntry): BlockSeries {
    this.entry = undefined;
    const out: BlockSeries = { id: s.id, labels: s.labels, chunks: s.chunks, deleted: this.tombstones?.get(s.id) };
    if (this.records !== undefined) out.records = this.records;
    this.records = undefined;
    return out;
  }
}
