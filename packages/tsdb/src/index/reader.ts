/**
 * Index reader over any ByteSource (local file, memory, S3 ranged GETs). open() loads the
 * header, TOC, symbol table and postings offset table; series and postings lists are read
 * on demand. Every length and offset is checked against the file before it is used, and
 * every section's CRC is verified, so a corrupt file yields a FormatError naming the
 * absolute offset rather than a wild read or allocation.
 *
 * Reads V2 (and the reserved V3) from every Prometheus version, including files written
 * before 3.7 with the legacy label index sections, and the original V1 format (series ids
 * and symbol references are file offsets, series unpadded, offset table unsorted).
 */
import { Decbuf } from "../encoding/decbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import type { ByteSource } from "../encoding/source.ts";
import { compareStrings, utf8Decode } from "../encoding/utf8.ts";
import type { ChunkMeta } from "../chunkenc/chunk.ts";
import type { Label } from "../labels/labels.ts";
import {
  FORMAT_V1,
  FORMAT_V2,
  FORMAT_V3,
  HEADER_LEN,
  INDEX_FILE,
  MAGIC_INDEX,
  SERIES_ALIGN,
  TOC_LEN,
  decodeToc,
  symbolOrdinalOfOffset,
  type TOC,
} from "./format.ts";
import { SeriesCursor, entrySize, type SeriesEntry } from "./series-cursor.ts";
import { EMPTY_POSTINGS, decodePostings } from "./postings.ts";

export type { SeriesEntry } from "./series-cursor.ts";

export interface PostingsOffset {
  name: string;
  value: string;
  /** Absolute offset of the postings list's len field. */
  offset: number;
}

/** One legacy label index (Prometheus < 3.7): the value tuples for `names`, flattened row by row. */
export interface LegacyLabelIndex {
  names: string[];
  values: string[];
  offset: number;
}

/** First read of a series or postings list; most fit, larger ones take a second exact read. */
const SERIES_PROBE = 1024;
const POSTINGS_PROBE_MAX = 1 << 20;

export class IndexReader {
  readonly version: number;
  readonly toc: TOC;
  readonly size: number;
  readonly symbols: readonly string[];
  private readonly src: ByteSource;
  private readonly file: string;
  /** End of the data before the TOC; no section may reach past it. */
  private readonly limit: number;
  /** V1 only: absolute offset of each symbol entry, ascending. */
  private readonly symbolOffsets: Float64Array | undefined;
  // Postings offset table, sorted by (name, value), as parallel arrays.
  private readonly poNames: string[];
  /** Value of entry i: decoded from the table's bytes on demand (V2/V3), or held (V1). */
  private readonly poValue: (i: number) => string;
  private readonly poOffsets: Float64Array;
  private readonly nameRanges: Map<string, { start: number; end: number }>;
  /** Distinct list offsets ascending, to guess where each list ends. */
  private readonly listStarts: Float64Array;
  private poCache: PostingsOffset[] | undefined;
  /** Opened with `postingsTable: false`. */
  private readonly withoutTable: boolean;

  private constructor(init: {
    src: ByteSource;
    file: string;
    version: number;
    toc: TOC;
    symbols: string[];
    symbolOffsets: Float64Array | undefined;
    poNames: string[];
    poValue: (i: number) => string;
    poOffsets: Float64Array;
    withoutTable?: boolean;
  }) {
    this.withoutTable = init.withoutTable === true;
    this.src = init.src;
    this.file = init.file;
    this.size = init.src.size;
    this.limit = this.size - TOC_LEN;
    this.version = init.version;
    this.toc = init.toc;
    this.symbols = init.symbols;
    this.symbolOffsets = init.symbolOffsets;
    this.poNames = init.poNames;
    this.poValue = init.poValue;
    this.poOffsets = init.poOffsets;
    this.nameRanges = new Map();
    for (let i = 0; i < this.poNames.length; ) {
      const name = this.poNames[i]!;
      let j = i + 1;
      while (j < this.poNames.length && this.poNames[j] === name) j++;
      this.nameRanges.set(name, { start: i, end: j });
      i = j;
    }
    // Usually already ascending (lists are written in table order); V1 tables are not.
    const starts = this.poOffsets.slice();
    for (let i = 1; i < starts.length; i++) {
      if (starts[i]! < starts[i - 1]!) {
        starts.sort();
        break;
      }
    }
    this.listStarts = starts;
  }

