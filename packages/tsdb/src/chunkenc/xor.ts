import { FormatError } from "../encoding/errors.ts";

/**
 * Prometheus' XOR (Gorilla) float chunk, encoding 1, byte-exact with v3 writers
 * (P: tsdb/chunkenc/xor.go; layout in docs/format/chunks-xor.md). This file
 * decodes; xor-encoder.ts writes.
 *
 * Timestamps are int64 milliseconds carried as doubles: exact for |t| < 2^53, which
 * every real timestamp is. Values travel as their two 32-bit halves so NaN payloads
 * (the stale marker) survive; outputs go to Float64Arrays, which preserve bits.
 */

export { encodeXOR, XOR_MAX_SAMPLES, XOREncoder } from "./xor-encoder.ts";

/** Number of samples, from the BE16 header. */
export function xorNumSamples(data: Uint8Array): number {
  if (data.length < 2) {
    throw new FormatError("invalid-size", "XOR chunk shorter than its header", {
      offset: 0,
      expected: "≥ 2 bytes",
      found: `${data.length}`,
    });
  }
  return (data[0]! << 8) | data[1]!;
}

// ---------------------------------------------------------------------------------
// Decoding. The chunk is first turned into big-endian 32-bit words followed by zero
// words, so `peek` can fetch the 32 bits at any bit position with two loads and no
// bounds checks. A sample's reads end at most 145 bits (4+64 dod, 2+11+64 value) after
// its start, plus one word of peek lookahead; since every sample starts inside the data
// (checked after each one), 16 zero words of padding cover every read.
// ---------------------------------------------------------------------------------

const PAD_WORDS = 16;
let words = new Int32Array(512);

function loadWords(data: Uint8Array): Int32Array {
  const len = data.length;
  const full = len >>> 2;
  const need = full + 1 + PAD_WORDS;
  if (words.length < need) words = new Int32Array(Math.max(need, words.length * 2));
  const w = words;
  let j = 0;
  for (let i = 0; i < full; i++, j += 4) {
    w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
  }
  const rem = len & 3;
  let last = 0;
  if (rem > 0) last = data[j]! << 24;
  if (rem > 1) last |= data[j + 1]! << 16;
  if (rem > 2) last |= data[j + 2]! << 8;
  w[full] = last;
  for (let i = full + 1; i < need; i++) w[i] = 0;
  return w;
}

/** The 32 stream bits starting at bit q, MSB first, as an int32. */
function peek(w: Int32Array, q: number): number {
  const k = q >>> 5;
  const s = q & 31;
  // `>>> 1 >>> (31 - s)` is `>>> (32 - s)` without JS's shift-count-mod-32 trap at s = 0.
  return (w[k]! << s) | ((w[k + 1]! >>> 1) >>> (31 - s));
}

/** Halves of the last uvarint read by readUvarint64 (uint64 = uvHi·2^32 + uvLo). */
let uvHi = 0;
let uvLo = 0;

/** Go binary.ReadUvarint into uvHi/uvLo; returns the byte position after it. */
function readUvarint64(data: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 10; i++) {
    if (at >= data.length) {
      throw new FormatError("invalid-size", "XOR chunk ends inside a timestamp varint", { offset: at });
    }
    const b = data[at++]!;
    const g = b & 0x7f;
    const shift = 7 * i;
    if (shift < 28) lo |= g << shift;
    else if (shift === 28) {
      lo |= g << 28;
      hi = g >>> 4;
    } else hi |= g << (shift - 32);
    if (b < 0x80) {
      if (i === 9 && b > 1) break;
      uvHi = hi >>> 0;
      uvLo = lo >>> 0;
      return at;
    }
  }
  throw new FormatError("invalid-value", "timestamp varint overflows 64 bits", { offset: at - 1 });
}

/** Samples fully decoded when decodeCore last threw (the iterator yields those). */
let decodedBeforeError = 0;

/**
 * Set by decodeCore when a sample may need a caller's attention: a NaN or ±Inf value
 * (exponent bits all ones: stale markers among them), a negative first timestamp or a
 * time step backwards. Tested only where values or steps change, so plain chunks pay
 * almost nothing for it.
 */
let special = false;

/**
 * True when the last decodeXOR saw only finite values and timestamps that start at ≥ 0
 * and never step back: a caller filtering stale markers and backward samples (Thanos'
 * expansion) may then skip its filter pass.
 */
