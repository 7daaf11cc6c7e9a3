/**
 * Writer for Prometheus' XOR chunk (see xor.ts and docs/format/chunks-xor.md),
 * producing the bytes a Prometheus v3 appender produces for the same samples.
 */

/** The appender refuses sample 65536: the header count is a BE16. */
export const XOR_MAX_SAMPLES = 65535;

// ---------------------------------------------------------------------------------
// Encoding. Bits gather MSB-first in the int32 `acc`, whose low `free` bits are still
// unused, and leave as whole big-endian words; bytes() turns words into bytes once.
// The hot loop keeps that state in locals; the rare paths (samples 0 and 1, 64-bit
// dods) go through the field-based putBits.
// ---------------------------------------------------------------------------------

/** Worst case bits per sample: 4+64 for the dod, 2+11+64 for the value. */
const MAX_SAMPLE_BITS = 145;

/**
 * Incremental XOR chunk writer with Prometheus' appender semantics. reset() starts a new
 * chunk; bytes() copies out the chunk so far (header included) and appending may go on.
 */
export class XOREncoder {
  private w = new Int32Array(64);
  private wi = 0;
  private acc = 0;
  private free = 16; // bits 0-15 hold the sample count, patched by bytes()
  private n = 0;
  private t = 0;
  private tDelta = 0;
  private vHi = 0;
  private vLo = 0;
  /** Writer window; 0xff = none yet, so the first non-zero XOR writes the `11` form. */
  private wL = 0xff;
  private wT = 0;
  private oneT = new Float64Array(1);
  private oneV = new Float64Array(1);
  private oneV32 = new Int32Array(this.oneV.buffer);

  reset(): void {
    this.wi = 0;
    this.acc = 0;
    this.free = 16;
    this.n = 0;
    this.t = 0;
    this.tDelta = 0;
    this.vHi = 0;
    this.vLo = 0;
    this.wL = 0xff;
    this.wT = 0;
  }

  get numSamples(): number {
    return this.n;
  }

  append(t: number, v: number): void {
    this.oneT[0] = t;
    this.oneV[0] = v;
    this.appendRange(this.oneT, this.oneV32, 0, 1);
  }

