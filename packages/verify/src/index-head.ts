/**
 * The index's fixed parts (§10 items 6-9, 20, and the legacy sections' CRCs): header,
 * TOC, symbol table, postings offset table. Parsed with bounds-checked Decbufs so that
 * several problems can be reported; what is needed later (symbols, the offset table) is
 * returned, or undefined when the file is too broken to go on.
 */
import { Decbuf, compareStrings, crc32c, isValidUtf8, type ByteSource, type TOC } from "@strata/tsdb";
import { utf8Decode } from "@strata/tsdb";
import { symbolOrdinalOfOffset } from "@strata/tsdb";
import { Code, type Problems } from "./report.ts";

const FILE = "index";
const MAGIC_INDEX = 0xbaaad700;
const HEADER_LEN = 5;
const TOC_LEN = 52;
const TOC_FIELDS = ["symbols", "series", "labelIndices", "labelIndicesTable", "postings", "postingsTable"] as const;

export interface PostingsTable {
  names: string[];
  values: string[];
  /** Absolute offset of each list's len field; -1 when the entry's offset was invalid. */
  offsets: Float64Array;
}

export interface IndexHead {
  src: ByteSource;
  version: number;
  toc: TOC;
  size: number;
  /** End of the data before the TOC. */
  limit: number;
  symbols: string[];
  /** V1 only: absolute offset of each symbol, ascending (series refer to symbols by offset). */
  symbolOffsets: Float64Array | undefined;
  /** False when the symbol table is not strictly ascending: ordinals then do not order like strings. */
  symbolsSorted: boolean;
  /** Undefined when the table could not be parsed. */
  table: PostingsTable | undefined;
  /** [start, end) of the series section. */
  seriesStart: number;
  seriesEnd: number;
}

export async function readIndexHead(src: ByteSource, problems: Problems): Promise<IndexHead | undefined> {
  const size = src.size;
  if (size < HEADER_LEN + TOC_LEN) {
    problems.add({
      code: Code.OutOfBounds,
      file: FILE,
      offset: 0,
      message: "file too small for an index",
      expected: `≥ ${HEADER_LEN + TOC_LEN} bytes`,
      found: `${size} bytes`,
    });
    return undefined;
  }
  const head = await src.read(0, HEADER_LEN);
  const magic = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (magic !== MAGIC_INDEX) {
    problems.add({
      code: Code.BadMagic,
      file: FILE,
      offset: 0,
      message: "not an index file",
      expected: "0xbaaad700",
      found: `0x${magic.toString(16).padStart(8, "0")}`,
    });
    return undefined;
  }
  const version = head[4]!;
  if (version < 1 || version > 3) {
    problems.add({
      code: Code.UnsupportedVersion,
      file: FILE,
      offset: 4,
      message: "unknown index version",
      expected: "1, 2 or 3",
      found: String(version),
    });
    return undefined;
  }
  if (version !== 2)
    problems.add({
      code: Code.IndexVersion,
      file: FILE,
      offset: 4,
      message: "index version other than 2 (Thanos reads only 1 and 2; writers emit 2)",
      expected: "2",
      found: String(version),
    });

  const limit = size - TOC_LEN;
  const tb = await src.read(limit, TOC_LEN);
  const tv = new DataView(tb.buffer, tb.byteOffset, TOC_LEN);
  const want = tv.getUint32(48, false);
  const got = crc32c(tb, 0, 48);
  if (want !== got) {
    problems.add({
      code: Code.BadChecksum,
      file: FILE,
      offset: limit + 48,
      message: "TOC CRC32C mismatch",
      expected: `stored ${hex(want)}`,
      found: hex(got),
    });
    return undefined;
  }
  const toc = {} as TOC;
  let tocOk = true;
  for (let i = 0; i < TOC_FIELDS.length; i++) {
    const v = tv.getUint32(i * 8, false) * 4294967296 + tv.getUint32(i * 8 + 4, false);
    if (v > limit || (v !== 0 && v < HEADER_LEN)) {
      problems.add({
        code: Code.TocInvalid,
        file: FILE,
        offset: limit + i * 8,
        message: `TOC ${TOC_FIELDS[i]} offset outside the file`,
        expected: `0 or [${HEADER_LEN}, ${limit}]`,
        found: String(v),
      });
      tocOk = false;
    }
    toc[TOC_FIELDS[i]!] = v;
  }
  if (!tocOk) return undefined;
  if (
    toc.symbols === 0 ||
    toc.postingsTable === 0 ||
    (toc.series !== 0 && (toc.series < toc.symbols || toc.series > toc.postingsTable))
  ) {
    problems.add({
      code: Code.TocInvalid,
      file: FILE,
      offset: limit,
      message: "TOC sections out of order or missing",
      expected: "0 < symbols ≤ series ≤ postingsTable",
      found: `symbols ${toc.symbols}, series ${toc.series}, postingsTable ${toc.postingsTable}`,
    });
    return undefined;
  }

  const sym = await readSymbols(src, toc.symbols, limit, version, problems);
  if (!sym) return undefined;
  const table = await readPostingsTable(src, toc.postingsTable, limit, version, problems);
  let seriesEnd = limit;
  for (const x of [toc.labelIndices, toc.postings, toc.labelIndicesTable, toc.postingsTable]) {
    if (x !== 0 && x >= toc.series) {
      seriesEnd = x;
      break;
    }
  }
  const h: IndexHead = {
    src,
    version,
    toc,
    size,
    limit,
    symbols: sym.symbols,
    symbolOffsets: sym.offsets,
    symbolsSorted: sym.sorted,
    table,
    seriesStart: toc.series,
    seriesEnd: toc.series === 0 ? toc.series : seriesEnd,
  };
  await checkLegacy(h, problems);
  return h;
}

