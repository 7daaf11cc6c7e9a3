/**
 * One input block as a stream of output series in label order: its series with the
 * replica labels removed, the chunks of each trimmed to the block's (and the output's)
 * time range and with its tombstones applied. Chunks untouched by either are passed on as
 * the reader returned them (views: valid until the stream advances); touched chunks are
 * re-encoded with only the surviving samples, as Prometheus' compactor does.
 *
 * Removing labels can change the order of series, and can make two series of one block
 * the same (both replicas in one block). A block that has none of the replica labels is
 * read front to back; one that has them is read through a sorted list of (labels without
 * replica labels, series id) built in one pass over its index, which costs memory per
 * series (like the postings the writer keeps) but never per sample.
 *
 * Chunk CRCs are not checked on the front-to-back read: see `verify.ts`. Every chunk
 * passed on unchanged carries its stream as `verifier`, and whoever decodes it
 * (trimming here, merging in `SeriesMerger`) verifies it first.
 */
import {
  ChunkReader,
  FormatError,
  compareLabels,
  isDeleted,
  reencodeChunk,
  type BlockReader,
  type BlockSeries,
  type ChunkMeta,
  type ChunkToWrite,
  type Interval,
  type Label,
} from "@strata/tsdb";
import { verifyBeforeDecode, type RecordVerifier, type UnverifiedChunk } from "./verify.ts";

/** A series as an input offers it: its (stripped) labels and one chunk list per replica. */
export interface InputSeries {
  labels: Label[];
  replicas: ChunkToWrite[][];
}

export interface InputStreamOptions {
  replicaLabels: readonly string[];
  /** Inclusive time window of samples to keep. */
  minT: number;
  maxT: number;
}

export interface InputCounters {
  seriesRead: number;
  chunksRead: number;
  /** Chunks re-encoded because a tombstone or the time window cut through them. */
  trimmedChunks: number;
  /** Chunks dropped whole (outside the window or fully deleted). */
  droppedChunks: number;
}

export class InputStream implements RecordVerifier {
  readonly reader: BlockReader;
  readonly index: number;
  head: InputSeries | undefined;
  readonly counters: InputCounters = { seriesRead: 0, chunksRead: 0, trimmedChunks: 0, droppedChunks: 0 };
  private readonly opts: InputStreamOptions;
  private readonly replicaSet: Set<string>;
  private seq: ReturnType<BlockReader["seriesCursor"]> | undefined;
  private sorted: { labels: Label[]; id: number }[] | undefined;
  private pos = 0;

  constructor(reader: BlockReader, index: number, opts: InputStreamOptions) {
    this.reader = reader;
    this.index = index;
    this.opts = opts;
    this.replicaSet = new Set(opts.replicaLabels);
  }

  /** Prepare and read the first series. */
  async start(): Promise<void> {
    // A label name no series carries is not a symbol (the reader is opened without its
    // postings table, so the symbols answer): a name that is a symbol only as a value sorts
    // needlessly, never wrongly.
    const symbols = this.reader.index.symbols;
    const needsSort = this.opts.replicaLabels.some((l) => symbols.includes(l));
    if (needsSort) {
      const list: { labels: Label[]; id: number }[] = [];
      for await (const s of this.reader.series({ withChunks: false }))
        list.push({ labels: this.strip(s.labels), id: s.id });
      // Stable: equal label sets keep index order, so replica order is deterministic.
      list.sort((a, b) => compareLabels(a.labels, b.labels) || a.id - b.id);
      this.sorted = list;
    } else {
      // Records, so chunks copied unchanged are written without computing their CRC again.
      // CRCs unchecked: records copied as is keep theirs; decoded chunks are verified lazily.
      this.seq = this.reader.seriesCursor({ withRecords: true, verifyRecords: false });
    }
    await this.advance();
  }

  /**
   * Move to the next output series without waiting, when the read windows hold it (nearly
   * always on a front-to-back read); false when a read is due: then call `advance()`.
   */
  tryAdvance(): boolean {
    if (this.seq === undefined) return false;
    const s = this.seq.tryNext();
    if (s === undefined) return false;
    this.take(s);
    return true;
  }