  /**
   * `postingsTable: false` leaves the postings offset table unread (a compaction walks the
   * series and never looks a list up): then `labelNames`, `labelValues`, `postings` and
   * `postingsOffsets` throw, and opening costs the symbols alone.
   */
  static async open(src: ByteSource, opts: { file?: string; postingsTable?: boolean } = {}): Promise<IndexReader> {
    const file = opts.file ?? INDEX_FILE;
    const size = src.size;
    if (size < HEADER_LEN + TOC_LEN) {
      throw new FormatError("invalid-size", "file too small for an index", {
        file,
        offset: 0,
        expected: `≥ ${HEADER_LEN + TOC_LEN} bytes`,
        found: `${size} bytes`,
      });
    }
    const head = await src.read(0, HEADER_LEN);
    const magic = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    if (magic !== MAGIC_INDEX) {
      throw new FormatError("bad-magic", "not an index file", {
        file,
        offset: 0,
        expected: "0xbaaad700",
        found: "0x" + magic.toString(16).padStart(8, "0"),
      });
    }
    const version = head[4];
    if (version !== FORMAT_V1 && version !== FORMAT_V2 && version !== FORMAT_V3) {
      throw new FormatError("unsupported-version", "unknown index version", {
        file,
        offset: 4,
        expected: "1, 2 or 3",
        found: String(version),
      });
    }
    const toc = decodeToc(await src.read(size - TOC_LEN, TOC_LEN), size, file);
    const limit = size - TOC_LEN;
    if (toc.symbols < HEADER_LEN) {
      throw new FormatError("invalid-value", "TOC symbols offset inside the header", {
        file,
        offset: limit,
        expected: `≥ ${HEADER_LEN}`,
        found: String(toc.symbols),
      });
    }
    if (toc.postingsTable < HEADER_LEN) {
      throw new FormatError("invalid-value", "TOC has no postings offset table", {
        file,
        offset: limit + 40,
        expected: `≥ ${HEADER_LEN}`,
        found: String(toc.postingsTable),
      });
    }

    // Symbol table.
    const sd = await readFramed(src, toc.symbols, limit, file, "symbol table");
    const count = sd.be32();
    if (count > sd.remaining())
      throw sd.error(
        "invalid-size",
        "symbol count exceeds the table",
        String(count),
        `≤ ${sd.remaining()}`,
        sd.pos - 4,
      );
    const symbols = new Array<string>(count);
    const symbolOffsets = version === FORMAT_V1 ? new Float64Array(count) : undefined;
    for (let i = 0; i < count; i++) {
      if (symbolOffsets) symbolOffsets[i] = sd.offset();
      symbols[i] = sd.uvarintStr();
    }
    if (sd.remaining() !== 0)
      throw sd.error("invalid-size", "symbol table has bytes after its last symbol", `${sd.remaining()} bytes`, "0");

    if (opts.postingsTable === false)
      return new IndexReader({
        src,
        file,
        version,
        toc,
        symbols,
        symbolOffsets,
        poNames: [],
        poValue: () => "",
        poOffsets: new Float64Array(0),
        withoutTable: true,
      });

    // Postings offset table.
    const pd = await readFramed(src, toc.postingsTable, limit, file, "postings offset table");
    const n = pd.be32();
    if (n > pd.remaining() / 4)
      throw pd.error(
        "invalid-size",
        "postings offset table count exceeds the table",
        String(n),
        `≤ ${Math.floor(pd.remaining() / 4)}`,
        pd.pos - 4,
      );
    const v1 = version === FORMAT_V1;
    let poNames = new Array<string>(n);
    // Values stay UTF-8 in the table until asked for (a compaction never asks): where each
    // starts and its length, not a string per entry. V1 tables, unsorted, are decoded.
    let poValues = v1 ? new Array<string>(n) : undefined;
    const valueAt = v1 ? undefined : new Float64Array(n);
    const valueLen = v1 ? undefined : new Uint32Array(n);
    let poOffsets = new Float64Array(n);
    let prevName = "";
    let prevStart = -1;
    let prevLen = 0;
    const b = pd.b;
    for (let i = 0; i < n; i++) {
      const at = pd.pos;
      const keys = pd.uvarint();
      if (keys !== 2)
        throw pd.error("invalid-value", "postings offset table entry must have 2 keys", String(keys), "2", at);
      // Consecutive entries share the name: reuse the string instead of decoding it again.
      const nlen = pd.uvarint();
      pd.checkRemaining(nlen, "label name");
      const nStart = pd.pos;
      const name =
        nlen === prevLen && prevStart >= 0 && sameBytes(b, prevStart, nStart, nlen)
          ? prevName
          : utf8Decode(b, nStart, nStart + nlen);
      prevStart = nStart;
      prevLen = nlen;
      pd.pos += nlen;
      const vlen = pd.uvarint();
      pd.checkRemaining(vlen, "label value");
      const vStart = pd.pos;
      pd.pos += vlen;
      const offAt = pd.pos;
      const off = pd.uvarint();
      if (off < HEADER_LEN || off + 12 > limit) {
        throw pd.error(
          "invalid-size",
          "postings list offset outside the file",
          String(off),
          `[${HEADER_LEN}, ${limit - 12}]`,
          offAt,
        );
      }
      if (!v1 && i > 0) {
        // Go orders strings bytewise: compare the UTF-8 in place.
        const pv = valueAt![i - 1]!;
        const pl = valueLen![i - 1]!;
        const c = name === prevName ? compareRange(b, vStart, vlen, pv, pl) : compareStrings(name, prevName);
        if (c <= 0) {
          throw pd.error(
            "out-of-order",
            "postings offset table not sorted by (name, value)",
            `(${JSON.stringify(name)}, ${JSON.stringify(utf8Decode(b, vStart, vStart + vlen))})`,
            `> (${JSON.stringify(prevName)}, ${JSON.stringify(utf8Decode(b, pv, pv + pl))})`,
            at,
          );
        }
      }
      prevName = name;
      poNames[i] = name;
      if (poValues) poValues[i] = utf8Decode(b, vStart, vStart + vlen);
      else {
        valueAt![i] = vStart;
        valueLen![i] = vlen;
      }
      poOffsets[i] = off;
    }
    let poValue: (i: number) => string;
    if (poValues) {
      // V1 tables are in insertion order; sort a copy so lookups can bisect.
      const vs = poValues;
      const idx = Array.from({ length: n }, (_, i) => i).sort(
        (x, y) => compareStrings(poNames[x]!, poNames[y]!) || compareStrings(vs[x]!, vs[y]!),
      );
      poNames = idx.map((i) => poNames[i]!);
      poValues = idx.map((i) => vs[i]!);
      poOffsets = Float64Array.from(idx, (i) => poOffsets[i]!);
      const sorted = poValues;
      poValue = (i) => sorted[i]!;
    } else {
      const at = valueAt!;
      const len = valueLen!;
      // A source may hand out views of a buffer it reuses: keep a copy of the table.
      const table = b.slice();
      poValue = (i) => utf8Decode(table, at[i]!, at[i]! + len[i]!);
    }
    return new IndexReader({ src, file, version, toc, symbols, symbolOffsets, poNames, poValue, poOffsets });
  }

