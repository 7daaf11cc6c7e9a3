import type { BitReader, BitWriter } from "../encoding/bstream.ts";
import { FormatError } from "../encoding/errors.ts";

/**
 * Bit-level number codecs of the histogram chunks (P: tsdb/chunkenc/varbit.go, xor.go):
 *
 * - varbit ints/uints: a prefix of k one-bits (terminated by a zero unless k = 8) selects
 *   a payload width; k = 0 means the value 0. Signed payloads are two's complement.
 * - Gorilla XOR values with a per-field (leading, trailing) zero window.
 *
 * Numbers are JS doubles: values beyond ±2^53 (never written by Prometheus for counts,
 * times or bucket deltas) lose precision instead of wrapping like Go's int64.
 */

/** Payload width for a prefix of k one-bits. */
const WIDTH = [0, 3, 6, 9, 12, 18, 25, 56, 64];
/** 2^(width-1) and 2^width per class. */
const HALF = WIDTH.map((n) => 2 ** (n - 1));
const FULL = WIDTH.map((n) => 2 ** n);
const TWO32 = 4294967296;

/** Write a varbit-encoded signed integer (a safe integer). */
export function putVarbitInt(w: BitWriter, v: number): void {
  if (v === 0) {
    w.writeBit(0);
    return;
  }
  for (let k = 1; k <= 7; k++) {
    // Each class holds -(2^(n-1)-1) .. 2^(n-1), as Go's bitRange.
    if (v > -HALF[k]! && v <= HALF[k]!) {
      writeClass(w, k, v);
      return;
    }
  }
  w.writeBits(0xff, 8);
  writeSigned(w, v, 64);
}

/** Write a varbit-encoded unsigned integer (a non-negative safe integer). */
export function putVarbitUint(w: BitWriter, v: number): void {
  if (v === 0) {
    w.writeBit(0);
    return;
  }
  for (let k = 1; k <= 7; k++) {
    if (v < FULL[k]!) {
      writeClass(w, k, v);
      return;
    }
  }
  w.writeBits(0xff, 8);
  writeSigned(w, v, 64);
}

/** Prefix of k ones and a zero, then the payload; one write when it fits 32 bits. */
function writeClass(w: BitWriter, k: number, v: number): void {
  const n = WIDTH[k]!;
  if (k <= 6) {
    const prefix = ((1 << k) - 1) << 1;
    w.writeBits(prefix * FULL[k]! + (v < 0 ? v + FULL[k]! : v), k + 1 + n);
    return;
  }
  w.writeBits(0xfe, 8);
  writeSigned(w, v, n);
}

/** Low n (> 32) bits of v's two's complement. */
function writeSigned(w: BitWriter, v: number, n: number): void {
  const hi = Math.floor(v / TWO32);
  w.writeBits64(hi >>> 0, v - hi * TWO32, n);
}

/** Number of one-bits in a varbit prefix (0..8); consumes the terminating zero. */
function readPrefix(r: BitReader): number {
  let k = 0;
  while (k < 8 && r.readBit() === 1) k++;
  return k;
}

/**
 * Fast path: with 40+ bits left, take 32 bits at once; prefixes of up to 6 ones plus their
 * payload (≤ 32 bits together) decode without bit-by-bit reads. Returns NaN otherwise.
 */
function readSmall(r: BitReader, signed: boolean): number {
  const pos = r.pos;
  if (pos + 40 > r.endBit) return NaN;
  const b = r.b;
  const i = pos >>> 3;
  const sh = pos & 7;
  const win = (((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) << sh) | (b[i + 4]! >>> (8 - sh));
  const k = Math.clz32(~win); // leading one-bits
  if (k === 0) {
    r.pos = pos + 1;
    return 0;
  }
  if (k > 6) return NaN;
  const n = WIDTH[k]!;
  const u = (win << (k + 1)) >>> (32 - n);
  r.pos = pos + k + 1 + n;
  return signed && u > HALF[k]! ? u - FULL[k]! : u;
}

export function readVarbitInt(r: BitReader): number {
  const fast = readSmall(r, true);
  if (fast === fast) return fast;
  const k = readPrefix(r);
  if (k === 0) return 0;
  const n = WIDTH[k]!;
  if (n <= 32) {
    const u = r.readBits(n);
    return u > HALF[k]! ? u - FULL[k]! : u;
  }
  r.readBits64(n);
  const hi = r.hi;
  const lo = r.lo;
  if (n === 56) {
    // Negative when the payload exceeds 2^55 (Go: bits > 1<<(sz-1)).
    if (hi > 0x800000 || (hi === 0x800000 && lo > 0)) return (hi - 0x1000000) * TWO32 + lo;
    return hi * TWO32 + lo;
  }
  return (hi >= 0x80000000 ? hi - TWO32 : hi) * TWO32 + lo;
}

export function readVarbitUint(r: BitReader): number {
  const fast = readSmall(r, false);
  if (fast === fast) return fast;
  const k = readPrefix(r);
  if (k === 0) return 0;
  const n = WIDTH[k]!;
  if (n <= 32) return r.readBits(n);
  r.readBits64(n);
  return r.hi * TWO32 + r.lo;
}

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}
function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

