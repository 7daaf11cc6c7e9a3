/**
 * Chunk segment file constants and chunk references (P: tsdb/chunks/chunks.go).
 *
 * A block's `chunks/` directory holds segment files named by a 6-digit sequence number
 * starting at 000001. A chunk ref packs the 0-based index of the segment in the sorted
 * file list (not its file number) with the record's byte offset inside that file.
 */

/** BE32 at offset 0 of every segment. */
export const MAGIC_CHUNKS = 0x85bd40dd;
/** u8 at offset 4; 3 zero bytes of padding follow. */
export const CHUNKS_FORMAT_V1 = 1;
/** magic(4) + version(1) + padding(3); the first record starts here. */
export const SEGMENT_HEADER_SIZE = 8;
/** Prometheus' DefaultChunkSegmentSize. */
export const DEFAULT_SEGMENT_SIZE = 512 * 1024 * 1024;
/** Longest length prefix a reader accepts (Go binary.MaxVarintLen32). */
export const MAX_CHUNK_LENGTH_FIELD_SIZE = 5;
/** Bytes after the data: the BE32 CRC32C of encoding byte + data. */
export const CHUNK_CRC_SIZE = 4;

/** A segment file: its name under `chunks/` (e.g. "000001") and its size in bytes. */
export interface SegmentInfo {
  name: string;
  size: number;
}

const TWO_32 = 4294967296;
/** Segment indices below this keep `segment * 2^32 + offset` exact in a double. */
export const MAX_SEGMENT_INDEX = 2 ** 21 - 1;

/**
 * Pack a block chunk ref (Go `segment<<32 | offset`). Arithmetic rather than bit ops:
 * the result exceeds 2^31 as soon as the segment index is non-zero.
 */
export function packChunkRef(segmentIndex: number, offset: number): number {
  if (!(Number.isInteger(segmentIndex) && segmentIndex >= 0 && segmentIndex <= MAX_SEGMENT_INDEX)) {
    throw new RangeError(`segment index ${segmentIndex} outside [0, ${MAX_SEGMENT_INDEX}]`);
  }
  if (!(Number.isInteger(offset) && offset >= 0 && offset < TWO_32)) {
    throw new RangeError(`segment offset ${offset} outside [0, 2^32)`);
  }
  return segmentIndex * TWO_32 + offset;
}

/** 0-based index into the sorted list of segment files. */
export function chunkRefSegment(ref: number): number {
  return Math.floor(ref / TWO_32);
}

/** Byte offset of the record inside its segment file (header included). */
export function chunkRefOffset(ref: number): number {
  return ref % TWO_32;
}

/** File name of segment number n (1-based): Go's `%0.6d`, so 6 digits minimum, more if needed. */
export function segmentFileName(n: number): string {
  return String(n).padStart(6, "0");
}

const UINT64_MAX_DIGITS = "18446744073709551615";

/**
 * The sequence number of a chunk file name, or undefined when Go's
 * `strconv.ParseUint(name, 10, 64)` would reject it (such files are not segments).
 * Numbers above 2^53 come back rounded; they only matter for sorting, which uses names.
 */
export function parseSegmentFileName(name: string): number | undefined {
  if (name.length === 0) return undefined;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  // Beyond uint64: strip leading zeros and compare as digit strings.
  const digits = name.replace(/^0+(?=\d)/, "");
  if (digits.length > UINT64_MAX_DIGITS.length) return undefined;
  if (digits.length === UINT64_MAX_DIGITS.length && digits > UINT64_MAX_DIGITS) return undefined;
  return Number(digits);
}

/** Human name of segment file `name` as used in errors: `chunks/000001`. */
export function segmentPath(name: string): string {
  return `chunks/${name}`;
}