  /**
   * Hold the strings of `superset` (sorted in Go order, holding every symbol of this index,
   * e.g. the union of several inputs' tables) instead of equal copies of its own: readers of
   * blocks that share most symbols then keep one string per symbol between them, not one
   * each. A linear walk; symbols (and every label decoded from now on) keep their values.
   * Returns how many strings were replaced.
   */
  shareSymbols(superset: readonly string[]): number {
    const own = this.symbols as string[];
    // V1 symbol references are offsets, not positions: the array is still replaced in place.
    let j = 0;
    let shared = 0;
    for (let i = 0; i < own.length; i++) {
      const s = own[i]!;
      while (j < superset.length && superset[j] !== s && compareStrings(superset[j]!, s) < 0) j++;
      if (j === superset.length) break;
      if (superset[j] === s) {
        own[i] = superset[j]!;
        shared++;
      }
    }
    return shared;
  }

  /** Close the underlying source. */
  async close(): Promise<void> {
    await this.src.close?.();
  }

  /** The string a series or label index refers to: an ordinal (V2/V3) or a file offset (V1). */
  symbol(ref: number): string {
    const s = this.lookup(ref);
    if (s === undefined)
      throw new FormatError("invalid-value", "unknown symbol reference", {
        file: this.file,
        found: String(ref),
        expected: this.symbolRefRange(),
      });
    return s;
  }

