/**
 * Streaming index writer (format V2, as Prometheus ≥ 3.7 writes it: no legacy label
 * index sections). Bytes go to the sink strictly in file order through ~1 MiB buffers
 * (a few queued behind the encoder, see write-behind.ts);
 * nothing is ever re-read or patched, so the sink can be an S3 multipart upload.
 *
 * Sections whose length precedes their entries (symbol table, postings offset table) are
 * sized before they are written, from data already in memory. Postings are not re-derived
 * by re-reading the series section as Prometheus does; instead each series records the
 * pair indices of its labels (4 bytes per label) in a PostingsBuilder, which lays out all
 * lists at close(). Memory is O(symbols + postings), never O(block).
 */
import { crc32c } from "../encoding/crc32c.ts";
import { Encbuf, putUvarintAt, uvarintSize } from "../encoding/encbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import type { ByteSink } from "../encoding/source.ts";
import { compareStrings } from "../encoding/utf8.ts";
import { WriteBehind } from "../encoding/write-behind.ts";
import type { ChunkMeta } from "../chunkenc/chunk.ts";
import { compareLabels, labelsToString, type Labels } from "../labels/labels.ts";
import {
  FORMAT_V2,
  INDEX_FILE,
  MAGIC_INDEX,
  MAX_U32,
  POSTINGS_ALIGN,
  SERIES_ALIGN,
  checkIndexSize,
  checkSectionLength,
  encodeToc,
  paddingFor,
  seriesIdForOffset,
  type TOC,
} from "./format.ts";
import { PostingsBuilder } from "./postings.ts";
import { SymbolTable } from "./symbols.ts";

const EMPTY_SYMBOLS = SymbolTable.from([]);

const FLUSH_AT = 1 << 20;
const MAX_VARINT32 = 5;
const TWO32 = 4294967296;

export interface IndexWriterResult {
  /** Bytes written. */
  size: number;
  numSeries: number;
  toc: TOC;
  /**
   * Thanos `index_stats.series_max_size`, computed as T: pkg/block/index.go does: the largest
   * distance between consecutive series starts (entry + padding; the last entry is not
   * measured). 0 with fewer than two series, where Thanos leaves the field unset.
   */
  seriesMaxSize: number;
  /**
   * Thanos `index_stats.chunk_max_size`, also as GatherIndexHealthStats computes it: the
   * largest ref distance between chunk i and i+1 of a series, for i < #chunks−2, within one
   * segment. 0 when nothing was measured.
   */
  chunkMaxSize: number;
}

type Stage = "init" | "series" | "closed";

export class IndexWriter {
  private readonly behind: WriteBehind;
  private readonly file = INDEX_FILE;
  private readonly flushAt: number;
  private readonly buf: Encbuf;
  private flushed = 0;
  /** Running CRC over buf[crcFrom, …) and flushed bytes since beginCrc(); -1 when off. */
  private crcFrom = -1;
  private crcAcc = 0;
  private stage: Stage = "init";
  private readonly toc: TOC = {
    symbols: 0,
    series: 0,
    labelIndices: 0,
    labelIndicesTable: 0,
    postings: 0,
    postingsTable: 0,
  };

  /** The symbol table, read only: possibly shared with other writers (every shard of a split). */
  private symbols: SymbolTable = EMPTY_SYMBOLS;

  private lastLabels: Labels | undefined;
  private lastChunkRef = 0;
  private lastSeriesOffset = -1;
  private seriesMaxSize = 0;
  private chunkMaxSize = 0;
  private refScratch = new Uint32Array(64);
  /** Symbol refs and pair indices of the previous series' labels, by position. */
  private lastRefs = new Uint32Array(32);
  private lastPairs = new Uint32Array(16);

  private readonly postings = new PostingsBuilder();

  /**
   * `flushSize`: bytes buffered before each sink write (default 1 MiB); `writeBehind`: filled
   * buffers queued for the sink at most while encoding goes on (default DEFAULT_WRITE_BEHIND).
   */
  constructor(sink: ByteSink, opts: { flushSize?: number; writeBehind?: number } = {}) {
    this.flushAt = Math.max(64, opts.flushSize ?? FLUSH_AT);
    this.buf = new Encbuf(this.flushAt + 1024);
    this.behind = new WriteBehind(sink, this.buf.b.length, opts.writeBehind);
    this.buf.putBE32(MAGIC_INDEX);
    this.buf.putU8(FORMAT_V2);
  }