export function xorLastDecodePlain(): boolean {
  return !special;
}

const EXP_MASK = 0x7ff00000;

function truncated(data: Uint8Array, n: number, i: number, startBit: number): never {
  decodedBeforeError = i;
  throw new FormatError("invalid-size", `XOR chunk ends inside sample ${i}`, {
    offset: startBit >>> 3,
    expected: `${n} samples`,
    found: `${i} complete samples in ${data.length} bytes`,
  });
}

function badWindow(i: number, startBit: number, l: number, sig: number): never {
  decodedBeforeError = i;
  throw new FormatError("invalid-value", `XOR value window of sample ${i} exceeds 64 bits`, {
    offset: startBit >>> 3,
    expected: "leading + significant ≤ 64",
    found: `${l} + ${sig}`,
  });
}

/**
 * Decode n samples of `data` into ts[o..] and the value halves v32[2o..] (low, high),
 * where v32 aliases a Float64Array. Throws FormatError on truncation or a bad window.
 */
function decodeCore(data: Uint8Array, n: number, ts: Float64Array, v32: Int32Array, o: number): number {
  decodedBeforeError = 0;
  const w = loadWords(data);
  const endBit = data.length * 8;

  // Sample 0: zigzag varint t (byte-aligned), 64 raw value bits.
  let at = readUvarint64(data, 2);
  const half = (uvHi >>> 1) * 4294967296 + (((uvHi << 31) | (uvLo >>> 1)) >>> 0);
  let t = (uvLo & 1) === 0 ? half : -half - 1;
  let pos = at * 8;
  let hi = peek(w, pos);
  let lo = peek(w, pos + 32);
  special = t < 0 || (hi & EXP_MASK) === EXP_MASK;
  pos += 64;
  if (pos > endBit) truncated(data, n, 0, 16);
  ts[o] = t;
  v32[2 * o] = lo;
  v32[2 * o + 1] = hi;
  decodedBeforeError = 1;

  let tDelta = 0;
  // Value window: L leading zeros, sig significant bits, T trailing zeros, and the masks
  // that keep bits [L, 64-T) of a 64-bit read. Decoders start at L = T = 0 (sig 64).
  let L = 0;
  let sig = 64;
  let mHi = -1;
  let mLo = -1;
  for (let i = 1; i < n; i++) {
    const start = pos;
    let x: number;
    if (i === 1) {
      // Sample 1: uvarint Δt (as uint64, byte-aligned since all before is whole bytes).
      at = readUvarint64(data, pos >>> 3);
      tDelta = (uvHi | 0) * 4294967296 + uvLo;
      if (tDelta < 0) special = true;
      t += tDelta;
      pos = at * 8;
      x = peek(w, pos);
    } else {
      x = peek(w, pos);
      if (x >= 0) {
        // dod == 0, the common case of regular scrapes.
        t += tDelta;
        if ((x & 0x40000000) === 0) {
          // ...and the value is unchanged.
          pos += 2;
          if (pos > endBit) truncated(data, n, i, start);
          ts[o + i] = t;
          v32[2 * (o + i)] = lo;
          v32[2 * (o + i) + 1] = hi;
          continue;
        }
        pos += 1;
        x <<= 1;
      } else {
        const ones = Math.clz32(~x);
        let dod: number;
        if (ones < 4) {
          // Prefixes 10 / 110 / 1110 carry 14 / 17 / 20 bits; computed without branching
          // on the bucket, which is unpredictable for irregular scrapes.
          const nb = 11 + 3 * ones;
          const u = (x >>> (20 - 4 * ones)) & ((1 << nb) - 1);
          // Payloads above 2^(nb-1) are negative (the buckets are -(2^(nb-1)-1)..2^(nb-1)).
          dod = u - ((((1 << (nb - 1)) - u) >> 31) & (1 << nb));
          pos += 12 + 4 * ones;
        } else {
          // 64-bit two's complement dod: signed high half, unsigned low half.
          dod = peek(w, pos + 4) * 4294967296 + (peek(w, pos + 36) >>> 0);
          pos += 68;
        }
        tDelta += dod;
        if (tDelta < 0) special = true;
        t += tDelta;
        x = peek(w, pos);
      }
    }

    // Value: `0` same; `10` reuse window; `11` L(5) sig(6) new window; then sig bits.
    if (x >= 0) {
      pos += 1;
    } else {
      if ((x & 0x40000000) !== 0) {
        L = (x >>> 25) & 31;
        sig = (x >>> 19) & 63;
        if (sig === 0) sig = 64;
        const T = 64 - L - sig;
        if (T < 0) {
          // Zero padding read as sig = 64 is truncation, not a bad window.
          if (pos + 13 > endBit) truncated(data, n, i, start);
          badWindow(i, start, L, sig);
        }
        mHi = (-1 >>> L) & (T >= 32 ? -1 << (T - 32) : -1);
        mLo = T >= 32 ? 0 : -1 << T;
        pos += 13;
      } else {
        pos += 2;
      }
      // The XOR is L zeros, the next sig stream bits, then T zeros: read 64 bits
      // starting L bits early and mask off what belongs to neighbouring fields.
      const q = pos - L;
      hi ^= peek(w, q) & mHi;
      lo ^= peek(w, q + 32) & mLo;
      pos += sig;
      if ((hi & EXP_MASK) === EXP_MASK) special = true;
    }
    if (pos > endBit) truncated(data, n, i, start);
    ts[o + i] = t;
    v32[2 * (o + i)] = lo;
    v32[2 * (o + i) + 1] = hi;
  }
  return n;
}