  /** Move to the next output series (head undefined at the end). */
  async advance(): Promise<void> {
    if (this.seq) {
      this.take(this.seq.tryNext() ?? (await this.seq.next()));
      return;
    }
    const list = this.sorted!;
    if (this.pos >= list.length) {
      this.head = undefined;
      return;
    }
    const labels = list[this.pos]!.labels;
    const replicas: ChunkToWrite[][] = [];
    while (this.pos < list.length && compareLabels(list[this.pos]!.labels, labels) === 0) {
      const id = list[this.pos++]!.id;
      const entry = await this.reader.index.series(id);
      const records: Uint8Array[] = [];
      for (const c of entry.chunks) {
        // Random reads may reuse the reader's window: keep our own copy.
        const rec = (await this.reader.chunks.record(c.ref)).slice();
        records.push(rec);
        c.chunk = ChunkReader.chunkOfRecord(rec);
      }
      this.counters.seriesRead++;
      replicas.push(this.prepare(entry.chunks, this.reader.tombstones.get(id), records));
    }
    this.head = { labels, replicas };
  }

  /** Check an unverified record of this input; the error names the block, file and offset. */
  verifyRecord(ref: number, record: Uint8Array): void {
    try {
      this.reader.chunks.verifyRecord(ref, record);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      throw new FormatError(
        e.code,
        `${e.detail} in input block ${this.reader.meta.ulid}`,
        {
          file: `${this.reader.source.name}/${e.file ?? "chunks"}`,
          offset: e.offset,
          expected: e.expected,
          found: e.found,
        },
        { cause: e },
      );
    }
  }

  private take(s: BlockSeries | null): void {
    if (s === null) {
      this.head = undefined;
      return;
    }
    this.counters.seriesRead++;
    this.head = { labels: s.labels, replicas: [this.prepare(s.chunks, s.deleted, s.records)] };
  }

  private strip(ls: Label[]): Label[] {
    if (this.replicaSet.size === 0) return ls;
    return ls.filter((l) => !this.replicaSet.has(l.name));
  }

  /** Window and tombstones applied; untouched chunks keep their bytes. */
  private prepare(
    chunks: readonly ChunkMeta[],
    deleted: readonly Interval[] | undefined,
    records: readonly Uint8Array[] | undefined,
  ): ChunkToWrite[] {
    const { minT, maxT } = this.opts;
    const out: ChunkToWrite[] = [];
    // Records from the sequential walk were read without their CRC checked.
    const verifier = this.seq !== undefined && records !== undefined ? this : undefined;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      this.counters.chunksRead++;
      if (c.maxTime < minT || c.minTime > maxT) {
        this.counters.droppedChunks++;
        continue;
      }
      const cut = c.minTime < minT || c.maxTime > maxT;
      let touched = false;
      if (deleted) for (const iv of deleted) if (iv.mint <= c.maxTime && iv.maxt >= c.minTime) touched = true;
      if (!cut && !touched) {
        // Unchanged: its stored record (when read) goes to the output as is.
        const u: UnverifiedChunk = {
          minTime: c.minTime,
          maxTime: c.maxTime,
          chunk: c.chunk!,
          record: records?.[i],
          verifier,
          ref: c.ref,
        };
        out.push(u);
        continue;
      }
      if (verifier !== undefined)
        verifyBeforeDecode({
          minTime: c.minTime,
          maxTime: c.maxTime,
          chunk: c.chunk!,
          record: records![i],
          verifier,
          ref: c.ref,
        } as UnverifiedChunk);
      const r = reencodeChunk(c.chunk!, (t) => t >= minT && t <= maxT && !isDeleted(deleted, t));
      if (!r) {
        this.counters.droppedChunks++;
        continue;
      }
      this.counters.trimmedChunks++;
      out.push({
        minTime: Number.isNaN(r.minTime) ? c.minTime : r.minTime,
        maxTime: Number.isNaN(r.maxTime) ? c.maxTime : r.maxTime,
        chunk: r.chunk,
      });
    }
    return out;
  }
}