  private get pos(): number {
    return this.flushed + this.buf.len;
  }

  /** The symbol table this writer uses (empty before `addSymbols`). */
  get symbolTable(): SymbolTable {
    return this.symbols;
  }

  /**
   * Add the symbol table. Call once, before any series, with strings strictly ascending in
   * Go (bytewise UTF-8) order, or with a `SymbolTable`, which is used as is (not copied):
   * writers given the same table share it.
   */
  async addSymbols(symbols: Iterable<string> | SymbolTable): Promise<void> {
    if (this.stage !== "init") throw new Error("IndexWriter.addSymbols: symbols were already written");
    const table = symbols instanceof SymbolTable ? symbols : SymbolTable.from(symbols, this.file);
    const bytes = table.sectionBytes;
    checkSectionLength(bytes, "symbol table", this.pos, this.file);
    this.symbols = table;
    this.stage = "series";
    const count = table.length;

    this.toc.symbols = this.pos;
    this.buf.putBE32(bytes);
    this.beginCrc();
    this.buf.putBE32(count);
    for (let i = 0; i < count; i++) {
      this.putSymbol(i);
      if (this.buf.len >= this.flushAt) await this.flush();
    }
    this.buf.putBE32(this.endCrc());
    this.toc.series = this.pos;
  }

  /**
   * Append a series. Series must come in strictly increasing labels.Compare order, with
   * sorted unique non-empty label names that (like the values) are all symbols. Chunk metas
   * must be ordered (minT ≤ maxT, minT > previous maxT) with refs non-decreasing across the
   * whole index. Returns the series id (entry offset / 16).
   */
  async addSeries(labels: Labels, chunks: readonly ChunkMeta[]): Promise<number> {
    if (this.stage === "init") await this.addSymbols([]);
    const id = this.appendSeries(labels, chunks);
    if (this.buf.len >= this.flushAt) await this.flush();
    return id;
  }

