/**
 * The `tombstones` file (P: tsdb/tombstones/tombstones.go): deletion intervals per series.
 *
 *   BE32 magic 0x0130BA30 | u8 version 1 | entries… | BE32 CRC32C(entries)
 *   entry = uvarint seriesRef | varint mint | varint maxt      (closed interval)
 *
 * The CRC skips the version byte. Timestamps are int64; values beyond ±2^53 (Prometheus
 * uses math.MinInt64/MaxInt64 and its API's min/max times for open-ended deletes) are
 * held as the nearest double. Such values only ever act as "unbounded", and the two
 * extremes re-encode to exactly MinInt64/MaxInt64.
 */
import { Decbuf, hex32 } from "../encoding/decbuf.ts";
import { Encbuf } from "../encoding/encbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import type { BlockSource } from "../encoding/source.ts";

export const TOMBSTONES_FILE = "tombstones";
export const MAGIC_TOMBSTONES = 0x0130ba30;
export const TOMBSTONES_FORMAT_V1 = 1;
/** magic + version + CRC of zero entries. */
const MIN_SIZE = 9;

/** A deleted time range [mint, maxt], both ends inclusive (ms). */
export interface Interval {
  mint: number;
  maxt: number;
}

/** The canonical empty file: magic, version 1, CRC32C of nothing (0). */
export const EMPTY_TOMBSTONES: Uint8Array = Uint8Array.of(0x01, 0x30, 0xba, 0x30, 0x01, 0x00, 0x00, 0x00, 0x00);

const INT64_MIN = -(2 ** 63);
const INT64_MAX_AS_DOUBLE = 2 ** 63; // MaxInt64 rounds to this

/**
 * Deletion intervals by series ref. Each ref's intervals are kept sorted and disjoint,
 * with touching ones ([a,b] and [b+1,c]) merged, exactly as Prometheus' Intervals.Add.
 */
export class Tombstones {
  private readonly byRef = new Map<number, Interval[]>();

  /** Add an interval for a series, merging it with overlapping or adjacent ones. */
  add(ref: number, iv: Interval): void {
    const list = this.byRef.get(ref);
    const n = { mint: iv.mint, maxt: iv.maxt };
    if (list === undefined) this.byRef.set(ref, [n]);
    else addInterval(list, n);
  }

  /** The series' intervals (sorted, disjoint), or undefined. Do not mutate. */
  get(ref: number): readonly Interval[] | undefined {
    return this.byRef.get(ref);
  }

  /** Series refs with tombstones, ascending. */
  refs(): number[] {
    return [...this.byRef.keys()].sort((a, b) => a - b);
  }

  /** Number of series with tombstones. */
  get size(): number {
    return this.byRef.size;
  }

  /** Total interval count after merging (meta.json stats.numTombstones). */
  total(): number {
    let n = 0;
    for (const l of this.byRef.values()) n += l.length;
    return n;
  }
}

/**
 * Prometheus Intervals.Add on a sorted, disjoint list, in place. Neighbours within one
 * step of the new interval merge with it, since timestamps are discrete.
 */
export function addInterval(list: Interval[], n: Interval): void {
  if (list.length === 0) {
    list.push(n);
    return;
  }
  // First interval whose end reaches n.mint-1 (skipped for MinInt64 to mirror Go's overflow guard).
  let lo = 0;
  if (n.mint > INT64_MIN) {
    lo = searchFirst(list, 0, list.length, (x) => x.maxt >= n.mint - 1);
    if (lo === list.length) {
      list.push(n);
      return;
    }
  }
  // First interval (from lo) that starts beyond n.maxt+1: [lo, hi) all merge with n.
  let hi = list.length;
  if (n.maxt < INT64_MAX_AS_DOUBLE) {
    hi = searchFirst(list, lo, list.length, (x) => x.mint > n.maxt + 1);
    if (hi === lo) {
      list.splice(lo, 0, n);
      return;
    }
  }
  const first = list[lo]!;
  const merged: Interval = {
    mint: n.mint < first.mint ? n.mint : first.mint,
    maxt: Math.max(n.maxt, list[hi - 1]!.maxt),
  };
  list.splice(lo, hi - lo, merged);
}

