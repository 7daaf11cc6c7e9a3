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
  for (let i = 0; i < n; i++, p += 4) v.setUint32(p, ids[i], false);
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
    const x = a[i];
    // Gallop when the other list is much longer: skip ahead by doubling, then bisect.
    if (b[j] < x) {
      let step = 1;
      let hi = j + 1;
      while (hi < b.length && b[hi] < x) {
        j = hi;
        step *= 2;
        hi = j + step;
      }
      if (hi > b.length) hi = b.length;
      let lo = j + 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (b[mid] < x) lo = mid + 1;
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
  if (lists.length === 1) return lists[0].slice();
  const sorted = [...lists].sort((x, y) => x.length - y.length);
  let acc = sorted[0];
  for (let i = 1; i < sorted.length && acc.length > 0; i++) acc = intersectPostings(acc, sorted[i]);
  return acc.length === 0 ? new Uint32Array(0) : acc;
}

/** Ids in any list, sorted and unique. */
export function unionPostings(lists: readonly Uint32Array[]): Uint32Array {
  if (lists.length === 0) return EMPTY_POSTINGS;
  if (lists.length === 1) return lists[0].slice();
  // Pairwise merge in a balanced tree: O(total · log k) without a heap.
  let level: Uint32Array[] = lists.slice();
  while (level.length > 1) {
    const next: Uint32Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? merge2(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0];
}

function merge2(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
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
  while (i < a.length) out[n++] = a[i++];
  while (j < b.length) out[n++] = b[j++];
  return n === out.length ? out : out.slice(0, n);
}

/** Ids in `a` but not in `b`. */
export function subtractPostings(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    while (j < b.length && b[j] < x) j++;
    if (j < b.length && b[j] === x) continue;
    out[n++] = x;
  }
  return out.slice(0, n);
}
