import type { Chunk, ChunkMeta } from "../chunkenc/chunk.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { FormatError } from "../encoding/errors.ts";
import type { BlockSink, ByteSink } from "../encoding/source.ts";
import {
  CHUNKS_FORMAT_V1,
  CHUNK_CRC_SIZE,
  DEFAULT_SEGMENT_SIZE,
  MAGIC_CHUNKS,
  MAX_CHUNK_LENGTH_FIELD_SIZE,
  SEGMENT_HEADER_SIZE,
  packChunkRef,
  segmentFileName,
  segmentPath,
  type SegmentInfo,
} from "./format.ts";
import { chunkRecordSize, writeChunkRecord } from "./record.ts";
import { WriteBehind } from "../encoding/write-behind.ts";

export type { SegmentInfo };

export interface ChunkWriterOptions {
  /** Target segment size in bytes (default 512 MiB; ≤ 0 means the default, as in Prometheus). At most 2^32. */
  segmentSize?: number;
  /** Bytes collected before one sink write (default 1 MiB). */
  bufferSize?: number;
  /** Filled buffers queued for the sink at most (default DEFAULT_WRITE_BEHIND; see write-behind.ts). */
  writeBehind?: number;
}

const TWO_32 = 4294967296;

/** Bytes Prometheus budgets per chunk when deciding where to cut: max varint + encoding + CRC. */
const RECORD_OVERHEAD = MAX_CHUNK_LENGTH_FIELD_SIZE + 1 + CHUNK_CRC_SIZE;

/**
 * Writes chunk segment files `chunks/000001`, `000002`, … into a BlockSink, after
 * Prometheus' chunks.Writer. Records are `uvarint len | encoding | data | BE32 CRC32C`,
 * where the CRC covers the encoding byte and the data. Writes are coalesced into one
 * buffer, so the sink sees ~bufferSize writes rather than one per chunk; chunks larger
 * than the buffer go to the sink directly. Filled buffers queue for the sink (write-behind,
 * up to `writeBehind` of them) while the next one fills; the sink sees one write at a time, in order. `tryWrite` appends
 * synchronously while the buffer has room; a record read by `ChunkReader.record()` is
 * copied as is, its CRC not computed again.
 *
 * Segment cutting follows `WriteChunks` exactly, including its budgeting of 5 bytes for
 * every length prefix: call `writeChunks` with one series' chunks to get byte-identical
 * segment boundaries to Prometheus' compactor; `write` is `writeChunks` of one chunk.
 */
export class ChunkWriter {
  private readonly sink: BlockSink;
  private readonly segmentSize: number;
  private buf: Uint8Array;
  private bufLen = 0;
  /** Filled buffers on their way to `out` while this one fills (sink writes stay in order). */
  private behind: WriteBehind | undefined;
  private readonly writeBehind: number | undefined;
  private out: ByteSink | undefined;
  private outName = "";
  /** Bytes in the current segment, header and buffered bytes included (Go's `w.n`). 0 = no segment yet. */
  private n = 0;
  /** Ref of offset 0 in the current segment (segment index · 2^32), checked once per cut. */
  private refBase = 0;
  private readonly finished: SegmentInfo[] = [];
  private closed = false;
  private readonly one = new Uint8Array(1);