  private lookup(ref: number): string | undefined {
    const offs = this.symbolOffsets;
    if (offs === undefined) return this.symbols[ref];
    const ord = symbolOrdinalOfOffset(offs, ref);
    return ord < 0 ? undefined : this.symbols[ord];
  }

  private symbolRefRange(): string {
    return this.symbolOffsets ? "the offset of a symbol table entry" : `< ${this.symbols.length}`;
  }

  private needTable(): void {
    if (this.withoutTable) throw new Error(`${this.file}: opened without its postings offset table`);
  }

  /** Label names with postings, sorted, without the all-postings name "". */
  labelNames(): string[] {
    this.needTable();
    const out: string[] = [];
    for (const name of this.nameRanges.keys()) if (name !== "") out.push(name);
    return out;
  }

  /** Values of `name` that have postings, sorted. */
  labelValues(name: string): string[] {
    this.needTable();
    const r = this.nameRanges.get(name);
    if (!r) return [];
    const out = new Array<string>(r.end - r.start);
    for (let i = r.start; i < r.end; i++) out[i - r.start] = this.poValue(i);
    return out;
  }

  postingsOffsets(): readonly PostingsOffset[] {
    this.needTable();
    if (!this.poCache) {
      const out = new Array<PostingsOffset>(this.poNames.length);
      for (let i = 0; i < out.length; i++)
        out[i] = { name: this.poNames[i]!, value: this.poValue(i), offset: this.poOffsets[i]! };
      this.poCache = out;
    }
    return this.poCache;
  }

