/** A growable byte buffer: the one place the parquet writer appends bytes to. */
export class ByteBuf {
  buf: Uint8Array;
  len = 0;
  constructor(cap = 1024) {
    this.buf = new Uint8Array(cap);
  }
  reset(): void {
    this.len = 0;
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32le(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.len] = v & 0xff;
    b[this.len + 1] = (v >>> 8) & 0xff;
    b[this.len + 2] = (v >>> 16) & 0xff;
    b[this.len + 3] = (v >>> 24) & 0xff;
    this.len += 4;
  }
  /** Unsigned LEB128 of a non-negative safe integer. */
  uvarint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  /** Unsigned LEB128 of a 64-bit value. */
  uvarintBig(v: bigint): void {
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }
  /** Zigzag LEB128 of a safe integer (Go's binary.PutVarint). */
  varint(v: number): void {
    if (Number.isSafeInteger(v) && Math.abs(v) < 2 ** 52) this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
    else {
      const b = BigInt(v);
      this.uvarintBig(b >= 0n ? b << 1n : (-b << 1n) - 1n);
    }
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  copy(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