let lastVs: Float64Array | undefined;
let lastV32: Int32Array = new Int32Array(0);

/** Int32 view of a Float64Array (element 2i = low half, 2i+1 = high half on LE hosts). */
function halves(vs: Float64Array): Int32Array {
  if (vs !== lastVs || lastV32.buffer !== vs.buffer) {
    lastV32 = new Int32Array(vs.buffer, vs.byteOffset, vs.length * 2);
    lastVs = vs;
  }
  return lastV32;
}

/**
 * Decode every sample of an XOR chunk into ts[offset..] / vs[offset..] and return the
 * count. Trailing bytes after the last sample (pre-v3 writers left a zero byte) are
 * ignored. Throws FormatError if the bits run out before the header's sample count.
 */
export function decodeXOR(data: Uint8Array, ts: Float64Array, vs: Float64Array, offset = 0): number {
  const n = xorNumSamples(data);
  if (n === 0) return 0;
  if (offset < 0 || offset + n > ts.length || offset + n > vs.length) {
    throw new RangeError(`decodeXOR: ${n} samples do not fit at offset ${offset} (ts ${ts.length}, vs ${vs.length})`);
  }
  return decodeCore(data, n, ts, halves(vs), offset);
}

/**
 * Sample-by-sample view of a chunk for merging callers. reset() decodes the whole chunk
 * into reusable buffers (the fast path), so next() is two array loads. On a malformed
 * chunk the samples before the damage are still yielded, then `err` is set.
 */
export class XORIterator {
  t = 0;
  v = 0;
  err: FormatError | undefined = undefined;
  private tsBuf = new Float64Array(128);
  private vsBuf = new Float64Array(128);
  private v32 = new Int32Array(this.vsBuf.buffer);
  private i = 0;
  private n = 0;

  constructor(data?: Uint8Array) {
    if (data !== undefined) this.reset(data);
  }

  reset(data: Uint8Array): void {
    this.i = 0;
    this.n = 0;
    this.err = undefined;
    decodedBeforeError = 0;
    try {
      const n = xorNumSamples(data);
      if (n > this.tsBuf.length) {
        const cap = Math.max(n, this.tsBuf.length * 2);
        this.tsBuf = new Float64Array(cap);
        this.vsBuf = new Float64Array(cap);
        this.v32 = new Int32Array(this.vsBuf.buffer);
      }
      this.n = n === 0 ? 0 : decodeCore(data, n, this.tsBuf, this.v32, 0);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      this.err = e;
      this.n = decodedBeforeError;
    }
  }

  /** Advance; false at the end of the chunk or at the first malformed sample (see err). */
  next(): boolean {
    const i = this.i;
    if (i >= this.n) return false;
    this.t = this.tsBuf[i]!;
    this.v = this.vsBuf[i]!;
    this.i = i + 1;
    return true;
  }

  /** Advance to the first sample with timestamp ≥ t (staying put if already there). */
  seek(t: number): boolean {
    if (this.i > 0 && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }
}