  /** Series ids with label name=value, ascending; empty when the pair is absent. */
  async postings(name: string, value: string): Promise<Uint32Array> {
    this.needTable();
    const r = this.nameRanges.get(name);
    if (!r) return EMPTY_POSTINGS;
    let lo = r.start;
    let hi = r.end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareStrings(this.poValue(mid), value) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === r.end || this.poValue(lo) !== value) return EMPTY_POSTINGS;
    return this.readPostingsAt(this.poOffsets[lo]!);
  }

  /** Every series id (the ("", "") list). */
  allPostings(): Promise<Uint32Array> {
    return this.postings("", "");
  }

  /** Decode the postings list whose len field is at `offset`. */
  async readPostingsAt(offset: number): Promise<Uint32Array> {
    const limit = this.limit;
    if (offset < HEADER_LEN || offset + 12 > limit) {
      throw new FormatError("invalid-size", "postings list offset outside the file", {
        file: this.file,
        offset,
        expected: `[${HEADER_LEN}, ${limit - 12}]`,
      });
    }
    // Lists are contiguous in practice, so the next list's start bounds this one.
    const starts = this.listStarts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    let guessEnd = lo < starts.length ? starts[lo]! : this.toc.postingsTable > offset ? this.toc.postingsTable : limit;
    guessEnd = Math.min(guessEnd, limit, offset + POSTINGS_PROBE_MAX);
    let b = await this.src.read(offset, Math.max(12, guessEnd - offset));
    const len = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (offset + 8 + len > limit) {
      throw new FormatError("invalid-size", "postings list runs past the end of the data", {
        file: this.file,
        offset,
        expected: `≤ ${limit - offset - 8}`,
        found: `len ${len}`,
      });
    }
    if (8 + len > b.length) b = await this.src.read(offset, 8 + len);
    return decodePostings(b, 0, offset, this.file).ids;
  }

  /** [start, end) of the series section (padding included). */
  seriesSectionRange(): { start: number; end: number } {
    const t = this.toc;
    const start = t.series;
    if (start === 0) return { start: 0, end: 0 };
    for (const x of [t.labelIndices, t.postings, t.labelIndicesTable, t.postingsTable]) {
      if (x !== 0 && x >= start) return { start, end: x };
    }
    return { start, end: this.limit };
  }

  /** One series by id (random access). */
  async series(id: number): Promise<SeriesEntry> {
    const { start, end } = this.seriesSectionRange();
    const off = this.version === FORMAT_V1 ? id : id * SERIES_ALIGN;
    if (!Number.isSafeInteger(id) || id < 0 || off < start || off >= end) {
      throw new FormatError("invalid-value", "series id outside the series section", {
        file: this.file,
        offset: off,
        expected: `offset in [${start}, ${end})`,
        found: `id ${id}`,
      });
    }
    let b = await this.src.read(off, Math.min(end - off, SERIES_PROBE));
    let d = new Decbuf(b, { base: off, file: this.file });
    const total = entrySize(d, 0, end - off);
    if (total > b.length) {
      b = await this.src.read(off, total);
      d = new Decbuf(b, { base: off, file: this.file });
    }
    return this.decodeEntry(d, 0, id);
  }

  /**
   * All series in file (= id) order, reading the series section front to back in windows
   * of `windowSize` bytes. Verifies each entry's CRC and the zero padding between entries.
   * One window buffer is refilled in place (when the source has `readInto`): entries are
   * decoded into new objects before they are yielded, so nothing keeps a view of it.
   */
  async *iterSeries(opts: { windowSize?: number } = {}): AsyncGenerator<SeriesEntry> {
    const c = this.seriesCursor(opts);
    for (;;) {
      const e = c.tryNext() ?? (await c.next());
      if (e === null) return;
      yield e;
    }
  }

  /** `iterSeries` as a cursor: `tryNext()` answers without waiting while the window holds the next entry. */
  seriesCursor(opts: { windowSize?: number } = {}): SeriesCursor {
    const { start, end } = this.seriesSectionRange();
    return new SeriesCursor(
      this.src,
      this.file,
      start,
      end,
      this.version === FORMAT_V1,
      opts.windowSize ?? 1 << 20,
      (d, rel, id) => this.decodeEntry(d, rel, id),
    );
  }

  /**
   * The legacy label indices (written by Prometheus < 3.7, read by nobody for V2), via the
   * label offset table. Empty when the file has none (TOC.labelIndicesTable is 0 or aliases
   * the postings offset table). CRCs and symbol references are checked.
   */
  async legacyLabelIndices(): Promise<LegacyLabelIndex[]> {
    const t = this.toc.labelIndicesTable;
    if (t === 0 || t === this.toc.postingsTable) return [];
    const d = await readFramed(this.src, t, this.limit, this.file, "label offset table");
    const n = d.be32();
    if (n > d.remaining() / 3)
      throw d.error("invalid-size", "label offset table count exceeds the table", String(n), undefined, d.pos - 4);
    const out: LegacyLabelIndex[] = [];
    for (let i = 0; i < n; i++) {
      const k = d.uvarint();
      if (k > d.remaining()) throw d.error("invalid-size", "label offset table key count exceeds the table", String(k));
      const names: string[] = [];
      for (let j = 0; j < k; j++) names.push(d.uvarintStr());
      const offAt = d.pos;
      const offset = d.uvarint();
      if (offset < HEADER_LEN || offset + 12 > this.limit)
        throw d.error("invalid-size", "label index offset outside the file", String(offset), undefined, offAt);
      const li = await readFramed(this.src, offset, this.limit, this.file, "label index");
      const width = li.be32();
      const count = li.be32();
      if (width !== names.length || li.remaining() !== 4 * width * count) {
        throw li.error(
          "invalid-size",
          "label index size does not match its counts",
          `len ${li.remaining() + 8}, ${width} names × ${count} entries`,
          `len = 8 + 4·${names.length}·count`,
          li.pos - 8,
        );
      }
      const values = new Array<string>(width * count);
      for (let j = 0; j < values.length; j++) {
        const at = li.pos;
        const ref = li.be32();
        const s = this.lookup(ref);
        if (s === undefined)
          throw li.error("invalid-value", "unknown symbol reference", String(ref), this.symbolRefRange(), at);
        values[j] = s;
      }
      out.push({ names, values, offset });
    }
    return out;
  }

  /** Decode the entry whose len varint is at d.b[rel]; the whole entry must be in d.b. */
  private decodeEntry(d: Decbuf, rel: number, id: number): SeriesEntry {
    d.pos = rel;
    d.end = d.b.length;
    const len = d.uvarint32();
    const bodyStart = d.pos;
    const bodyEnd = bodyStart + len;
    d.verifyCrc(bodyStart, bodyEnd);
    d.end = bodyEnd;
    const k = d.uvarint();
    if (k > d.remaining() / 2) throw d.error("invalid-size", "label count exceeds the series entry", String(k));
    const labels = new Array<Label>(k);
    for (let i = 0; i < k; i++) {
      const at = d.pos;
      const nr = d.uvarint();
      const vat = d.pos;
      const vr = d.uvarint();
      const name = this.lookup(nr);
      const value = this.lookup(vr);
      if (name === undefined || value === undefined) {
        const bad = name === undefined ? nr : vr;
        throw d.error(
          "invalid-value",
          "unknown symbol reference in series",
          String(bad),
          this.symbolRefRange(),
          name === undefined ? at : vat,
        );
      }
      labels[i] = { name, value };
    }
    const c = d.uvarint();
    if (c > d.remaining() / 3) throw d.error("invalid-size", "chunk count exceeds the series entry", String(c));
    const chunks = new Array<ChunkMeta>(c);
    if (c > 0) {
      let minTime = d.varint();
      let maxTime = minTime + d.uvarint();
      let ref = d.uvarint();
      chunks[0] = { ref, minTime, maxTime };
      for (let i = 1; i < c; i++) {
        minTime = maxTime + d.uvarint();
        maxTime = minTime + d.uvarint();
        ref += d.varint();
        chunks[i] = { ref, minTime, maxTime };
      }
    }
    d.end = d.b.length;
    d.pos = bodyEnd + 4;
    return { id, labels, chunks };
  }
}