function searchFirst(list: Interval[], lo: number, hi: number, pred: (x: Interval) => boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Whether t lies in one of the sorted, disjoint intervals (binary search). */
export function isDeleted(intervals: readonly Interval[] | undefined, t: number): boolean {
  if (intervals === undefined) return false;
  let lo = 0;
  let hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const iv = intervals[mid]!;
    if (t < iv.mint) hi = mid;
    else if (t > iv.maxt) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Decode a whole tombstones file. Intervals are merged per ref as they are read. */
export function decodeTombstones(bytes: Uint8Array, file = TOMBSTONES_FILE): Tombstones {
  if (bytes.length < MIN_SIZE) {
    throw new FormatError("invalid-size", "tombstones file shorter than header and checksum", {
      file,
      offset: 0,
      expected: `≥ ${MIN_SIZE} bytes`,
      found: `${bytes.length} bytes`,
    });
  }
  const d = new Decbuf(bytes, { file, end: bytes.length - 4 });
  const magic = d.be32();
  if (magic !== MAGIC_TOMBSTONES) {
    throw new FormatError("bad-magic", "not a tombstones file", {
      file,
      offset: 0,
      expected: hex32(MAGIC_TOMBSTONES),
      found: hex32(magic),
    });
  }
  // Prometheus checks the CRC (which skips the version byte) before the version.
  d.verifyCrc(5, bytes.length - 4);
  const version = d.u8();
  if (version !== TOMBSTONES_FORMAT_V1) {
    throw new FormatError("unsupported-version", "unknown tombstones format", {
      file,
      offset: 4,
      expected: "1",
      found: String(version),
    });
  }
  const t = new Tombstones();
  while (d.remaining() > 0) {
    const ref = d.uvarint();
    const mint = readVarint64(d);
    const maxt = readVarint64(d);
    t.add(ref, { mint, maxt });
  }
  return t;
}

/** Encode a whole tombstones file, refs ascending (Prometheus uses map order, so any order is valid). */
export function encodeTombstones(t: Tombstones): Uint8Array {
  const e = new Encbuf(64);
  e.putBE32(MAGIC_TOMBSTONES);
  e.putU8(TOMBSTONES_FORMAT_V1);
  for (const ref of t.refs()) {
    for (const iv of t.get(ref)!) {
      e.putUvarint(ref);
      putVarint64(e, iv.mint);
      putVarint64(e, iv.maxt);
    }
  }
  e.putCrc32c(5);
  return e.bytes().slice();
}

/** Read `tombstones` from a block; a missing file means none. */
export async function readTombstones(block: BlockSource): Promise<Tombstones> {
  const src = await block.tryOpen(TOMBSTONES_FILE);
  if (src === undefined) return new Tombstones();
  try {
    const bytes = await src.read(0, src.size);
    return decodeTombstones(bytes, TOMBSTONES_FILE);
  } finally {
    await src.close?.();
  }
}

/**
 * Zigzag varint as int64. Exact when |x| ≤ 2^53; longer encodings go through BigInt
 * (rare: open-ended deletes) so the sign and magnitude survive as the nearest double.
 */
function readVarint64(d: Decbuf): number {
  const b = d.b;
  const start = d.pos;
  let p = start;
  // Fast path: up to 7 bytes = 49 bits, exact in a double.
  let ux = 0;
  let mul = 1;
  for (let i = 0; i < 7 && p < d.end; i++) {
    const byte = b[p++]!;
    ux += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      d.pos = p;
      return ux % 2 === 0 ? ux / 2 : -(ux + 1) / 2;
    }
    mul *= 128;
  }
  // Slow path: let Decbuf validate length and overflow, then recompute exactly.
  d.pos = start;
  d.uvarint();
  let big = 0n;
  let shift = 0n;
  for (let i = start; i < d.pos; i++) {
    big |= BigInt(b[i]! & 0x7f) << shift;
    shift += 7n;
  }
  const signed = big & 1n ? -((big + 1n) >> 1n) : big >> 1n;
  return Number(signed);
}

/** Zigzag varint of an integer-valued double, clamped to the int64 range. */
function putVarint64(e: Encbuf, v: number): void {
  if (!Number.isInteger(v)) throw new RangeError(`tombstone time ${v} is not an integer`);
  // Encbuf's arithmetic zigzag (-2v-1) is exact while |v| ≤ 2^52.
  if (v <= 2 ** 52 && v >= -(2 ** 52)) {
    e.putVarint(v);
    return;
  }
  let big = v <= INT64_MIN ? -(1n << 63n) : v >= INT64_MAX_AS_DOUBLE ? (1n << 63n) - 1n : BigInt(v);
  big = big < 0n ? (-big << 1n) - 1n : big << 1n;
  e.reserve(10);
  while (big >= 0x80n) {
    e.putU8(Number(big & 0x7fn) | 0x80);
    big >>= 7n;
  }
  e.putU8(Number(big));
}
