/**
 * float64 <-> two uint32 halves, through one shared 8-byte buffer. TSDB chunk codecs XOR
 * the 64-bit patterns of consecutive values; halves avoid BigInt in the hot loops.
 * Hosts are little-endian (every platform Node runs on), so u32[1] is the high half.
 */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** High 32 bits of v's IEEE-754 pattern. Call floatLo right after for the low half. */
export function floatHi(v: number): number {
  f64[0] = v;
  return u32[1]!;
}
/** Low 32 bits of the pattern of the value last passed to floatHi. */
export function floatLo(): number {
  return u32[0]!;
}
export function bitsToFloat(hi: number, lo: number): number {
  u32[1] = hi;
  u32[0] = lo;
  return f64[0]!;
}

/** Prometheus' staleness marker: a NaN with this exact bit pattern. */
export const STALE_NAN_HI = 0x7ff00000;
export const STALE_NAN_LO = 0x00000002;
export const STALE_NAN = bitsToFloat(STALE_NAN_HI, STALE_NAN_LO);

export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  f64[0] = v;
  return u32[1] === STALE_NAN_HI && u32[0] === STALE_NAN_LO;
}