  /**
   * Append samples [start, end) of ts with values from v32 (halves of the values'
   * Float64Array: low at 2i, high at 2i+1).
   */
  appendRange(ts: Float64Array, v32: Int32Array, start: number, end: number): void {
    if (start < 0 || end < start || end > ts.length || 2 * end > v32.length) {
      throw new RangeError(
        `XOREncoder.appendRange: [${start}, ${end}) outside ts ${ts.length} / values ${v32.length / 2}`,
      );
    }
    if (this.n + (end - start) > XOR_MAX_SAMPLES) throw new RangeError("XOR chunk capacity (65535 samples) exceeded");
    const needWords = this.wi + 8 + Math.ceil(((end - start) * MAX_SAMPLE_BITS) / 32);
    if (needWords > this.w.length) {
      const nw = new Int32Array(Math.max(needWords, this.w.length * 2));
      nw.set(this.w.subarray(0, this.wi));
      this.w = nw;
    }
    const w = this.w;
    let wi = this.wi;
    let acc = this.acc;
    let free = this.free;
    let n = this.n;
    let t = this.t;
    let tDelta = this.tDelta;
    let vHi = this.vHi;
    let vLo = this.vLo;
    let wL = this.wL;
    let wT = this.wT;
    for (let i = start; i < end; i++) {
      const tt = ts[i]!;
      const hi = v32[2 * i + 1]!;
      const lo = v32[2 * i]!;
      const d = tt - t;
      const dod = d - tDelta;
      // Time bits (prefix + payload) to write; pn stays 0 on the rare paths.
      let pv = 0;
      let pn = 0;
      // `(dod | 0) === dod` sends non-integer dods to the rare path, which rejects them.
      if (n >= 2 && (dod | 0) === dod) {
        if (dod === 0) {
          pn = 1;
        } else if (dod >= -8191 && dod <= 8192) {
          pv = 0x8000 | (dod & 0x3fff);
          pn = 16;
        } else if (dod >= -65535 && dod <= 65536) {
          pv = 0xc0000 | (dod & 0x1ffff);
          pn = 20;
        } else if (dod >= -524287 && dod <= 524288) {
          pv = 0xe00000 | (dod & 0xfffff);
          pn = 24;
        }
      }
      if (pn === 0) {
        // Rare: sample 0 or 1, or a 64-bit dod. Hand the state to the field-based path
        // (all of it, so a rejected timestamp leaves a consistent encoder behind).
        this.wi = wi;
        this.acc = acc;
        this.free = free;
        this.n = n;
        this.t = t;
        this.tDelta = tDelta;
        this.vHi = vHi;
        this.vLo = vLo;
        this.wL = wL;
        this.wT = wT;
        this.appendRare(tt, hi, lo, n, d, dod);
        wi = this.wi;
        acc = this.acc;
        free = this.free;
        wL = this.wL;
        wT = this.wT;
        n++;
        t = tt;
        tDelta = n === 1 ? 0 : d;
        vHi = hi;
        vLo = lo;
        continue;
      }
      const xh = hi ^ vHi;
      const xl = lo ^ vLo;
      if ((xh | xl) === 0) {
        // Value unchanged: one more `0` bit after the time bits.
        pv <<= 1;
        pn++;
      }
      // put(pv, pn), pn ≤ 25
      if (pn < free) {
        free -= pn;
        acc |= pv << free;
      } else {
        const over = pn - free;
        w[wi++] = acc | (pv >>> over);
        free = 32 - over;
        acc = (pv << 1) << (free - 1);
      }
      if ((xh | xl) !== 0) {
        // Leading zeros clamped to 31 (5 bits); trailing zeros of the 64-bit XOR.
        const l = xh !== 0 ? Math.clz32(xh) : 31;
        const tz = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 63 - Math.clz32(xh & -xh);
        let cv: number;
        let cn: number;
        if (wL !== 0xff && l >= wL && tz >= wT) {
          cv = 2;
          cn = 2;
        } else {
          wL = l;
          wT = tz;
          cv = 0x1800 | (l << 6) | ((64 - l - tz) & 63); // `11`, L, sig (64 stored as 0)
          cn = 13;
        }
        // Bits [wL, 64-wT) of the XOR (the bits above wL are zero), as one or two words.
        let av: number;
        let an: number;
        let bn = 0;
        let bv = 0;
        if (wT >= 32) {
          av = xh >>> (wT - 32);
          an = 64 - wL - wT;
        } else {
          av = xh;
          an = 32 - wL;
          bv = xl >>> wT;
          bn = 32 - wT;
        }
        // Prefix the control bits to the first part when they fit in 32 bits.
        if (an + cn <= 32) {
          av = (cv << an) | av;
          an += cn;
        } else {
          if (cn < free) {
            free -= cn;
            acc |= cv << free;
          } else {
            const over = cn - free;
            w[wi++] = acc | (cv >>> over);
            free = 32 - over;
            acc = (cv << 1) << (free - 1);
          }
        }
        if (an < free) {
          free -= an;
          acc |= av << free;
        } else {
          const over = an - free;
          w[wi++] = acc | (av >>> over);
          free = 32 - over;
          acc = (av << 1) << (free - 1);
        }
        if (bn > 0) {
          if (bn < free) {
            free -= bn;
            acc |= bv << free;
          } else {
            const over = bn - free;
            w[wi++] = acc | (bv >>> over);
            free = 32 - over;
            acc = (bv << 1) << (free - 1);
          }
        }
      }
      n++;
      t = tt;
      tDelta = d;
      vHi = hi;
      vLo = lo;
    }
    this.wi = wi;
    this.acc = acc;
    this.free = free;
    this.n = n;
    this.t = t;
    this.tDelta = tDelta;
    this.vHi = vHi;
    this.vLo = vLo;
    this.wL = wL;
    this.wT = wT;
  }

  /** Samples 0 and 1 (byte-aligned varints) and 64-bit dods. */
  private appendRare(t: number, hi: number, lo: number, n: number, d: number, dod: number): void {
    // Timestamps are int64 in Prometheus; only safe integers convert exactly. Checking
    // t0, Δt1 and every dod keeps every timestamp an integer.
    if (!Number.isSafeInteger(t) || (n >= 1 && !Number.isSafeInteger(d)) || (n >= 2 && !Number.isSafeInteger(dod))) {
      throw new RangeError(`XOR sample ${n}: timestamp ${t} is not a safe integer step from ${this.t}`);
    }
    if (n === 0) {
      this.putVarint(t);
      this.putBits(hi, 32);
      this.putBits(lo, 32);
      return;
    }
    if (n === 1) {
      this.putUvarint64(d);
    } else {
      const dh = Math.floor(dod / 4294967296);
      this.putBits(0xf, 4);
      this.putBits(dh, 32);
      this.putBits(dod - dh * 4294967296, 32);
    }
    this.putValue(hi, lo);
  }

