import type { BlockSource } from "../encoding/source.ts";
import { FormatError } from "../encoding/errors.ts";
import { utf8Decode } from "../encoding/utf8.ts";
import type { ChunkMeta } from "../chunkenc/chunk.ts";
import type { Label } from "../labels/labels.ts";
import { IndexReader } from "../index/reader.ts";
import { ChunkReader } from "../chunks/reader.ts";
import { readTombstones, type Tombstones, type Interval } from "../tombstones/tombstones.ts";
import { parseMeta, type BlockMeta } from "../meta/meta.ts";

/** One series of a block: its labels, its chunk metas and (when requested) the chunk bytes. */
export interface BlockSeries {
  /** Series id in the block's index (offset/16). */
  id: number;
  labels: Label[];
  chunks: ChunkMeta[];
  /** Tombstone intervals for this series, if any. */
  deleted: readonly Interval[] | undefined;
  /**
   * With `withRecords`: each chunk's whole stored record (CRC verified), parallel to
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

  private constructor(source: BlockSource, meta: BlockMeta, index: IndexReader, chunks: ChunkReader, tombstones: Tombstones) {
    this.source = source;
    this.meta = meta;
    this.index = index;
    this.chunks = chunks;
    this.tombstones = tombstones;
  }

  /** `chunkWindow`: bytes per chunk read window (default DEFAULT_WINDOW_SIZE, 1 MiB). */
  static async open(source: BlockSource, opts: { chunkWindow?: number } = {}): Promise<BlockReader> {
    const meta = await readMeta(source);
    const indexSrc = await source.open("index");
    const index = await IndexReader.open(indexSrc, { file: "index" });
    const chunks = await ChunkReader.open(source, { windowSize: opts.chunkWindow });
    const tombstones = await readTombstones(source);
    return new BlockReader(source, meta, index, chunks, tombstones);
  }

  /**
   * Series in index order (sorted by labels), each with its chunks. Chunk bytes
   * (`chunks[i].chunk.data`) are views into the chunk reader's windows, valid until the
   * next series is requested: the windows are then refilled in place. Copy (`slice()`)
   * what must outlive that. Run one chunk-reading walk per reader at a time.
   */
  async *series(opts: SeriesOptions = {}): AsyncGenerator<BlockSeries> {
    const withRecords = opts.withRecords ?? false;
    const withChunks = withRecords || (opts.withChunks ?? true);
    const cr = this.chunks;
    for await (const s of this.index.iterSeries({ windowSize: opts.indexWindow })) {
      let records: Uint8Array[] | undefined;
      if (withChunks) {
        // The previous series' views are no longer in use (the caller asked for the next one).
        cr.releaseViews();
        // Records within the current window are read without waiting; only a refill awaits.
        if (withRecords) {
          records = new Array<Uint8Array>(s.chunks.length);
          for (let i = 0; i < s.chunks.length; i++) {
            const c = s.chunks[i];
            const rec = cr.tryRecord(c.ref) ?? (await cr.record(c.ref));
            records[i] = rec;
            c.chunk = ChunkReader.chunkOfRecord(rec);
          }
        } else {
          for (const c of s.chunks) c.chunk = cr.tryChunk(c.ref) ?? (await cr.chunk(c.ref));
        }
      }
      const out: BlockSeries = { id: s.id, labels: s.labels, chunks: s.chunks, deleted: this.tombstones.get(s.id) };
      if (records !== undefined) out.records = records;
      yield out;
    }
  }

  async close(): Promise<void> {
    await this.chunks.close();
    await this.index.close?.();
  }
}

export async function readMeta(source: BlockSource): Promise<BlockMeta> {
  const src = await source.tryOpen("meta.json");
  if (!src) throw new FormatError("invalid-value", "block has no meta.json (incomplete upload?)", { file: `${source.name}/meta.json` });
  try {
    const bytes = await src.read(0, src.size);
    return parseMeta(utf8Decode(bytes, 0, bytes.length), `${source.name}/meta.json`);
  } finally {
    await src.close?.();
  }
}