/** Read a `BE32 len | data | BE32 CRC` section at `at`, bounded by `limit`, CRC verified. */
async function readFramed(src: ByteSource, at: number, limit: number, file: string, what: string): Promise<Decbuf> {
  if (at < HEADER_LEN || at + 8 > limit) {
    throw new FormatError("invalid-size", `${what} offset outside the file`, {
      file,
      offset: at,
      expected: `[${HEADER_LEN}, ${limit - 8}]`,
    });
  }
  const lb = await src.read(at, 4);
  const len = ((lb[0]! << 24) | (lb[1]! << 16) | (lb[2]! << 8) | lb[3]!) >>> 0;
  if (at + 8 + len > limit) {
    throw new FormatError("invalid-size", `${what} runs past the end of the data`, {
      file,
      offset: at,
      expected: `len ≤ ${limit - at - 8}`,
      found: String(len),
    });
  }
  const b = await src.read(at, 8 + len);
  try {
    return Decbuf.framedAt(b, 0, { base: at, file });
  } catch (e) {
    if (e instanceof FormatError && e.code === "invalid-checksum") {
      throw new FormatError(
        e.code,
        `${what} ${e.detail}`,
        { file, offset: e.offset, expected: e.expected, found: e.found },
        { cause: e },
      );
    }
    throw e;
  }
}

/** Bytewise order of b[x, x + xl) and b[y, y + yl): -1, 0 or 1. */
function compareRange(b: Uint8Array, x: number, xl: number, y: number, yl: number): number {
  const n = xl < yl ? xl : yl;
  for (let i = 0; i < n; i++) {
    const d = b[x + i]! - b[y + i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return xl === yl ? 0 : xl < yl ? -1 : 1;
}

function sameBytes(b: Uint8Array, x: number, y: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}
