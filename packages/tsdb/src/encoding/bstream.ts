import { FormatError } from "./errors.ts";

/**
 * MSB-first bit streams, as Prometheus' chunkenc bstream: bit i of the stream is bit
 * 7-(i%8) of byte i/8, and the last byte is zero-padded. These general-purpose classes
 * serve the histogram codecs; the XOR codec inlines its own reads for speed.
 */
export class BitWriter {
  b: Uint8Array;
  /** Number of bits written. */
  nbits = 0;

  constructor(initialBytes = 128) {
    this.b = new Uint8Array(initialBytes);
  }

  reset(): void {
    this.b.fill(0, 0, (this.nbits + 7) >>> 3);
    this.nbits = 0;
  }

  private ensure(bits: number): void {
    const need = (this.nbits + bits + 7) >>> 3;
    if (need <= this.b.length) return;
    let cap = this.b.length * 2;
    while (cap < need) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.b);
    this.b = nb;
  }

  writeBit(bit: number | boolean): void {
    this.ensure(1);
    if (bit) this.b[this.nbits >>> 3]! |= 0x80 >>> (this.nbits & 7);
    this.nbits++;
  }

  /** Write the low n bits of v (0 ≤ n ≤ 32), most significant first. */
  writeBits(v: number, n: number): void {
    if (n === 0) return;
    this.ensure(n);
    v = n === 32 ? v >>> 0 : (v & ((1 << n) - 1)) >>> 0;
    const b = this.b;
    let pos = this.nbits;
    let left = n;
    while (left > 0) {
      const free = 8 - (pos & 7);
      const take = left < free ? left : free;
      const chunk = (v >>> (left - take)) & ((1 << take) - 1);
      b[pos >>> 3]! |= chunk << (free - take);
      pos += take;
      left -= take;
    }
    this.nbits = pos;
  }

  /** Write the low n bits (0 ≤ n ≤ 64) of the 64-bit value hi:lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  writeByte(v: number): void {
    this.writeBits(v & 0xff, 8);
  }

  /** The stream's bytes, final byte zero-padded (a view; valid until the next write). */
  bytes(): Uint8Array {
    return this.b.subarray(0, (this.nbits + 7) >>> 3);
  }
}

export class BitReader {
  readonly b: Uint8Array;
  /** Current bit position, from the start of `b`. */
  pos: number;
  /** End of readable data in bits. */
  readonly endBit: number;
  /** High/low halves of the last readBits64 result. */
  hi = 0;
  lo = 0;

  constructor(b: Uint8Array, startByte = 0, endByte = b.length) {
    this.b = b;
    this.pos = startByte * 8;
    this.endBit = endByte * 8;
  }

  bitsLeft(): number {
    return this.endBit - this.pos;
  }

  private underflow(n: number): never {
    throw new FormatError("invalid-size", "chunk bit stream ended early", {
      offset: this.pos >>> 3,
      expected: `${n} more bits`,
      found: `${this.endBit - this.pos}`,
    });
  }

  readBit(): number {
    if (this.pos >= this.endBit) this.underflow(1);
    const p = this.pos++;
    return (this.b[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  /** Read n bits (0 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    if (n === 0) return 0;
    if (this.pos + n > this.endBit) this.underflow(n);
    const b = this.b;
    let pos = this.pos;
    let v = 0;
    let left = n;
    while (left > 0) {
      const avail = 8 - (pos & 7);
      const take = left < avail ? left : avail;
      const bits = (b[pos >>> 3]! >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + bits; // arithmetic keeps 32-bit results unsigned
      pos += take;
      left -= take;
    }
    this.pos = pos;
    return v;
  }

  /** Read n bits (0 ≤ n ≤ 64) into this.hi / this.lo. */
  readBits64(n: number): void {
    if (n > 32) {
      this.hi = this.readBits(n - 32);
      this.lo = this.readBits(32);
    } else {
      this.hi = 0;
      this.lo = this.readBits(n);
    }
  }

  readByte(): number {
    return this.readBits(8);
  }

  /** LEB128 read bytewise through the bit stream (XOR's t0/Δt1 live there). */
  readUvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.readByte();
      if (byte < 0x80) return x + byte * mul;
      x += (byte & 0x7f) * mul;
      mul *= 128;
    }
    throw new FormatError("invalid-value", "varint longer than 10 bytes in chunk", { offset: this.pos >>> 3 });
  }

  readVarint(): number {
    const ux = this.readUvarint();
    return ux % 2 === 0 ? ux / 2 : -(ux + 1) / 2;
  }
}
