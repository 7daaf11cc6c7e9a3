import type { ByteSink } from "@strata/tsdb";
import { ColumnChunkWriter, type Compress, type PageInfo } from "./column-writer.ts";
import { bloomBlocks, SplitBlockBloom } from "./bloom.ts";
import { type ChunkBufferFactory, MemoryChunkBuffer } from "./chunk-buffer.ts";
import { compareBytesGo } from "./order.ts";
import {
  BoundaryOrder,
  type ColumnSpec,
  Codec,
  ConvertedType,
  Enc,
  PhysicalType,
  Repetition,
  encodingId,
} from "./format.ts";
import { ThriftWriter } from "./thrift.ts";

export interface FileWriterOptions {
  /** Name of the schema's root group ("compressed" when parquet-common compresses). */
  rootName: string;
  columns: readonly ColumnSpec[];
  keyValue: ReadonlyArray<readonly [string, string]>;
  /** Column names the rows are sorted by (ascending), recorded in each row group. */
  sortingColumns: readonly string[];
  codec: number;
  compress: Compress;
  /** Encoded bytes of values after which a page is cut. */
  pageBytes: number;
  createdBy: string;
  /** Where column chunks wait for their row group's end (default: memory). */
  buffers?: ChunkBufferFactory;
}

interface ChunkMeta {
  spec: ColumnSpec;
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
  dictionaryPageOffset: number | undefined;
  bloomOffset: number | undefined;
  bloomLength: number | undefined;
  nullCount: number;
  min: Uint8Array | undefined;
  max: Uint8Array | undefined;
  pages: PageInfo[];
  pageBase: number;
}

interface RowGroupMeta {
  rows: number;
  fileOffset: number;
  chunks: ChunkMeta[];
}

/** What a closed file holds, for callers and `parquet inspect`. */
export interface WrittenFile {
  bytes: number;
  rows: number;
  rowGroups: number;
}

/**
 * A Parquet file written front to back into a ByteSink: "PAR1", per row group each column
 * chunk (dictionary page, data pages v2) then the row group's bloom filters, then the page
 * index (column indexes, then offset indexes) and the footer — parquet-go's layout.
 */
export class ParquetFileWriter {
  private readonly sink: ByteSink;
  private readonly opts: FileWriterOptions;
  private offset = 0;
  private cols: ColumnChunkWriter[];
  private rowGroups: RowGroupMeta[] = [];
  private rows = 0;
  private totalRows = 0;

  constructor(sink: ByteSink, opts: FileWriterOptions) {
    this.sink = sink;
    this.opts = opts;
    this.cols = this.newColumns();
  }

  private newColumns(): ColumnChunkWriter[] {
    const buffer = this.opts.buffers ?? (() => new MemoryChunkBuffer());
    return this.opts.columns.map((c) => new ColumnChunkWriter(c, this.opts.compress, this.opts.pageBytes, buffer()));
  }

  private async write(b: Uint8Array): Promise<void> {
    if (b.length === 0) return;
    await this.sink.write(b);
    this.offset += b.length;
  }

  /** Appends one row: a value (or undefined for null) per column, in `columns` order. */
  addRow(values: readonly (Uint8Array | string | undefined)[]): void {
    for (let i = 0; i < this.cols.length; i++) this.cols[i]!.add(values[i]);
    this.rows++;
  }

  get bufferedRows(): number {
    return this.rows;
  }

  /** Lays out the pages compressed so far (into memory or scratch files), so none waits uncompressed. */
  async drain(): Promise<void> {
    for (const c of this.cols) if (c.hasPending) await c.drain();
  }

