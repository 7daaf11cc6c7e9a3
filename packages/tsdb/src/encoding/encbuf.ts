import { crc32c } from "./crc32c.ts";
import { encodeInto, utf8Length } from "./utf8.ts";

/**
 * A growable byte buffer for writers, after Prometheus' encoding.Encbuf. One instance is
 * reused across entries (`reset()`), so steady-state writing allocates nothing.
 */
export class Encbuf {
  b: Uint8Array;
  view: DataView;
  len = 0;

  constructor(initial = 4096) {
    this.b = new Uint8Array(initial);
    this.view = new DataView(this.b.buffer);
  }

  reset(): void {
    this.len = 0;
  }

  /** Make room for n more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.b.length) return;
    let cap = this.b.length * 2;
    while (cap < need) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.b.subarray(0, this.len));
    this.b = nb;
    this.view = new DataView(nb.buffer);
  }

  /** The written bytes (a view: valid until the next write or reset). */
  bytes(): Uint8Array {
    return this.b.subarray(0, this.len);
  }

  putU8(v: number): void {
    this.reserve(1);
    this.b[this.len++] = v;
  }

  putBE16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.len, v, false);
    this.len += 2;
  }

  putBE32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v >>> 0, false);
    this.len += 4;
  }

  /** Unsigned 64-bit big-endian; v must be a non-negative safe integer. */
  putBE64(v: number): void {
    this.reserve(8);
    this.view.setUint32(this.len, Math.floor(v / 4294967296), false);
    this.view.setUint32(this.len + 4, v >>> 0, false);
    this.len += 8;
  }

  setBE32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, false);
  }

  /** LEB128 of a non-negative safe integer (arithmetic, not 32-bit shifts). */
  putUvarint(v: number): void {
    this.reserve(10);
    this.len = putUvarintAt(this.b, this.len, v);
  }

  /** Zigzag varint of a safe integer. */
  putVarint(v: number): void {
    this.putUvarint(v < 0 ? -2 * v - 1 : 2 * v);
  }

  putBytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.b.set(src, this.len);
    this.len += src.length;
  }

  putUvarintBytes(src: Uint8Array): void {
    this.putUvarint(src.length);
    this.putBytes(src);
  }

  putUvarintStr(s: string): void {
    const n = utf8Length(s);
    this.putUvarint(n);
    this.reserve(n);
    this.len += encodeInto(s, this.b, this.len);
  }

  putZeros(n: number): void {
    this.reserve(n);
    this.b.fill(0, this.len, this.len + n);
    this.len += n;
  }

  /** Append BE32 CRC32C of bytes [start, len). */
  putCrc32c(start: number): void {
    this.putBE32(crc32c(this.b, start, this.len));
  }
}

/**
 * LEB128 of a non-negative safe integer written at b[p] (room for 10 bytes is the caller's
 * to ensure); returns the position after it. For writers that fill a buffer directly.
 */
export function putUvarintAt(b: Uint8Array, p: number, v: number): number {
  // Division only above 2^31; below it integer shifts are exact and ~2x faster.
  while (v >= 0x80000000) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

/** Bytes a uvarint of v takes. */
export function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
