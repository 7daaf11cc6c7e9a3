import { ByteBuf } from "./bytes.ts";
import type { ChunkBuffer } from "./chunk-buffer.ts";
import { compareBytesGo } from "./order.ts";
import { deltaByteArray, deltaLengthByteArray, plainByteArray, rleHybrid, bitWidth } from "./encodings.ts";
import { type ColumnSpec, PageType, encodingId } from "./format.ts";
import { ThriftWriter } from "./thrift.ts";

/** A page written into a column chunk's buffer, for the page index. */
export interface PageInfo {
  /** Offset of the page header inside the chunk's data pages. */
  offset: number;
  size: number;
  firstRow: number;
  nullPage: boolean;
  nulls: number;
  min: Uint8Array | undefined;
  max: Uint8Array | undefined;
}

/** Compresses a page's values; may run off the main thread (Node's zlib uses its thread pool). */
export type Compress = (b: Uint8Array) => Promise<Uint8Array>;

/** A page whose values are being compressed; its header is written once the size is known. */
interface PendingPage {
  defs: Uint8Array;
  valuesLength: number;
  compressed: Promise<Uint8Array>;
  n: number;
  nulls: number;
  firstRow: number;
  min: Uint8Array | undefined;
  max: Uint8Array | undefined;
}

/**
 * One column chunk being filled: values arrive row by row, pages are cut at `pageBytes` of
 * encoded values and handed to the compressor at once; `drain` lays the compressed pages out
 * in the chunk's buffer (memory or a scratch file) as soon as they are done.
 */
export class ColumnChunkWriter {
  readonly spec: ColumnSpec;
  private readonly compress: Compress;
  private readonly pageBytes: number;
  /** Compressed data pages (headers included) of this chunk. */
  readonly pages: ChunkBuffer;
  readonly pageInfos: PageInfo[] = [];
  uncompressedBytes = 0;
  numValues = 0;
  nullCount = 0;
  min: Uint8Array | undefined;
  max: Uint8Array | undefined;
  // Dictionary of the chunk (dictionary encoding only), values in first-seen order.
  readonly dict = new Map<string, number>();
  readonly dictValues: Uint8Array[] = [];
  // The page being filled.
  // Non-dictionary values of the page, back to back, and their lengths.
  private pageData = new ByteBuf(64 * 1024);
  private pageLens: number[] = [];
  private pageIdx: number[] = [];
  private pageDefs: number[] = [];
  private pageSize = 0;
  private pageFirstRow = 0;
  private rows = 0;
  private readonly scratch = new ByteBuf(64 * 1024);
  private readonly utf8 = new TextDecoder();
  private readonly utf8Enc = new TextEncoder();
  private pending: PendingPage[] = [];

  constructor(spec: ColumnSpec, compress: Compress, pageBytes: number, pages: ChunkBuffer) {
    this.spec = spec;
    this.pages = pages;
    this.compress = compress;
    this.pageBytes = pageBytes;
  }

  /**
   * Appends the next row's value (`undefined`: null, only in optional columns); bytes are
   * copied. Dictionary columns are keyed by the value's string (label values come as strings).
   */
  add(v: Uint8Array | string | undefined): void {
    this.rows++;
    this.numValues++;
    if (v === undefined) {
      if (!this.spec.optional) throw new Error(`column ${this.spec.name} is required`);
      this.nullCount++;
      this.pageDefs.push(0);
      return;
    }
    if (this.spec.optional) this.pageDefs.push(1);
    if (this.spec.encoding === "dictionary") {
      const key = typeof v === "string" ? v : this.utf8.decode(v);
      let id = this.dict.get(key);
      if (id === undefined) {
        id = this.dictValues.length;
        this.dict.set(key, id);
        this.dictValues.push(typeof v === "string" ? this.utf8Enc.encode(v) : v.slice());
      }
      this.pageIdx.push(id);
      this.pageSize += 4;
    } else {
      const b = typeof v === "string" ? this.utf8Enc.encode(v) : v;
      // Callers may reuse their buffers: the page keeps its own copy until it is encoded.
      this.pageData.bytes(b);
      this.pageLens.push(b.length);
      this.pageSize += b.length + 4;
      if (!this.spec.skipPageBounds) {
        if (this.min === undefined || compareBytesGo(b, this.min) < 0) this.min = b.slice();
        if (this.max === undefined || compareBytesGo(b, this.max) > 0) this.max = b.slice();
      }
    }
    if (this.pageSize >= this.pageBytes) this.flushPage();
  }