  /** Writes the rows added since the last flush as one row group. */
  async flushRowGroup(): Promise<void> {
    if (this.rows === 0) return;
    if (this.offset === 0) await this.write(new TextEncoder().encode("PAR1"));
    const fileOffset = this.offset;
    const chunks: ChunkMeta[] = [];
    for (const c of this.cols) {
      await c.finish();
      const dict = await c.dictionaryPage();
      let dictionaryPageOffset: number | undefined;
      let uncompressed = c.uncompressedBytes;
      const start = this.offset;
      if (dict !== undefined) {
        dictionaryPageOffset = this.offset;
        uncompressed += dict.uncompressed;
        await this.write(dict.bytes);
      }
      const dataPageOffset = this.offset;
      await c.pages.drainTo((b) => this.write(b));
      c.pages.dispose();
      chunks.push({
        spec: c.spec,
        numValues: c.numValues,
        uncompressed,
        compressed: this.offset - start,
        dataPageOffset,
        dictionaryPageOffset,
        bloomOffset: undefined,
        bloomLength: undefined,
        nullCount: c.nullCount,
        min: c.min,
        max: c.max,
        pages: c.pageInfos,
        pageBase: dataPageOffset,
      });
    }
    // Bloom filters after the row group's column chunks, sized by the chunk's distinct values.
    for (let i = 0; i < this.cols.length; i++) {
      const c = this.cols[i]!;
      const m = chunks[i]!;
      if (c.spec.bloomBitsPerValue <= 0) continue;
      const distinct = c.spec.encoding === "dictionary" ? c.dictValues.length : c.numValues - c.nullCount;
      const blocks = bloomBlocks(distinct, c.spec.bloomBitsPerValue);
      if (blocks === 0) continue;
      const filter = new SplitBlockBloom(blocks);
      for (const v of c.dictValues) filter.insert(v);
      const bits = filter.bytes();
      const header = new ThriftWriter()
        .i32(1, bits.length)
        .struct(2, (w) => w.struct(1, () => {}))
        .struct(3, (w) => w.struct(1, () => {}))
        .struct(4, (w) => w.struct(1, () => {}))
        .end();
      m.bloomOffset = this.offset;
      await this.write(header.slice());
      await this.write(bits);
      m.bloomLength = this.offset - m.bloomOffset;
    }
    this.rowGroups.push({ rows: this.rows, fileOffset, chunks });
    this.totalRows += this.rows;
    this.rows = 0;
    this.cols = this.newColumns();
  }

  /** Abandons the file (its sink's abort, when it has one). */
  async abort(): Promise<void> {
    for (const c of this.cols) c.pages.dispose();
    await this.sink.abort?.();
  }

  /** Flushes the last row group, writes the page index and the footer, closes the sink. */
  async close(): Promise<WrittenFile> {
    await this.flushRowGroup();
    if (this.offset === 0) await this.write(new TextEncoder().encode("PAR1"));
    const colIndex: { off: number; len: number }[][] = [];
    for (const rg of this.rowGroups) {
      const row: { off: number; len: number }[] = [];
      for (const c of rg.chunks) {
        const b = columnIndexBytes(c);
        row.push({ off: this.offset, len: b.length });
        await this.write(b);
      }
      colIndex.push(row);
    }
    const offIndex: { off: number; len: number }[][] = [];
    for (const rg of this.rowGroups) {
      const row: { off: number; len: number }[] = [];
      for (const c of rg.chunks) {
        const w = new ThriftWriter();
        w.listStruct(1, c.pages, (w, p) =>
          w
            .i64(1, c.pageBase + p.offset)
            .i32(2, p.size)
            .i64(3, p.firstRow),
        );
        const b = w.end().slice();
        row.push({ off: this.offset, len: b.length });
        await this.write(b);
      }
      offIndex.push(row);
    }
    const footer = this.footer(colIndex, offIndex);
    await this.write(footer);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(new TextEncoder().encode("PAR1"), 4);
    await this.write(tail);
    await this.sink.close();
    return { bytes: this.offset, rows: this.totalRows, rowGroups: this.rowGroups.length };
  }