/** Read a `BE32 len | bytes | BE32 CRC` section; a CRC mismatch is reported and the content still returned. */
async function readFramed(
  src: ByteSource,
  at: number,
  limit: number,
  what: string,
  problems: Problems,
  requireCrc = false,
): Promise<Decbuf | undefined> {
  if (at < HEADER_LEN || at + 8 > limit) {
    problems.add({
      code: Code.OutOfBounds,
      file: FILE,
      offset: at,
      message: `${what} offset outside the file`,
      expected: `[${HEADER_LEN}, ${limit - 8}]`,
      found: String(at),
    });
    return undefined;
  }
  const lb = await src.read(at, 4);
  const len = ((lb[0]! << 24) | (lb[1]! << 16) | (lb[2]! << 8) | lb[3]!) >>> 0;
  if (at + 8 + len > limit) {
    problems.add({
      code: Code.OutOfBounds,
      file: FILE,
      offset: at,
      message: `${what} runs past the end of the data`,
      expected: `len ≤ ${limit - at - 8}`,
      found: String(len),
    });
    return undefined;
  }
  const b = await src.read(at, 8 + len);
  const want = ((b[4 + len]! << 24) | (b[5 + len]! << 16) | (b[6 + len]! << 8) | b[7 + len]!) >>> 0;
  const got = crc32c(b, 4, 4 + len);
  if (want !== got) {
    problems.add({
      code: Code.BadChecksum,
      file: FILE,
      offset: at + 4 + len,
      message: `${what} CRC32C mismatch`,
      expected: `stored ${hex(want)}`,
      found: hex(got),
    });
    if (requireCrc) return undefined;
  }
  return new Decbuf(b, { start: 4, end: 4 + len, base: at, file: FILE });
}

