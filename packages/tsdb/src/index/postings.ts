/**
 * Postings lists: sorted series ids for one (name, value) pair. On disk (raw encoding,
 * the only one Prometheus and Thanos readers understand):
 *   BE32 len (= 4 + 4n) | BE32 n | n × BE32 id (strictly increasing) | BE32 CRC32C(n … last id)
 * In memory a list is a Uint32Array, which keeps a million ids in 4 MB with no per-id objects.
 */
import { Decbuf } from "../encoding/decbuf.ts";
import type { Encbuf } from "../encoding/encbuf.ts";
import { FormatError } from "../encoding/errors.ts";
import { INDEX_FILE } from "./format.ts";

export const EMPTY_POSTINGS: Uint32Array = new Uint32Array(0);

/** Append one framed postings list (len, count, ids, CRC). */
export function encodePostings(e: Encbuf, ids: ArrayLike<number>): void {
  const n = ids.length;
  e.reserve(12 + 4 * n);
  e.putBE32(4 + 4 * n);
  const start = e.len;
  e.putBE32(n);
  const v = e.view;
  let p = e.len;
  for (let i = 0; i < n; i++, p += 4) v.setUint32(p, ids[i]!, false);
  e.len = p;
  e.putCrc32c(start);
}

/** Bytes a postings list of n ids takes on disk, len and CRC included. */
export function postingsSize(n: number): number {
  return 12 + 4 * n;
}

export interface DecodedPostings {
  ids: Uint32Array;
  /** Offset in `b` just past the CRC. */
  end: number;
}

/**
 * Decode the postings list whose len field is at b[at]. `base` is the absolute file
 * offset of b[0]. Verifies bounds, CRC, len == 4 + 4n and strictly increasing ids.
 */
export function decodePostings(b: Uint8Array, at: number, base = 0, file = INDEX_FILE): DecodedPostings {
  const d = Decbuf.framedAt(b, at, { base, file });
  const lenField = d.end - d.pos;
  const n = d.be32();
  if (lenField !== 4 + 4 * n) {
    throw new FormatError("invalid-size", "postings list length does not match its count", {
      file,
      offset: base + at,
      expected: `len = 4 + 4·${n} = ${4 + 4 * n}`,
      found: String(lenField),
    });
  }
  const ids = new Uint32Array(n);
  const v = d.view;
  let p = d.pos;
  let prev = -1;
  for (let i = 0; i < n; i++, p += 4) {
    const id = v.getUint32(p, false);
    if (id <= prev) {
      throw new FormatError("out-of-order", "postings list ids not strictly increasing", {
        file,
        offset: base + p,
        expected: `> ${prev}`,
        found: String(id),
      });
    }
    ids[i] = id;
    prev = id;
  }
  return { ids, end: d.end + 4 };
}

/** A growable Uint32Array (amortised O(1) push, no per-element objects). */
export class U32List {
  a: Uint32Array;
  length = 0;
  constructor(initial = 16) {
    this.a = new Uint32Array(initial);
  }
  push(v: number): void {
    if (this.length === this.a.length) {
      const na = new Uint32Array(this.a.length * 2 || 16);
      na.set(this.a);
      this.a = na;
    }
    this.a[this.length++] = v;
  }
  /** The pushed values (a view; valid until the next push). */
  view(): Uint32Array {
    return this.a.subarray(0, this.length);
  }
  /** Release the spare capacity and return the values. */
  toArray(): Uint32Array {
    return this.a.slice(0, this.length);
  }
}