  /**
   * `addSeries` without waiting: encodes the series into the buffer synchronously (after
   * `addSymbols`). The buffer may then exceed the flush size; call `flushIfFull()` before
   * the next series. Saves a promise per series on the hot path of a compaction.
   */
  appendSeries(labels: Labels, chunks: readonly ChunkMeta[]): number {
    if (this.stage !== "series")
      throw new Error(
        this.stage === "init"
          ? "IndexWriter.appendSeries: call addSymbols first"
          : "IndexWriter.addSeries: writer is closed",
      );
    const file = this.file;
    const n = labels.length;
    if (n === 0) throw new FormatError("invalid-value", "series has no labels", { file, offset: this.pos });
    if (this.lastLabels !== undefined && compareLabels(labels, this.lastLabels) <= 0) {
      throw new FormatError("out-of-order", "series not in strictly increasing label order", {
        file,
        offset: this.pos,
        expected: `> ${labelsToString(this.lastLabels)}`,
        found: labelsToString(labels),
      });
    }
    if (this.refScratch.length < 3 * n) this.refScratch = new Uint32Array(6 * n);
    const refs = this.refScratch;
    // Sorted neighbours share leading labels: reuse their refs and pair indices instead of
    // hashing the strings again (refs[2n + i] holds the pair index, or MAX_U32 if unknown).
    const prev = this.lastLabels;
    const prevN = prev === undefined ? 0 : prev.length;
    const prevPairs = this.lastPairs;
    const symbols = this.symbols;
    for (let i = 0; i < n; i++) {
      const { name, value } = labels[i]!;
      if (i > 0 && compareStrings(name, labels[i - 1]!.name) <= 0) {
        throw new FormatError("out-of-order", "label names not sorted and unique", {
          file,
          expected: `> ${JSON.stringify(labels[i - 1]!.name)}`,
          found: `${JSON.stringify(name)} in ${labelsToString(labels)}`,
        });
      }
      if (i < prevN && prev![i]!.name === name && prev![i]!.value === value) {
        refs[2 * i] = this.lastRefs[2 * i]!;
        refs[2 * i + 1] = this.lastRefs[2 * i + 1]!;
        refs[2 * n + i] = prevPairs[i]!;
        continue;
      }
      refs[2 * n + i] = MAX_U32;
      if (name === "")
        throw new FormatError("invalid-value", "empty label name", { file, found: labelsToString(labels) });
      // Names repeat far more than values: reuse the neighbour's name ref when it matches.
      const nr = i < prevN && prev![i]!.name === name ? this.lastRefs[2 * i] : symbols.ref(name);
      const vr = symbols.ref(value);
      if (nr === undefined || vr === undefined) {
        throw new FormatError("invalid-value", "label string missing from the symbol table", {
          file,
          found: `${JSON.stringify(nr === undefined ? name : value)} in ${labelsToString(labels)}`,
        });
      }
      refs[2 * i] = nr;
      refs[2 * i + 1] = vr;
    }
    this.checkChunks(labels, chunks);

    const pad = paddingFor(this.pos, SERIES_ALIGN);
    const offset = this.pos + pad;
    const id = seriesIdForOffset(offset, file);

    // Everything is valid: only now touch the output.
    this.buf.putZeros(pad);

    // Encode the body in place after room for a 5-byte len varint, then close the gap. One
    // reserve for the worst case, then plain stores through a local cursor.
    const e = this.buf;
    const nc = chunks.length;
    let chunkMax = this.chunkMaxSize;
    e.reserve(MAX_VARINT32 + 2 * MAX_VARINT32 + 10 * n + 30 * nc + 4);
    const b = e.b;
    const lenAt = e.len;
    const bodyAt = lenAt + MAX_VARINT32;
    let p = putUvarintAt(b, bodyAt, n);
    for (let i = 0; i < 2 * n; i++) p = putUvarintAt(b, p, refs[i]!);
    p = putUvarintAt(b, p, nc);
    if (nc > 0) {
      let c = chunks[0]!;
      let prevMax = c.maxTime;
      let prevRef = c.ref;
      p = putUvarintAt(b, p, c.minTime < 0 ? -2 * c.minTime - 1 : 2 * c.minTime);
      p = putUvarintAt(b, p, prevMax - c.minTime);
      p = putUvarintAt(b, p, prevRef);
      for (let i = 1; i < nc; i++) {
        c = chunks[i]!;
        const d = c.ref - prevRef;
        p = putUvarintAt(b, p, c.minTime - prevMax);
        p = putUvarintAt(b, p, c.maxTime - c.minTime);
        p = putUvarintAt(b, p, d < 0 ? -2 * d - 1 : 2 * d);
        // Thanos' chunk size estimate (IndexWriterResult.chunkMaxSize), quirks included: gaps
        // between chunks i−1 and i for i < #chunks−1, within one segment.
        if (i < nc - 1 && Math.floor(prevRef / TWO32) === Math.floor(c.ref / TWO32)) {
          const gap = (c.ref % TWO32) - (prevRef % TWO32);
          if (gap > chunkMax) chunkMax = gap;
        }
        prevMax = c.maxTime;
        prevRef = c.ref;
      }
    }
    const bodyLen = p - bodyAt;
    const start = putUvarintAt(b, lenAt, bodyLen);
    if (start !== bodyAt) b.copyWithin(start, bodyAt, p);
    const end = start + bodyLen;
    const crc = crc32c(b, start, end);
    b[end] = crc >>> 24;
    b[end + 1] = (crc >>> 16) & 0xff;
    b[end + 2] = (crc >>> 8) & 0xff;
    b[end + 3] = crc & 0xff;
    e.len = end + 4;

    // Postings bookkeeping (pair indices go to refs[2n …) and are kept for the next series).
    if (this.lastPairs.length < n) this.lastPairs = new Uint32Array(2 * n);
    if (this.lastRefs.length < 2 * n) this.lastRefs = new Uint32Array(4 * n);
    for (let i = 0; i < n; i++) {
      if (refs[2 * n + i] === MAX_U32) refs[2 * n + i] = this.postings.pair(refs[2 * i]!, refs[2 * i + 1]!);
      this.lastPairs[i] = refs[2 * n + i]!;
      this.lastRefs[2 * i] = refs[2 * i]!;
      this.lastRefs[2 * i + 1] = refs[2 * i + 1]!;
    }
    this.postings.addSeries(id, refs, 2 * n, 3 * n);

    if (this.lastSeriesOffset >= 0 && offset - this.lastSeriesOffset > this.seriesMaxSize)
      this.seriesMaxSize = offset - this.lastSeriesOffset;
    this.lastSeriesOffset = offset;
    this.lastLabels = labels.slice();
    if (chunks.length > 0) this.lastChunkRef = chunks[chunks.length - 1]!.ref;
    this.chunkMaxSize = chunkMax;
    return id;
  }