async function readSymbols(src: ByteSource, at: number, limit: number, version: number, problems: Problems) {
  const d = await readFramed(src, at, limit, "symbol table", problems);
  if (!d) return undefined;
  try {
    const count = d.be32();
    if (count > d.remaining())
      throw d.error("invalid-size", "symbol count exceeds the table", String(count), `≤ ${d.remaining()}`, d.pos - 4);
    const symbols = new Array<string>(count);
    const offsets = version === 1 ? new Float64Array(count) : undefined;
    const b = d.b;
    let prevStart = -1;
    let prevEnd = -1;
    let sorted = true;
    for (let i = 0; i < count; i++) {
      if (offsets) offsets[i] = d.offset();
      const at0 = d.pos;
      const n = d.uvarint();
      d.checkRemaining(n, "symbol");
      const s = d.pos;
      const e = s + n;
      if (prevStart >= 0 && compareRange(b, prevStart, prevEnd, s, e) >= 0) {
        sorted = false;
        problems.add({
          code: Code.SymbolsOutOfOrder,
          file: FILE,
          offset: d.base + at0,
          message: `symbol ${i} is not after symbol ${i - 1}`,
          expected: `> ${JSON.stringify(utf8Decode(b, prevStart, prevEnd))}`,
          found: JSON.stringify(utf8Decode(b, s, e)),
        });
      }
      if (!ascii(b, s, e) && !isValidUtf8(b.subarray(s, e))) {
        problems.add({
          code: Code.SymbolInvalidUtf8,
          file: FILE,
          offset: d.base + at0,
          message: `symbol ${i} is not valid UTF-8`,
        });
      }
      symbols[i] = utf8Decode(b, s, e);
      d.pos = e;
      prevStart = s;
      prevEnd = e;
    }
    if (d.remaining() !== 0)
      problems.add({
        code: Code.OutOfBounds,
        file: FILE,
        offset: d.offset(),
        message: "symbol table has bytes after its last symbol",
        expected: "0",
        found: `${d.remaining()} bytes`,
      });
    return { symbols, offsets, sorted };
  } catch (e) {
    problems.fromError(e, { file: FILE, what: "symbol table" });
    return undefined;
  }
}

async function readPostingsTable(
  src: ByteSource,
  at: number,
  limit: number,
  version: number,
  problems: Problems,
): Promise<PostingsTable | undefined> {
  const d = await readFramed(src, at, limit, "postings offset table", problems);
  if (!d) return undefined;
  try {
    const n = d.be32();
    if (n > d.remaining() / 4)
      throw d.error(
        "invalid-size",
        "postings offset table count exceeds the table",
        String(n),
        `≤ ${Math.floor(d.remaining() / 4)}`,
        d.pos - 4,
      );
    const names = new Array<string>(n);
    const values = new Array<string>(n);
    const offsets = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const e0 = d.pos;
      const keys = d.uvarint();
      if (keys !== 2) {
        problems.add({
          code: Code.PostingsTableInvalid,
          file: FILE,
          offset: d.base + e0,
          message: `postings offset table entry ${i} must have 2 keys`,
          expected: "2",
          found: String(keys),
        });
        return undefined;
      }
      names[i] = d.uvarintStr();
      values[i] = d.uvarintStr();
      const offAt = d.pos;
      const off = d.uvarint();
      offsets[i] = off;
      if (off < HEADER_LEN || off + 12 > limit) {
        problems.add({
          code: Code.PostingsTableInvalid,
          file: FILE,
          offset: d.base + offAt,
          message: `postings list offset of (${JSON.stringify(names[i])}, ${JSON.stringify(values[i])}) outside the file`,
          expected: `[${HEADER_LEN}, ${limit - 12}]`,
          found: String(off),
        });
        offsets[i] = -1;
      }
      if (i > 0 && version !== 1) {
        const c = compareStrings(names[i]!, names[i - 1]!) || compareStrings(values[i]!, values[i - 1]!);
        if (c <= 0) {
          problems.add({
            code: Code.PostingsTableOutOfOrder,
            file: FILE,
            offset: d.base + e0,
            message: "postings offset table not sorted by (name, value)",
            expected: `> (${JSON.stringify(names[i - 1])}, ${JSON.stringify(values[i - 1])})`,
            found: `(${JSON.stringify(names[i])}, ${JSON.stringify(values[i])})`,
          });
        }
      }
    }
    if (n === 0 || names[0] !== "" || values[0] !== "") {
      problems.add({
        code: Code.PostingsTableInvalid,
        file: FILE,
        offset: at,
        message: 'the all-postings entry ("", "") is not first in the postings offset table',
        expected: '("", "")',
        found: n === 0 ? "empty table" : `(${JSON.stringify(names[0])}, ${JSON.stringify(values[0])})`,
      });
    }
    return { names, values, offsets };
  } catch (e) {
    problems.fromError(e, { file: FILE, code: Code.PostingsTableInvalid, what: "postings offset table" });
    return undefined;
  }
}