  /** Write the low n (1..32) bits of v. */
  private putBits(v: number, n: number): void {
    if (n < 32) v &= (1 << n) - 1;
    let free = this.free;
    if (n < free) {
      free -= n;
      this.acc |= v << free;
    } else {
      const over = n - free;
      this.w[this.wi++] = this.acc | (v >>> over);
      free = 32 - over;
      this.acc = (v << 1) << (free - 1);
    }
    this.free = free;
  }

  private putValue(hi: number, lo: number): void {
    const xh = hi ^ this.vHi;
    const xl = lo ^ this.vLo;
    if ((xh | xl) === 0) {
      this.putBits(0, 1);
      return;
    }
    const l = xh !== 0 ? Math.clz32(xh) : 31;
    const tz = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 63 - Math.clz32(xh & -xh);
    if (this.wL !== 0xff && l >= this.wL && tz >= this.wT) {
      this.putBits(2, 2);
    } else {
      this.wL = l;
      this.wT = tz;
      this.putBits(0x1800 | (l << 6) | ((64 - l - tz) & 63), 13);
    }
    const wl = this.wL;
    const wt = this.wT;
    if (wt >= 32) {
      this.putBits(xh >>> (wt - 32), 64 - wl - wt);
    } else {
      this.putBits(xh, 32 - wl);
      this.putBits(xl >>> wt, 32 - wt);
    }
  }

  /** Zigzag varint of a safe integer, via halves so odd values near 2^53 stay exact. */
  private putVarint(t: number): void {
    const neg = t < 0;
    const u = neg ? -t - 1 : t; // zigzag(t) = 2u + neg
    const h = Math.floor(u / 4294967296);
    const l = u - h * 4294967296;
    this.putUvarintHalves(((h << 1) | (l >>> 31)) >>> 0, ((l << 1) | (neg ? 1 : 0)) >>> 0);
  }

  /** Uvarint of uint64(d) for a safe integer d (negative deltas wrap to 10 bytes). */
  private putUvarint64(d: number): void {
    const h = Math.floor(d / 4294967296);
    this.putUvarintHalves(h >>> 0, (d - h * 4294967296) >>> 0);
  }

  private putUvarintHalves(hi: number, lo: number): void {
    while (hi !== 0 || lo >= 0x80) {
      this.putBits((lo & 0x7f) | 0x80, 8);
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.putBits(lo, 8);
  }

  /** Byte length of the chunk so far. */
  get byteLength(): number {
    return this.wi * 4 + ((32 - this.free + 7) >>> 3);
  }

  /** The chunk's data bytes (header included), in a fresh array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.bytesInto(out, new DataView(out.buffer), 0);
    return out;
  }

  /**
   * Write the chunk so far (header included, `byteLength` bytes) into `out` at `at`, through
   * `view` (a DataView over the same memory as `out`), and return the end offset. Lets a
   * writer assemble many chunks (an aggregate chunk's five parts) in one reused buffer.
   */
  bytesInto(out: Uint8Array, view: DataView, at: number): number {
    const len = this.byteLength;
    if (at < 0 || at + len > out.length)
      throw new RangeError(`XOREncoder.bytesInto: ${len} bytes at ${at} do not fit ${out.length}`);
    const w = this.w;
    const full = this.wi;
    const base = out.byteOffset - view.byteOffset;
    // Whole words as big-endian int32 stores; the partial last word byte by byte.
    let j = at;
    for (let i = 0; i < full; i++, j += 4) view.setInt32(base + j, w[i]!, false);
    const end = at + len;
    for (let sh = 24, x = this.acc; j < end; j++, sh -= 8) out[j] = x >>> sh;
    out[at] = this.n >>> 8;
    out[at + 1] = this.n;
    return end;
  }
}

const shared = new XOREncoder();
let lastEncVs: Float64Array | undefined;
let lastEncV32: Int32Array = new Int32Array(0);

/** Encode samples [start, end) into a fresh XOR chunk (data bytes, header included). */
export function encodeXOR(ts: Float64Array, vs: Float64Array, start: number, end: number): Uint8Array {
  if (start < 0 || end > ts.length || end > vs.length || end < start) {
    throw new RangeError(`encodeXOR: range [${start}, ${end}) outside ts ${ts.length} / vs ${vs.length}`);
  }
  if (vs !== lastEncVs || lastEncV32.buffer !== vs.buffer) {
    lastEncV32 = new Int32Array(vs.buffer, vs.byteOffset, vs.length * 2);
    lastEncVs = vs;
  }
  shared.reset();
  shared.appendRange(ts, lastEncV32, start, end);
  return shared.bytes();
}
