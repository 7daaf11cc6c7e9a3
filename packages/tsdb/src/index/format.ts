/**
 * Index file constants, limits and the table of contents (P: tsdb/index/index.go).
 * See docs/format/index.md for the byte layout.
 */
import { crc32c } from "../encoding/crc32c.ts";
import { hex32 } from "../encoding/decbuf.ts";
import type { Encbuf } from "../encoding/encbuf.ts";
import { FormatError } from "../encoding/errors.ts";

export const INDEX_FILE = "index";
export const MAGIC_INDEX = 0xbaaad700;
/** Magic (4) + version (1). */
export const HEADER_LEN = 5;
export const FORMAT_V1 = 1;
export const FORMAT_V2 = 2;
/** Reserved by Prometheus; read like V2. */
export const FORMAT_V3 = 3;
/** Six BE64 section offsets + BE32 CRC. */
export const TOC_LEN = 6 * 8 + 4;
/** V2 series entries start at multiples of 16 so a 32-bit id (offset/16) addresses 64 GiB. */
export const SERIES_ALIGN = 16;
/** Postings lists (and legacy label indices) start 4-aligned. */
export const POSTINGS_ALIGN = 4;
export const MAX_U32 = 0xffffffff;
/** Prometheus refuses to grow an index past 16 * (2^32 - 1) bytes. */
export const MAX_INDEX_SIZE = SERIES_ALIGN * MAX_U32;

/** Where each section starts; 0 means "absent" (the header occupies offset 0). */
export interface TOC {
  symbols: number;
  series: number;
  labelIndices: number;
  labelIndicesTable: number;
  postings: number;
  postingsTable: number;
}

const TOC_FIELDS = ["symbols", "series", "labelIndices", "labelIndicesTable", "postings", "postingsTable"] as const;

/** Append the 52-byte TOC. */
export function encodeToc(e: Encbuf, toc: TOC): void {
  const start = e.len;
  for (const f of TOC_FIELDS) e.putBE64(toc[f]);
  e.putCrc32c(start);
}

/**
 * Parse the TOC from the last TOC_LEN bytes of a file of `fileSize` bytes. Checks the CRC
 * and that every offset lies inside the part of the file before the TOC.
 */
export function decodeToc(b: Uint8Array, fileSize: number, file = INDEX_FILE): TOC {
  const base = fileSize - TOC_LEN;
  if (b.length !== TOC_LEN || base < HEADER_LEN) {
    throw new FormatError("invalid-size", "file too small for an index", {
      file,
      offset: 0,
      expected: `≥ ${HEADER_LEN + TOC_LEN} bytes`,
      found: `${fileSize} bytes`,
    });
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const want = view.getUint32(48, false);
  const got = crc32c(b, 0, 48);
  if (want !== got) {
    throw new FormatError("invalid-checksum", "TOC CRC32C mismatch", {
      file,
      offset: base + 48,
      expected: `stored ${hex32(want)}`,
      found: hex32(got),
    });
  }
  const toc = {} as TOC;
  for (let i = 0; i < TOC_FIELDS.length; i++) {
    const v = view.getUint32(i * 8, false) * 4294967296 + view.getUint32(i * 8 + 4, false);
    if (v > base) {
      throw new FormatError("invalid-size", `TOC ${TOC_FIELDS[i]} offset points past the end of the data`, {
        file,
        offset: base + i * 8,
        expected: `≤ ${base}`,
        found: String(v),
      });
    }
    toc[TOC_FIELDS[i]!] = v;
  }
  return toc;
}

/**
 * Ordinal of a V1 symbol reference (an absolute file offset) among the symbol table's
 * entry offsets (ascending), or -1 when no entry starts there.
 */
export function symbolOrdinalOfOffset(offsets: Float64Array, ref: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! < ref) lo = mid + 1;
    else hi = mid;
  }
  return lo < offsets.length && offsets[lo] === ref ? lo : -1;
}

/** V2 series id for an entry at `offset`; throws once the id would not fit 32 bits. */
export function seriesIdForOffset(offset: number, file = INDEX_FILE): number {
  if (offset % SERIES_ALIGN !== 0) {
    throw new FormatError("invalid-value", "series entry not 16-byte aligned", {
      file,
      offset,
      expected: "offset % 16 == 0",
      found: String(offset % SERIES_ALIGN),
    });
  }
  const id = offset / SERIES_ALIGN;
  if (id > MAX_U32) {
    throw new FormatError("invalid-size", "series offset exceeds the index format's 32-bit series id space (64 GiB)", {
      file,
      offset,
      expected: `id ≤ ${MAX_U32}`,
      found: String(id),
    });
  }
  return id;
}

/** Throw when a section's BE32 length field cannot hold `len`. */
export function checkSectionLength(len: number, what: string, offset: number, file = INDEX_FILE): void {
  if (len > MAX_U32) {
    throw new FormatError("invalid-size", `${what} too large for its 32-bit length field`, {
      file,
      offset,
      expected: `≤ ${MAX_U32} bytes`,
      found: `${len} bytes`,
    });
  }
}

/** Throw when the file would grow past MAX_INDEX_SIZE. */
export function checkIndexSize(pos: number, file = INDEX_FILE): void {
  if (pos > MAX_INDEX_SIZE) {
    throw new FormatError("invalid-size", "index exceeds the format's maximum size of 16·(2^32−1) bytes", {
      file,
      offset: pos,
      expected: `≤ ${MAX_INDEX_SIZE} bytes`,
      found: `${pos} bytes`,
    });
  }
}

/** Bytes needed to pad `pos` up to a multiple of `align`. */
export function paddingFor(pos: number, align: number): number {
  const r = pos % align;
  return r === 0 ? 0 : align - r;
}
