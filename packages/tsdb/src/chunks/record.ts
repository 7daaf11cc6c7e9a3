/**
 * One stored chunk record, `uvarint len | encoding | data | BE32 CRC32C` (the CRC covers
 * the encoding byte and the data), framed and checked apart from any segment file: a
 * producer on another thread frames records the writer then copies as read ones, and a
 * consumer on another thread checks the records it was handed.
 */
import { crc32c } from "../encoding/crc32c.ts";
import { uvarintSize } from "../encoding/encbuf.ts";
import { CHUNK_CRC_SIZE, MAX_CHUNK_LENGTH_FIELD_SIZE } from "./format.ts";

/** Size of the stored record of a chunk holding `dataLength` bytes of data. */
export function chunkRecordSize(dataLength: number): number {
  return uvarintSize(dataLength) + 1 + dataLength + CHUNK_CRC_SIZE;
}

/**
 * Write the stored record of a chunk into `out` at `at`; returns the end. `out` must have
 * room for chunkRecordSize(data.length) bytes.
 */
export function writeChunkRecord(out: Uint8Array, at: number, encoding: number, data: Uint8Array): number {
  const len = data.length;
  let p = at;
  let v = len;
  while (v >= 0x80) {
    out[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  const encAt = p + 1;
  out[p] = v;
  out[encAt] = encoding;
  out.set(data, encAt + 1);
  p = encAt + 1 + len;
  const crc = crc32c(out, encAt, p);
  out[p] = crc >>> 24;
  out[p + 1] = (crc >>> 16) & 0xff;
  out[p + 2] = (crc >>> 8) & 0xff;
  out[p + 3] = crc & 0xff;
  return p + CHUNK_CRC_SIZE;
}

/**
 * Offset of the encoding byte in a record whose framing a reader has already checked
 * (`ChunkReader.record()`): its data runs from there + 1 to length − 4.
 */
export function chunkRecordEncodingAt(record: Uint8Array): number {
  let p = 0;
  while (p < MAX_CHUNK_LENGTH_FIELD_SIZE && p < record.length && record[p]! >= 0x80) p++;
  return p + 1;
}

/** Does the record's stored CRC32C match its encoding byte and data? */
export function chunkRecordCrcOk(record: Uint8Array): boolean {
  const encAt = chunkRecordEncodingAt(record);
  const end = record.length - CHUNK_CRC_SIZE;
  if (end < encAt + 1) return false;
  const stored = ((record[end]! << 24) | (record[end + 1]! << 16) | (record[end + 2]! << 8) | record[end + 3]!) >>> 0;
  return crc32c(record, encAt, end) === stored;
}