  /** Writes the page being filled, if it holds any row. */
  flushPage(): void {
    const n = this.rows - this.pageFirstRow;
    if (n === 0) return;
    const s = this.scratch;
    s.reset();
    let defLen = 0;
    let nulls = 0;
    if (this.spec.optional) {
      for (const d of this.pageDefs) if (d === 0) nulls++;
      rleHybrid(s, this.pageDefs, this.pageDefs.length, 1);
      defLen = s.len;
    }
    const valuesStart = s.len;
    let min: Uint8Array | undefined;
    let max: Uint8Array | undefined;
    if (this.spec.encoding === "dictionary") {
      const width = bitWidth(Math.max(0, this.dictValues.length - 1));
      s.byte(width);
      rleHybrid(s, this.pageIdx, this.pageIdx.length, width);
      if (!this.spec.skipPageBounds) {
        for (const id of this.pageIdx) {
          const v = this.dictValues[id]!;
          if (min === undefined || compareBytesGo(v, min) < 0) min = v;
          if (max === undefined || compareBytesGo(v, max) > 0) max = v;
        }
      }
    } else {
      const values: Uint8Array[] = new Array(this.pageLens.length);
      for (let i = 0, off = 0; i < values.length; i++) {
        values[i] = this.pageData.buf.subarray(off, off + this.pageLens[i]!);
        off += this.pageLens[i]!;
      }
      if (this.spec.encoding === "plain") plainByteArray(s, values);
      else if (this.spec.encoding === "delta-byte-array") deltaByteArray(s, values);
      else deltaLengthByteArray(s, values);
      if (!this.spec.skipPageBounds) {
        for (const v of values) {
          if (min === undefined || compareBytesGo(v, min) < 0) min = v;
          if (max === undefined || compareBytesGo(v, max) > 0) max = v;
        }
      }
    }
    const values = s.buf.slice(valuesStart, s.len);
    const page: PendingPage = {
      defs: s.buf.slice(0, defLen),
      valuesLength: values.length,
      compressed: this.compress(values),
      n,
      nulls,
      firstRow: this.pageFirstRow,
      min: min?.slice(),
      max: max?.slice(),
    };
    // A rejection is reported by drain(); until then it must not count as unhandled.
    page.compressed.catch(() => {});
    this.pending.push(page);
    this.pageFirstRow = this.rows;
    this.pageData.reset();
    this.pageLens = [];
    this.pageIdx = [];
    this.pageDefs = [];
    this.pageSize = 0;
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** The last page flushed, then every page laid out; a dictionary column's bounds from its dictionary. */
  async finish(): Promise<void> {
    this.flushPage();
    await this.drain();
    if (this.spec.encoding === "dictionary" && !this.spec.skipPageBounds) {
      for (const v of this.dictValues) {
        if (this.min === undefined || compareBytesGo(v, this.min) < 0) this.min = v;
        if (this.max === undefined || compareBytesGo(v, this.max) > 0) this.max = v;
      }
    }
  }

  /** Waits for the pages being compressed and lays them out in `pages`, with their headers. */
  async drain(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      const compressed = await p.compressed;
      const header = new ThriftWriter()
        .i32(1, PageType.DATA_PAGE_V2)
        .i32(2, p.defs.length + p.valuesLength)
        .i32(3, p.defs.length + compressed.length)
        .struct(8, (w) =>
          w
            .i32(1, p.n)
            .i32(2, p.nulls)
            .i32(3, p.n)
            .i32(4, encodingId(this.spec.encoding))
            .i32(5, p.defs.length)
            .i32(6, 0)
            .bool(7, true),
        )
        .end();
      const offset = this.pages.size;
      this.pages.append(header);
      this.pages.append(p.defs);
      this.pages.append(compressed);
      this.uncompressedBytes += header.length + p.defs.length + p.valuesLength;
      this.pageInfos.push({
        offset,
        size: this.pages.size - offset,
        firstRow: p.firstRow,
        nullPage: p.nulls === p.n,
        nulls: p.nulls,
        min: p.min,
        max: p.max,
      });
    }
  }

  /** The dictionary page (header and compressed PLAIN values), for dictionary columns. */
  async dictionaryPage(): Promise<{ bytes: Uint8Array; uncompressed: number } | undefined> {
    if (this.spec.encoding !== "dictionary") return undefined;
    const s = new ByteBuf(1024);
    plainByteArray(s, this.dictValues);
    const values = s.view();
    const compressed = await this.compress(values);
    const header = new ThriftWriter()
      .i32(1, PageType.DICTIONARY_PAGE)
      .i32(2, values.length)
      .i32(3, compressed.length)
      .struct(7, (w) => w.i32(1, this.dictValues.length).i32(2, encodingId("plain")))
      .end();
    const out = new Uint8Array(header.length + compressed.length);
    out.set(header);
    out.set(compressed, header.length);
    return { bytes: out, uncompressed: header.length + values.length };
  }
}