  private footer(colIndex: { off: number; len: number }[][], offIndex: { off: number; len: number }[][]): Uint8Array {
    const { columns, rootName, keyValue, sortingColumns, codec, createdBy } = this.opts;
    // parquet-go keeps one entry per configured sorting column; one the file lacks stays zero
    // (column 0, ascending, nulls last), so the chunks file records l___name__ as column 0.
    const sortIdx = sortingColumns.map((n) =>
      Math.max(
        0,
        columns.findIndex((c) => c.name === n),
      ),
    );
    const w = new ThriftWriter();
    w.i32(1, 2); // parquet-go's parquetFileFormatVersion
    w.listStruct(2, [undefined, ...columns], (w, c) => {
      if (c === undefined) {
        w.binary(4, rootName).i32(5, columns.length);
        return;
      }
      w.i32(1, PhysicalType.BYTE_ARRAY);
      w.i32(3, c.optional ? Repetition.OPTIONAL : Repetition.REQUIRED);
      w.binary(4, c.name);
      if (c.string) w.i32(6, ConvertedType.UTF8).struct(10, (w) => w.struct(1, () => {}));
    });
    w.i64(3, this.totalRows);
    w.listStruct(4, this.rowGroups, (w, rg) => {
      const gi = this.rowGroups.indexOf(rg);
      w.listStruct(1, rg.chunks, (w, c) => {
        const ci = rg.chunks.indexOf(c);
        w.i64(2, c.dataPageOffset);
        w.struct(3, (w) => {
          w.i32(1, PhysicalType.BYTE_ARRAY);
          w.listI32(2, chunkEncodings(c.spec));
          w.listBinary(3, [c.spec.name]);
          w.i32(4, codec);
          w.i64(5, c.numValues);
          w.i64(6, c.uncompressed);
          w.i64(7, c.compressed);
          w.i64(9, c.dataPageOffset);
          if (c.dictionaryPageOffset !== undefined) w.i64(11, c.dictionaryPageOffset);
          w.struct(12, (w) => {
            w.i64(3, c.nullCount);
            if (!c.spec.skipPageBounds && c.max !== undefined && c.min !== undefined)
              w.binary(5, c.max).binary(6, c.min);
          });
          if (c.bloomOffset !== undefined && c.bloomLength !== undefined) {
            w.i64(14, c.bloomOffset).i32(15, c.bloomLength);
          }
        });
        const oi = offIndex[gi]![ci]!;
        const cx = colIndex[gi]![ci]!;
        w.i64(4, oi.off).i32(5, oi.len).i64(6, cx.off).i32(7, cx.len);
      });
      const total = rg.chunks.reduce((s, c) => s + c.uncompressed, 0);
      const compressed = rg.chunks.reduce((s, c) => s + c.compressed, 0);
      w.i64(2, total);
      w.i64(3, rg.rows);
      if (sortIdx.length > 0) {
        w.listStruct(4, sortIdx, (w, i) => w.i32(1, i).bool(2, false).bool(3, false));
      }
      w.i64(5, rg.fileOffset);
      w.i64(6, compressed);
      w.i32(7, gi);
    });
    w.listStruct(5, [...keyValue], (w, [k, v]) => w.binary(1, k).binary(2, v));
    w.binary(6, createdBy);
    w.listStruct(7, columns, (w) => w.struct(1, () => {}));
    return w.end().slice();
  }
}

function chunkEncodings(spec: ColumnSpec): number[] {
  if (spec.encoding === "dictionary")
    return spec.optional ? [Enc.PLAIN, Enc.RLE, Enc.RLE_DICTIONARY] : [Enc.PLAIN, Enc.RLE_DICTIONARY];
  return spec.optional ? [Enc.RLE, encodingId(spec.encoding)] : [encodingId(spec.encoding)];
}

function columnIndexBytes(c: ChunkMeta): Uint8Array {
  const empty = new Uint8Array(0);
  const bounds = !c.spec.skipPageBounds;
  const mins = c.pages.map((p) => (bounds && p.min !== undefined ? p.min : empty));
  const maxs = c.pages.map((p) => (bounds && p.max !== undefined ? p.max : empty));
  let order: number = BoundaryOrder.UNORDERED;
  if (bounds && c.pages.every((p) => !p.nullPage)) {
    let asc = true;
    let desc = true;
    for (let i = 1; i < c.pages.length; i++) {
      if (compareBytesGo(mins[i - 1]!, mins[i]!) > 0 || compareBytesGo(maxs[i - 1]!, maxs[i]!) > 0) asc = false;
      if (compareBytesGo(mins[i - 1]!, mins[i]!) < 0 || compareBytesGo(maxs[i - 1]!, maxs[i]!) < 0) desc = false;
    }
    order = asc ? BoundaryOrder.ASCENDING : desc ? BoundaryOrder.DESCENDING : BoundaryOrder.UNORDERED;
  }
  const w = new ThriftWriter();
  w.listBool(
    1,
    c.pages.map((p) => p.nullPage),
  );
  w.listBinary(2, mins);
  w.listBinary(3, maxs);
  w.i32(4, order);
  w.listI64(
    5,
    c.pages.map((p) => p.nulls),
  );
  return w.end().slice();
}

export { Codec };
