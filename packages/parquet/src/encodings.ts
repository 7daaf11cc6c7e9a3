import type { ByteBuf } from "./bytes.ts";

/** Bits needed for values up to `max` (0 for 0). */
export function bitWidth(max: number): number {
  let w = 0;
  while (max > 0) {
    w++;
    max = Math.floor(max / 2);
  }
  return w;
}

/** LSB-first bit packing of `n` values of `width` bits (each < 2^32), as Parquet packs them. */
function pack(out: ByteBuf, vs: ArrayLike<number>, from: number, n: number, width: number): void {
  const bytes = Math.ceil((n * width) / 8);
  out.ensure(bytes);
  const b = out.buf;
  const base = out.len;
  b.fill(0, base, base + bytes);
  let bit = 0;
  for (let i = 0; i < n; i++) {
    let v = vs[from + i] ?? 0;
    let left = width;
    while (left > 0) {
      const at = base + (bit >>> 3);
      const off = bit & 7;
      const take = Math.min(8 - off, left);
      b[at] = b[at]! | ((v & ((1 << take) - 1)) << off);
      v = Math.floor(v / 2 ** take);
      left -= take;
      bit += take;
    }
  }
  out.len = base + bytes;
}

/**
 * RLE / bit-packed hybrid (definition levels, dictionary indices): runs of eight or more equal
 * values as RLE runs, the rest in bit-packed groups of eight.
 */
export function rleHybrid(out: ByteBuf, vs: ArrayLike<number>, n: number, width: number): void {
  const valueBytes = Math.ceil(width / 8);
  let i = 0;
  let packStart = -1;
  const flushPacked = (until: number): void => {
    if (packStart < 0) return;
    const count = until - packStart;
    const groups = Math.ceil(count / 8);
    out.uvarint((groups << 1) | 1);
    const padded = new Array<number>(groups * 8).fill(0);
    for (let k = 0; k < count; k++) padded[k] = vs[packStart + k] ?? 0;
    pack(out, padded, 0, groups * 8, width);
    packStart = -1;
  };
  while (i < n) {
    const v = vs[i] ?? 0;
    let run = 1;
    while (i + run < n && vs[i + run] === v) run++;
    // An RLE run may start only where the pending bit-packed values fill whole groups.
    if (run >= 8 && (packStart < 0 || (i - packStart) % 8 === 0)) {
      flushPacked(i);
      out.uvarint(run * 2);
      for (let k = 0; k < valueBytes; k++) out.byte(Math.floor(v / 2 ** (8 * k)) & 0xff);
      i += run;
      continue;
    }
    if (packStart < 0) packStart = i;
    i++;
  }
  flushPacked(n);
}

/**
 * DELTA_BINARY_PACKED of non-negative integers below 2^31 (lengths, prefix lengths): blocks
 * of 128 values in four miniblocks of 32, as parquet-go writes them.
 */
export function deltaBinaryPacked(out: ByteBuf, vs: ArrayLike<number>, n: number): void {
  const BLOCK = 128;
  const MINI = 32;
  out.uvarint(BLOCK);
  out.uvarint(BLOCK / MINI);
  out.uvarint(n);
  out.varint(n > 0 ? (vs[0] ?? 0) : 0);
  const deltas = new Array<number>(BLOCK);
  for (let start = 1; start < n; start += BLOCK) {
    const count = Math.min(BLOCK, n - start);
    let min = Number.POSITIVE_INFINITY;
    for (let k = 0; k < count; k++) {
      const d = (vs[start + k] ?? 0) - (vs[start + k - 1] ?? 0);
      deltas[k] = d;
      if (d < min) min = d;
    }
    out.varint(min);
    const widths: number[] = [];
    for (let m = 0; m < BLOCK / MINI; m++) {
      let max = 0;
      for (let k = m * MINI; k < Math.min(count, (m + 1) * MINI); k++) max = Math.max(max, deltas[k]! - min);
      widths.push(m * MINI < count ? bitWidth(max) : 0);
    }
    for (const w of widths) out.byte(w);
    for (let m = 0; m < BLOCK / MINI && m * MINI < count; m++) {
      const vals = new Array<number>(MINI).fill(0);
      for (let k = 0; k < MINI && m * MINI + k < count; k++) vals[k] = deltas[m * MINI + k]! - min;
      pack(out, vals, 0, MINI, widths[m]!);
    }
  }
}

/** DELTA_LENGTH_BYTE_ARRAY: the lengths delta-packed, then the values back to back. */
export function deltaLengthByteArray(out: ByteBuf, vs: readonly Uint8Array[]): void {
  const lens = vs.map((v) => v.length);
  deltaBinaryPacked(out, lens, lens.length);
  for (const v of vs) out.bytes(v);
}

/** DELTA_BYTE_ARRAY: shared-prefix lengths delta-packed, then the suffixes as DELTA_LENGTH_BYTE_ARRAY. */
export function deltaByteArray(out: ByteBuf, vs: readonly Uint8Array[]): void {
  const prefixes: number[] = [];
  const suffixes: Uint8Array[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  for (const v of vs) {
    let p = 0;
    const max = Math.min(prev.length, v.length);
    while (p < max && prev[p] === v[p]) p++;
    prefixes.push(p);
    suffixes.push(v.subarray(p));
    prev = v;
  }
  deltaBinaryPacked(out, prefixes, prefixes.length);
  deltaLengthByteArray(out, suffixes);
}

/** PLAIN byte arrays: 4-byte little-endian length, then the bytes. */
export function plainByteArray(out: ByteBuf, vs: readonly Uint8Array[]): void {
  for (const v of vs) {
    out.u32le(v.length);
    out.bytes(v);
  }
}