  /** True when the buffer has reached the flush size (then await `flushIfFull()`). */
  get full(): boolean {
    return this.buf.len >= this.flushAt;
  }

  /** Hand the buffer to the sink if it has reached the flush size. */
  async flushIfFull(): Promise<void> {
    if (this.buf.len >= this.flushAt) await this.flush();
  }

  private checkChunks(labels: Labels, chunks: readonly ChunkMeta[]): void {
    const file = this.file;
    const where = (i: number) => `chunk ${i} of ${labelsToString(labels)}`;
    let lastRef = this.lastChunkRef;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (
        !Number.isSafeInteger(c.minTime) ||
        !Number.isSafeInteger(c.maxTime) ||
        !Number.isSafeInteger(c.ref) ||
        c.ref < 0
      ) {
        throw new FormatError("invalid-value", "chunk meta fields must be safe integers (ref ≥ 0)", {
          file,
          found: `${where(i)}: ref=${c.ref} minT=${c.minTime} maxT=${c.maxTime}`,
        });
      }
      if (c.maxTime < c.minTime) {
        throw new FormatError("invalid-value", "chunk maxT below minT", {
          file,
          expected: `maxT ≥ ${c.minTime}`,
          found: `maxT=${c.maxTime} (${where(i)})`,
        });
      }
      if (i > 0 && c.minTime <= chunks[i - 1]!.maxTime) {
        throw new FormatError("out-of-order", "chunks overlap or are unsorted", {
          file,
          expected: `minT > previous maxT ${chunks[i - 1]!.maxTime}`,
          found: `minT=${c.minTime} (${where(i)})`,
        });
      }
      if (c.ref < lastRef) {
        throw new FormatError("out-of-order", "chunk refs decrease", {
          file,
          expected: `ref ≥ ${lastRef}`,
          found: `ref=${c.ref} (${where(i)})`,
        });
      }
      lastRef = c.ref;
    }
  }

  /**
   * Write postings, the postings offset table and the TOC, and flush everything to the
   * sink. The sink stays open: whoever created it closes (or aborts) it.
   */
  async close(): Promise<IndexWriterResult> {
    if (this.stage === "init") await this.addSymbols([]);
    if (this.stage !== "series") throw new Error("IndexWriter.close: already closed");
    this.stage = "closed";
    const file = this.file;
    const numSeries = this.postings.seriesIds.length;

    // ≥ 3.7 layout: no label indices; both "label" TOC fields alias the postings ones.
    this.toc.labelIndices = this.toc.postings = this.pos;
    this.buf.putZeros(paddingFor(this.pos, POSTINGS_ALIGN));

    // Pairs in (name, value) order (symbol ordinals sort like the strings), lists laid out.
    const built = this.postings.build(this.symbols.length);
    const pairs = built.pairs;
    const start = built.start;
    const all = built.ids;

    // Postings lists: the all-postings key ("", "") first, then each pair; contiguous.
    const offsets = new Float64Array(pairs + 1);
    offsets[0] = this.pos;
    await this.writePostings(this.postings.seriesIds.view());
    for (let k = 0; k < pairs; k++) {
      offsets[k + 1] = this.pos;
      const list = all.subarray(start[k], start[k + 1]);
      if (4 * list.length < this.flushAt) this.putPostings(list, 0, list.length);
      else await this.writePostings(list);
      if (this.buf.len >= this.flushAt) await this.flush();
    }

    // Postings offset table, sized up front.
    this.toc.labelIndicesTable = this.toc.postingsTable = this.pos;
    const nb = this.symbols.lens;
    let len = 4 + 3 + uvarintSize(offsets[0]);
    for (let k = 0; k < pairs; k++) {
      const nm = built.names[k]!;
      const v = built.values[k]!;
      len += 1 + uvarintSize(nb[nm]!) + nb[nm]! + uvarintSize(nb[v]!) + nb[v]! + uvarintSize(offsets[k + 1]!);
    }
    checkSectionLength(len, "postings offset table", this.pos, file);
    this.buf.putBE32(len);
    this.beginCrc();
    this.buf.putBE32(pairs + 1);
    this.buf.putU8(2);
    this.buf.putUvarint(0);
    this.buf.putUvarint(0);
    this.buf.putUvarint(offsets[0]);
    for (let k = 0; k < pairs; k++) {
      this.buf.putU8(2);
      this.putSymbol(built.names[k]!);
      this.putSymbol(built.values[k]!);
      this.buf.putUvarint(offsets[k + 1]!);
      if (this.buf.len >= this.flushAt) await this.flush();
    }
    this.buf.putBE32(this.endCrc());

    encodeToc(this.buf, this.toc);
    await this.flush();
    await this.behind.settle();
    return {
      size: this.flushed,
      numSeries,
      toc: { ...this.toc },
      seriesMaxSize: numSeries >= 2 ? this.seriesMaxSize : 0,
      chunkMaxSize: this.chunkMaxSize,
    };
  }

  /** Append ids[from, to) as one whole postings list, without flushing. */
  private putPostings(ids: Uint32Array, from: number, to: number): void {
    const n = to - from;
    const b = this.buf;
    b.reserve(12 + 4 * n);
    b.putBE32(4 + 4 * n);
    const crcStart = b.len;
    b.putBE32(n);
    this.putIds(ids, from, to);
    b.putBE32(crc32c(b.b, crcStart, b.len));
  }

  /** A postings list of any size, flushing as the buffer fills. */
  private async writePostings(ids: Uint32Array): Promise<void> {
    const n = ids.length;
    checkSectionLength(4 + 4 * n, "postings list", this.pos, this.file);
    this.buf.putBE32(4 + 4 * n);
    this.beginCrc();
    this.buf.putBE32(n);
    const step = Math.ceil(this.flushAt / 4);
    for (let i = 0; i < n; i += step) {
      this.putIds(ids, i, Math.min(n, i + step));
      if (this.buf.len >= this.flushAt) await this.flush();
    }
    this.buf.putBE32(this.endCrc());
  }

  private putIds(ids: Uint32Array, from: number, to: number): void {
    const b = this.buf;
    b.reserve(4 * (to - from));
    const v = b.view;
    let p = b.len;
    for (let i = from; i < to; i++, p += 4) v.setUint32(p, ids[i]!, false);
    b.len = p;
  }

  /** Symbol k as uvarint length + UTF-8, from the bytes the symbol table encoded. */
  private putSymbol(k: number): void {
    const t = this.symbols;
    const n = t.lens[k]!;
    const e = this.buf;
    e.reserve(MAX_VARINT32 + n);
    const b = e.b;
    const p = putUvarintAt(b, e.len, n);
    const src = t.utf8;
    const o = t.at[k]!;
    for (let i = 0; i < n; i++) b[p + i] = src[o + i]!;
    e.len = p + n;
  }

  private beginCrc(): void {
    this.crcFrom = this.buf.len;
    this.crcAcc = 0;
  }

  private endCrc(): number {
    const c = crc32c(this.buf.b, this.crcFrom, this.buf.len, this.crcAcc);
    this.crcFrom = -1;
    return c;
  }

  private async flush(): Promise<void> {
    const b = this.buf;
    checkIndexSize(this.flushed + b.len, this.file);
    if (b.len === 0) return;
    await this.behind.ready();
    if (this.crcFrom >= 0) {
      this.crcAcc = crc32c(b.b, this.crcFrom, b.len, this.crcAcc);
      this.crcFrom = 0;
    }
    // The filled buffer queues for the sink; encoding goes on in another.
    const next = this.behind.swap(b.b, b.len);
    this.flushed += b.len;
    b.b = next;
    b.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    b.reset();
  }
}