/** Label offset table and label indices (written before Prometheus 3.7): CRCs, counts, symbol refs. */
async function checkLegacy(h: IndexHead, problems: Problems): Promise<void> {
  const t = h.toc.labelIndicesTable;
  if (t === 0 || t === h.toc.postingsTable) return;
  const d = await readFramed(h.src, t, h.limit, "label offset table", problems, true);
  if (!d) return;
  try {
    const n = d.be32();
    if (n > d.remaining() / 3)
      throw d.error("invalid-size", "label offset table count exceeds the table", String(n), undefined, d.pos - 4);
    for (let i = 0; i < n; i++) {
      const k = d.uvarint();
      if (k > d.remaining()) throw d.error("invalid-size", "label offset table key count exceeds the table", String(k));
      for (let j = 0; j < k; j++) d.uvarintStr();
      const off = d.uvarint();
      const li = await readFramed(h.src, off, h.limit, "label index", problems, true);
      if (!li) continue;
      const width = li.be32();
      const count = li.be32();
      if (width !== k || li.remaining() !== 4 * width * count) {
        problems.add({
          code: Code.OutOfBounds,
          file: FILE,
          offset: off,
          message: "label index size does not match its counts",
          expected: `len = 8 + 4·${k}·count`,
          found: `len ${li.remaining() + 8}, ${width} names × ${count}`,
        });
        continue;
      }
      for (let j = 0; j < width * count; j++) {
        const at = li.offset();
        const ref = li.be32();
        if (!validSymbolRef(h, ref)) {
          problems.add({
            code: Code.SymbolRefOutOfRange,
            file: FILE,
            offset: at,
            message: "label index refers to an unknown symbol",
            expected: refRange(h),
            found: String(ref),
          });
          break;
        }
      }
    }
  } catch (e) {
    problems.fromError(e, { file: FILE, what: "label offset table" });
  }
}

/** Ordinal of a symbol reference (V2: the ordinal itself; V1: an offset), or -1. */
export function symbolOrdinal(h: IndexHead, ref: number): number {
  const offs = h.symbolOffsets;
  if (offs === undefined) return ref < h.symbols.length ? ref : -1;
  return symbolOrdinalOfOffset(offs, ref);
}

function validSymbolRef(h: IndexHead, ref: number): boolean {
  return symbolOrdinal(h, ref) >= 0;
}

export function refRange(h: IndexHead): string {
  return h.symbolOffsets ? "the offset of a symbol table entry" : `< ${h.symbols.length}`;
}

/** Ordinal of a symbol string, or -1 (binary search; a linear scan when the table is unsorted). */
export function findSymbol(h: IndexHead, s: string): number {
  const symbols = h.symbols;
  if (!h.symbolsSorted) return symbols.indexOf(s);
  let lo = 0;
  let hi = symbols.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareStrings(symbols[mid]!, s) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < symbols.length && symbols[lo] === s ? lo : -1;
}

function compareRange(b: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const x = b[as + i]!;
    const y = b[bs + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ae - as - (be - bs);
}

function ascii(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return false;
  return true;
}

function hex(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}