/** Ids in both sorted lists. */
export function intersectPostings(a: Uint32Array, b: Uint32Array): Uint32Array {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length && j < b.length; i++) {
    const x = a[i]!;
    // Gallop when the other list is much longer: skip ahead by doubling, then bisect.
    if (b[j]! < x) {
      let step = 1;
      let hi = j + 1;
      while (hi < b.length && b[hi]! < x) {
        j = hi;
        step *= 2;
        hi = j + step;
      }
      if (hi > b.length) hi = b.length;
      let lo = j + 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (b[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      j = lo;
    }
    if (j < b.length && b[j] === x) {
      out[n++] = x;
      j++;
    }
  }
  return out.slice(0, n);
}

/** Ids in every list (empty for no lists). Intersects smallest-first. */
export function intersectAll(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  if (lists.length === 1) return lists[0]!.slice();
  const sorted = [...lists].sort((x, y) => x.length - y.length);
  let acc = sorted[0]!;
  for (let i = 1; i < sorted.length && acc.length > 0; i++) acc = intersectPostings(acc, sorted[i]!);
  return acc.length === 0 ? new Uint32Array(0) : acc;
}

/** Ids in any list, sorted and unique. */
export function unionPostings(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  if (lists.length === 1) return lists[0]!.slice();
  // Pairwise merge in a balanced tree: O(total · log k) without a heap.
  let level: Uint32Array[] = lists.slice();
  while (level.length > 1) {
    const next: Uint32Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? merge2(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

function merge2(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      out[n++] = x;
      i++;
    } else if (y < x) {
      out[n++] = y;
      j++;
    } else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return n === out.length ? out : out.slice(0, n);
}

/** Ids in `a` but not in `b`. */
export function subtractPostings(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out[n++] = x;
  }
  return out.slice(0, n);
}

/** What PostingsBuilder.build() returns: every pair's list, laid out in (name, value) order. */
export interface BuiltPostings {
  /** Number of distinct (name, value) pairs. */
  pairs: number;
  /** Name and value symbol ordinals of the k-th pair in (name, value) order. */
  names: Uint32Array;
  values: Uint32Array;
  /** ids.subarray(start[k], start[k + 1]) is the k-th pair's list, ascending. */
  start: Float64Array;
  ids: Uint32Array;
}

const EMPTY_SLOT = 0xffffffff;

/**
 * Accumulates postings for an index writer in O(postings + pairs) typed-array memory:
 * distinct (nameOrdinal, valueOrdinal) pairs live in an open-addressing hash table
 * (no per-pair objects), each series appends its pair indices to one log, and build()
 * radix-sorts pairs by (name, value) and counting-sorts the log into one id array.
 */
export class PostingsBuilder {
  // 64 KiB up front: blocks of a few thousand pairs never rehash.
  private slots = new Uint32Array(1 << 14).fill(EMPTY_SLOT);
  private mask = (1 << 14) - 1;
  private readonly pairName = new U32List(1024);
  private readonly pairValue = new U32List(1024);
  private readonly pairCount = new U32List(1024);
  private readonly log = new U32List(4096);
  private readonly seriesEnd = new U32List(1024);
  readonly seriesIds = new U32List(1024);

  get numPairs(): number {
    return this.pairName.length;
  }

  /** Index of pair (name, value), created on first use. */
  pair(name: number, value: number): number {
    const names = this.pairName.a;
    const values = this.pairValue.a;
    let i = hashPair(name, value) & this.mask;
    for (;;) {
      const p = this.slots[i]!;
      if (p === EMPTY_SLOT) break;
      if (names[p] === name && values[p] === value) return p;
      i = (i + 1) & this.mask;
    }
    const p = this.pairName.length;
    this.pairName.push(name);
    this.pairValue.push(value);
    this.pairCount.push(0);
    this.slots[i] = p;
    if (2 * this.pairName.length > this.slots.length) this.grow();
    return p;
  }

  private grow(): void {
    const size = this.slots.length * 2;
    const slots = new Uint32Array(size).fill(EMPTY_SLOT);
    const mask = size - 1;
    const names = this.pairName.a;
    const values = this.pairValue.a;
    for (let p = 0; p < this.pairName.length; p++) {
      let i = hashPair(names[p]!, values[p]!) & mask;
      while (slots[i] !== EMPTY_SLOT) i = (i + 1) & mask;
      slots[i] = p;
    }
    this.slots = slots;
    this.mask = mask;
  }

  /** Record series `id` (ids must ascend) carrying pairs[from..to). */
  addSeries(id: number, pairs: Uint32Array, from: number, to: number): void {
    this.seriesIds.push(id);
    const counts = this.pairCount.a;
    for (let i = from; i < to; i++) {
      counts[pairs[i]!]!++;
      this.log.push(pairs[i]!);
    }
    this.seriesEnd.push(this.log.length);
  }

  /** Lay out all lists. `numSymbols` bounds the ordinals (radix sort buckets). Frees the log. */
  build(numSymbols: number): BuiltPostings {
    const pairs = this.pairName.length;
    const pn = this.pairName.a;
    const pv = this.pairValue.a;
    // LSD radix sort of pair indices: by value, then stably by name.
    const byValue = countingSort(identity(pairs), pv, numSymbols);
    const order = countingSort(byValue, pn, numSymbols);
    const names = new Uint32Array(pairs);
    const values = new Uint32Array(pairs);
    const start = new Float64Array(pairs + 1);
    const cursor = new Float64Array(pairs);
    const counts = this.pairCount.a;
    for (let k = 0; k < pairs; k++) {
      const p = order[k]!;
      names[k] = pn[p]!;
      values[k] = pv[p]!;
      start[k + 1] = start[k]! + counts[p]!;
      cursor[p] = start[k]!;
    }
    // Series are visited in id order, so every list comes out ascending.
    const ids = new Uint32Array(this.log.length);
    const log = this.log.a;
    const ends = this.seriesEnd.a;
    const sids = this.seriesIds.a;
    for (let s = 0, j = 0; s < this.seriesIds.length; s++) {
      const id = sids[s]!;
      for (const end = ends[s]!; j < end; j++) ids[cursor[log[j]!]!++] = id;
    }
    this.log.a = new Uint32Array(0);
    this.log.length = 0;
    this.slots = new Uint32Array(0);
    return { pairs, names, values, start, ids };
  }
}

function hashPair(name: number, value: number): number {
  let h = Math.imul(name, 0x9e3779b1) ^ value;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

function identity(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Stable sort of `items` by key[item], keys < range. */
function countingSort(items: Uint32Array, key: Uint32Array, range: number): Uint32Array {
  const pos = new Uint32Array(range + 1);
  for (let i = 0; i < items.length; i++) pos[key[items[i]!]! + 1]!++;
  for (let k = 0; k < range; k++) pos[k + 1]! += pos[k]!;
  const out = new Uint32Array(items.length);
  for (let i = 0; i < items.length; i++) out[pos[key[items[i]!]!]!++] = items[i]!;
  return out;
}
