/**
 * XXH64 (the xxHash spec, 64-bit variant) over bytes, as cespare/xxhash computes it: for
 * Prometheus' `labels.Hash()` (compaction groups and shards) and for Parquet's split-block
 * bloom filters and series-hash column. BigInt arithmetic: it hashes label sets and values,
 * not samples, so clarity beats speed here.
 */

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;

function round(acc: bigint, lane: bigint): bigint {
  acc = (acc + lane * P2) & MASK;
  return (rotl(acc, 31n) * P1) & MASK;
}

function mergeRound(acc: bigint, v: bigint): bigint {
  acc ^= round(0n, v);
  return (acc * P1 + P4) & MASK;
}

function u64le(b: Uint8Array, i: number): bigint {
  const lo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  const hi = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function u32le(b: Uint8Array, i: number): bigint {
  return BigInt((b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0);
}

/** XXH64 of `data` (or its first `length` bytes) with `seed` (default 0), as an unsigned 64-bit bigint. */
export function xxhash64(data: Uint8Array, seed = 0n, length = data.length): bigint {
  const n = length;
  seed &= MASK;
  let i = 0;
  let acc: bigint;
  if (n >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed;
    let v4 = (seed - P1) & MASK;
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, u64le(data, i));
      v2 = round(v2, u64le(data, i + 8));
      v3 = round(v3, u64le(data, i + 16));
      v4 = round(v4, u64le(data, i + 24));
    }
    acc = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    acc = mergeRound(acc, v1);
    acc = mergeRound(acc, v2);
    acc = mergeRound(acc, v3);
    acc = mergeRound(acc, v4);
  } else {
    acc = (seed + P5) & MASK;
  }
  acc = (acc + BigInt(n)) & MASK;
  for (; i + 8 <= n; i += 8) {
    acc ^= round(0n, u64le(data, i));
    acc = (rotl(acc, 27n) * P1 + P4) & MASK;
  }
  if (i + 4 <= n) {
    acc ^= (u32le(data, i) * P1) & MASK;
    acc = (rotl(acc, 23n) * P2 + P3) & MASK;
    i += 4;
  }
  for (; i < n; i++) {
    acc ^= (BigInt(data[i]!) * P5) & MASK;
    acc = (rotl(acc, 11n) * P1) & MASK;
  }
  acc ^= acc >> 33n;
  acc = (acc * P2) & MASK;
  acc ^= acc >> 29n;
  acc = (acc * P3) & MASK;
  acc ^= acc >> 32n;
  return acc;
}
