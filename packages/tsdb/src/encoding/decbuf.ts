import { crc32c } from "./crc32c.ts";
import { FormatError } from "./errors.ts";
import { utf8Decode } from "./utf8.ts";

export interface DecbufOptions {
  /** First readable index into `b` (default 0). */
  start?: number;
  /** End of readable data, exclusive (default b.length). */
  end?: number;
  /** Absolute file offset of b[0], so errors name real file offsets. */
  base?: number;
  /** File name used in errors. */
  file?: string;
}

/**
 * A bounds-checked cursor over bytes, after Prometheus' encoding.Decbuf. Every read checks
 * that the bytes exist and throws a FormatError naming the absolute offset otherwise, so
 * a corrupted length can never make us read (or allocate) past the data we hold.
 * Integers above 2^53 come back as the nearest double; callers that need exactness
 * (refs, lengths) compare against bounds, which such values always fail.
 */
export class Decbuf {
  readonly b: Uint8Array;
  readonly view: DataView;
  pos: number;
  end: number;
  readonly base: number;
  readonly file: string | undefined;

  constructor(b: Uint8Array, opts: DecbufOptions = {}) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = opts.start ?? 0;
    this.end = opts.end ?? b.length;
    this.base = opts.base ?? 0;
    this.file = opts.file;
    if (this.end > b.length || this.pos > this.end || this.pos < 0) {
      throw this.error(
        "invalid-size",
        "decoding window outside the data",
        `[${this.pos},${this.end}) within ${b.length} bytes`,
      );
    }
  }

  /**
   * A Decbuf over a section framed as `BE32 len | len bytes | BE32 CRC32C(those bytes)`,
   * as the symbol table, postings lists and the postings offset table are. Checks the
   * bounds and the CRC before any field is parsed.
   */
  static framedAt(b: Uint8Array, at: number, opts: Omit<DecbufOptions, "start" | "end"> = {}): Decbuf {
    const d = new Decbuf(b, { ...opts, start: at });
    const len = d.be32();
    d.checkRemaining(len + 4, "section length");
    const start = d.pos;
    d.verifyCrc(start, start + len);
    return new Decbuf(b, { ...opts, start, end: start + len });
  }

  /** Absolute file offset of the cursor. */
  offset(): number {
    return this.base + this.pos;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  error(code: FormatError["code"], message: string, found?: string, expected?: string, at = this.pos): FormatError {
    return new FormatError(code, message, { file: this.file, offset: this.base + at, found, expected });
  }

  checkRemaining(n: number, what: string): void {
    if (n > this.end - this.pos || n < 0) {
      throw this.error(
        "invalid-size",
        `${what} runs past the end of the data`,
        `${n} bytes needed, ${this.end - this.pos} left`,
      );
    }
  }

  /** Verify that BE32 CRC32C stored at b[end, end+4) matches b[start, end). Moves nothing. */
  verifyCrc(start: number, end: number): void {
    if (end + 4 > this.b.length)
      throw this.error("invalid-size", "checksum runs past the end of the data", undefined, undefined, end);
    const want = this.view.getUint32(end, false);
    const got = crc32c(this.b, start, end);
    if (want !== got) {
      throw this.error("invalid-checksum", "CRC32C mismatch", hex32(got), `stored ${hex32(want)}`, end);
    }
  }

  u8(): number {
    if (this.pos >= this.end) this.checkRemaining(1, "byte");
    return this.b[this.pos++]!;
  }

  be16(): number {
    this.checkRemaining(2, "16-bit integer");
    const v = this.view.getUint16(this.pos, false);
    this.pos += 2;
    return v;
  }

  be32(): number {
    this.checkRemaining(4, "32-bit integer");
    const v = this.view.getUint32(this.pos, false);
    this.pos += 4;
    return v;
  }

  be64(): number {
    this.checkRemaining(8, "64-bit integer");
    const hi = this.view.getUint32(this.pos, false);
    const lo = this.view.getUint32(this.pos + 4, false);
    this.pos += 8;
    return hi * 4294967296 + lo;
  }

  /** LEB128 unsigned varint, at most 10 bytes (Go binary.Uvarint). */
  uvarint(): number {
    const b = this.b;
    let p = this.pos;
    if (p < this.end) {
      const first = b[p]!;
      if (first < 0x80) {
        this.pos = p + 1;
        return first;
      }
    }
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw this.error("invalid-size", "varint runs past the end of the data");
      const byte = b[p++]!;
      if (byte < 0x80) {
        if (i === 9 && byte > 1) throw this.error("invalid-value", "varint overflows 64 bits");
        this.pos = p;
        return x + byte * mul;
      }
      x += (byte & 0x7f) * mul;
      mul *= 128;
    }
    throw this.error("invalid-value", "varint longer than 10 bytes");
  }

  /** Unsigned varint of at most 5 bytes and 32 bits, as Go's Uvarint32 for lengths. */
  uvarint32(): number {
    const at = this.pos;
    const v = this.uvarint();
    if (this.pos - at > 5 || v > 0xffffffff) {
      throw this.error("invalid-value", "32-bit varint too large", String(v), "≤ 2^32-1", at);
    }
    return v;
  }

  /** Zigzag signed varint (Go binary.Varint). */
  varint(): number {
    // The zigzag sign is bit 0 of the first byte; take it from there, because above 2^53
    // the decoded magnitude is rounded and its parity (the sign) would be lost.
    const negative = this.pos < this.end && (this.b[this.pos]! & 1) === 1;
    const ux = this.uvarint();
    return negative ? -(ux + 1) / 2 : ux / 2;
  }

  bytes(n: number): Uint8Array {
    this.checkRemaining(n, "byte string");
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  uvarintBytes(): Uint8Array {
    const n = this.uvarint();
    return this.bytes(n);
  }

  uvarintStr(): string {
    const n = this.uvarint();
    this.checkRemaining(n, "string");
    const s = utf8Decode(this.b, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  skip(n: number): void {
    this.checkRemaining(n, "skipped bytes");
    this.pos += n;
  }
}

export function hex32(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}