  constructor(sink: BlockSink, opts: ChunkWriterOptions = {}) {
    this.sink = sink;
    let size = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!(size > 0)) size = DEFAULT_SEGMENT_SIZE;
    if (!Number.isInteger(size) || size > TWO_32) {
      throw new RangeError(`segment size ${size} must be an integer ≤ 2^32 (refs hold 32-bit offsets)`);
    }
    this.segmentSize = size;
    const bufferSize = opts.bufferSize ?? 1 << 20;
    this.buf = new Uint8Array(Math.max(bufferSize, 64));
    this.writeBehind = opts.writeBehind;
  }

  /**
   * Append one chunk and return its ref (segmentIndex * 2^32 + offset). `record`, when
   * given, is the chunk's whole stored record as `ChunkReader.record()` returns it (CRC
   * already verified): it is copied as is, without recomputing the checksum.
   */
  async write(chunk: Chunk, record?: Uint8Array): Promise<number> {
    if (this.closed) throw new Error("ChunkWriter: write after close");
    // WriteChunks' rule for a one-chunk call: cut only when the segment already holds
    // records and this chunk's budget would overflow it.
    const n = this.n;
    if (n === 0 || (n > SEGMENT_HEADER_SIZE && n + RECORD_OVERHEAD + chunk.data.length > this.segmentSize))
      await this.cut();
    const ref = this.tryAppend(chunk, record);
    return ref >= 0 ? ref : this.appendSlow(chunk, record);
  }

  /**
   * `write` without waiting: the ref when the record goes into the buffer as is, or -1
   * when the sink is needed first (a segment cut or a flush); then call `write`.
   */
  tryWrite(chunk: Chunk, record?: Uint8Array): number {
    if (this.closed) throw new Error("ChunkWriter: write after close");
    const n = this.n;
    if (n === 0 || (n > SEGMENT_HEADER_SIZE && n + RECORD_OVERHEAD + chunk.data.length > this.segmentSize)) return -1;
    return this.tryAppend(chunk, record);
  }

  /**
   * `tryWrite` for items[from, to) at once, when every item carries its stored `record` and
   * the records lie back to back in one buffer (consecutive chunks of a series read from
   * one block): one copy instead of one per chunk. Writes refs[0 … to−from) and returns
   * true, or writes nothing and returns false (records not contiguous, a segment cut or a
   * flush due): then write them one by one. Cut decisions are those of `write`.
   */
  tryWriteRecords(
    items: readonly { chunk: Chunk; record?: Uint8Array }[],
    from: number,
    to: number,
    refs: Float64Array,
  ): boolean {
    if (this.closed) throw new Error("ChunkWriter: write after close");
    let n = this.n;
    if (n === 0 || from >= to) return false;
    const first = items[from]!.record;
    if (first === undefined) return false;
    const buffer = first.buffer;
    const start = first.byteOffset;
    let end = start;
    for (let i = from; i < to; i++) {
      const r = items[i]!.record;
      const len = items[i]!.chunk.data.length;
      if (r === undefined || r.buffer !== buffer || r.byteOffset !== end) return false;
      if ((n > SEGMENT_HEADER_SIZE && n + RECORD_OVERHEAD + len > this.segmentSize) || n >= TWO_32) return false;
      const recLen = chunkRecordSize(len);
      if (r.length !== recLen)
        throw new RangeError(
          `chunk record of ${r.length} bytes does not frame ${len} bytes of data (${recLen} expected)`,
        );
      refs[i - from] = this.refBase + n;
      n += recLen;
      end += recLen;
    }
    const total = end - start;
    if (total > this.buf.length - this.bufLen) return false;
    this.buf.set(new Uint8Array(buffer, start, total), this.bufLen);
    this.bufLen += total;
    this.n = n;
    return true;
  }

  /**
   * Append the chunks of one series and set each meta's `ref`, as Go's WriteChunks does.
   * Every meta must carry its `chunk`.
   */
  async writeChunks(metas: ChunkMeta[]): Promise<void> {
    if (this.closed) throw new Error("ChunkWriter: write after close");
    // Go decides every cut up front from the size at call start, then writes.
    const startN = this.n;
    let batchSize = 0;
    let firstBatch = true;
    for (let i = 0; i < metas.length; i++) {
      const chunk = metas[i]!.chunk;
      if (chunk === undefined) throw new Error(`ChunkWriter: chunk meta ${i} has no chunk bytes`);
      const budget = RECORD_OVERHEAD + chunk.data.length;
      batchSize += budget;
      // Never cut before the first chunk of a call onto a fresh segment (no empty segments)…
      let cut = i !== 0 && batchSize + SEGMENT_HEADER_SIZE > this.segmentSize;
      // …but when the segment already holds data, measure the first batch against it.
      if (firstBatch && startN > SEGMENT_HEADER_SIZE) {
        cut = batchSize + startN > this.segmentSize;
        if (cut) firstBatch = false;
      }
      if (cut) batchSize = budget;
      if (this.n === 0 || cut) await this.cut();
      const ref = this.tryAppend(chunk, undefined);
      metas[i]!.ref = ref >= 0 ? ref : await this.appendSlow(chunk, undefined);
    }
  }

  /** Flush and close the last segment; returns every segment written, in order. */
  async close(): Promise<SegmentInfo[]> {
    if (!this.closed) {
      this.closed = true;
      await this.finishSegment();
    }
    return this.finished.slice();
  }

  /** Abandon the segment being written (best effort); finished segments stay. */
  async abort(): Promise<void> {
    this.closed = true;
    const out = this.out;
    this.out = undefined;
    this.bufLen = 0;
    await this.settle().catch(() => {});
    if (out?.abort) await out.abort();
  }

  private async cut(): Promise<void> {
    await this.finishSegment();
    const name = segmentFileName(this.finished.length + 1);
    this.out = await this.sink.create(segmentPath(name));
    this.behind = new WriteBehind(this.out, this.buf.length, this.writeBehind);
    this.outName = name;
    this.refBase = packChunkRef(this.finished.length, 0);
    const b = this.buf;
    b[0] = (MAGIC_CHUNKS >>> 24) & 0xff;
    b[1] = (MAGIC_CHUNKS >>> 16) & 0xff;
    b[2] = (MAGIC_CHUNKS >>> 8) & 0xff;
    b[3] = MAGIC_CHUNKS & 0xff;
    b[4] = CHUNKS_FORMAT_V1;
    b[5] = b[6] = b[7] = 0;
    this.bufLen = SEGMENT_HEADER_SIZE;
    this.n = SEGMENT_HEADER_SIZE;
  }

  private async finishSegment(): Promise<void> {
    const out = this.out;
    if (out === undefined) return;
    await this.flush();
    await this.settle();
    await out.close();
    this.finished.push({ name: this.outName, size: this.n });
    this.out = undefined;
  }

  /** Queue the buffer for the sink and go on filling another while it is written. */
  private async flush(): Promise<void> {
    if (this.bufLen === 0) return;
    const behind = this.behind!;
    await behind.ready();
    // Sinks keep no reference once write resolves, so each buffer is reused after its write.
    this.buf = behind.swap(this.buf, this.bufLen);
    this.bufLen = 0;
  }

  /** Wait for the writes queued (rethrowing a failure). */
  private async settle(): Promise<void> {
    await this.behind?.settle();
  }

  /** Ref the next record gets; checks the offset fits the ref's 32 bits. */
  private nextRef(): number {
    if (this.n >= TWO_32) {
      throw new FormatError("invalid-size", "chunk offset does not fit the 32-bit ref field", {
        file: segmentPath(this.outName),
        offset: this.n,
      });
    }
    return this.refBase + this.n;
  }

  /** Append a record that fits the buffer's free space, synchronously; -1 if it does not fit. */
  private tryAppend(chunk: Chunk, record: Uint8Array | undefined): number {
    const data = chunk.data;
    const len = data.length;
    const recLen = chunkRecordSize(len);
    const b = this.buf;
    if (recLen > b.length - this.bufLen) return -1;
    if (record !== undefined) {
      if (record.length !== recLen)
        throw new RangeError(
          `chunk record of ${record.length} bytes does not frame ${len} bytes of data (${recLen} expected)`,
        );
      const ref = this.nextRef();
      b.set(record, this.bufLen);
      this.bufLen += recLen;
      this.n += recLen;
      return ref;
    }
    const ref = this.nextRef();
    this.bufLen = writeChunkRecord(b, this.bufLen, chunk.encoding, data);
    this.n += recLen;
    return ref;
  }

  /** Append a record that needs a flush first or bypasses the buffer (larger than it). */
  private async appendSlow(chunk: Chunk, record: Uint8Array | undefined): Promise<number> {
    const data = chunk.data;
    const len = data.length;
    if (len > 0xffffffff) throw new RangeError(`chunk of ${len} bytes exceeds the 32-bit length field`);
    await this.flush();
    const ref = this.tryAppend(chunk, record);
    if (ref >= 0) return ref;
    if (record !== undefined) {
      const recLen = chunkRecordSize(len);
      if (record.length !== recLen)
        throw new RangeError(
          `chunk record of ${record.length} bytes does not frame ${len} bytes of data (${recLen} expected)`,
        );
      const r = this.nextRef();
      await this.settle();
      await this.out!.write(record);
      this.n += recLen;
      return r;
    }
    // Prefix and encoding byte, then the data straight from the caller, then the CRC.
    const r = this.nextRef();
    const b = this.buf;
    let p = 0;
    let v = len;
    while (v >= 0x80) {
      b[p++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    b[p++] = chunk.encoding;
    this.bufLen = p;
    await this.flush();
    await this.settle();
    await this.out!.write(data);
    this.one[0] = chunk.encoding;
    const crc = crc32c(data, 0, len, crc32c(this.one, 0, 1));
    // The flush swapped buffers: the CRC opens the buffer now current.
    const c = this.buf;
    c[0] = crc >>> 24;
    c[1] = (crc >>> 16) & 0xff;
    c[2] = (crc >>> 8) & 0xff;
    c[3] = crc & 0xff;
    this.bufLen = CHUNK_CRC_SIZE;
    this.n += p + len + CHUNK_CRC_SIZE;
    return r;
  }
}