/**
 * XOR-encode a new value for field i. `vals` is a Uint32Array view of the fields'
 * float64 state (vals[2i] low word, vals[2i+1] high word, little-endian like a
 * Float64Array); `win[2i]`/`win[2i+1]` hold the field's leading/trailing window, where
 * leading 0xFF means "no window yet" (the appender's initial state).
 */
export function xorWrite(
  w: BitWriter,
  newHi: number,
  newLo: number,
  vals: Uint32Array,
  win: Uint8Array,
  i: number,
): void {
  const dh = (newHi ^ vals[2 * i + 1]!) >>> 0;
  const dl = (newLo ^ vals[2 * i]!) >>> 0;
  vals[2 * i] = newLo;
  vals[2 * i + 1] = newHi;
  if (dh === 0 && dl === 0) {
    w.writeBit(0);
    return;
  }
  w.writeBit(1);
  let lead = clz64(dh, dl);
  const trail = ctz64(dh, dl);
  if (lead >= 32) lead = 31; // the 5-bit field cannot hold 32
  const pl = win[2 * i]!;
  const pt = win[2 * i + 1]!;
  if (pl !== 0xff && lead >= pl && trail >= pt) {
    w.writeBit(0);
    writeShifted(w, dh, dl, pt, 64 - pl - pt);
    return;
  }
  win[2 * i] = lead;
  win[2 * i + 1] = trail;
  w.writeBit(1);
  w.writeBits(lead, 5);
  const sig = 64 - lead - trail;
  w.writeBits(sig & 63, 6); // 64 significant bits are written as 0
  writeShifted(w, dh, dl, trail, sig);
}

/** Write (hi:lo >>> shift) in n bits. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  if (shift >= 32) {
    w.writeBits64(0, hi >>> (shift - 32), n);
  } else if (shift > 0) {
    w.writeBits64(hi >>> shift, ((lo >>> shift) | (hi << (32 - shift))) >>> 0, n);
  } else {
    w.writeBits64(hi, lo, n);
  }
}

/**
 * Read an XOR-encoded value for field i into vals (layout as in xorWrite). Readers start
 * with window (0, 0), as Go's iterators do, so a "reuse" before any window means 64 bits.
 */
export function xorRead(r: BitReader, vals: Uint32Array, win: Uint8Array, i: number): void {
  if (r.readBit() === 0) return;
  let lead: number;
  let trail: number;
  let n: number;
  if (r.readBit() === 0) {
    lead = win[2 * i]!;
    trail = win[2 * i + 1]!;
    n = 64 - lead - trail;
  } else {
    lead = r.readBits(5);
    n = r.readBits(6);
    if (n === 0) n = 64;
    trail = 64 - lead - n;
    if (trail < 0) {
      throw new FormatError("invalid-value", "XOR value window exceeds 64 bits", {
        offset: (r.pos - 1) >>> 3,
        expected: "leading + significant bits <= 64",
        found: `${lead} + ${n}`,
      });
    }
    win[2 * i] = lead;
    win[2 * i + 1] = trail;
  }
  r.readBits64(n);
  let hi = r.hi;
  let lo = r.lo;
  if (trail >= 32) {
    hi = lo << (trail - 32);
    lo = 0;
  } else if (trail > 0) {
    hi = (hi << trail) | (lo >>> (32 - trail));
    lo = lo << trail;
  }
  vals[2 * i]! ^= lo;
  vals[2 * i + 1]! ^= hi;
}
