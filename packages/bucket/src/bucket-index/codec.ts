/**
 * The bucket index's codec for its writers, incremental: an index update at 100k blocks
 * re-reads and re-writes ~27 MB of JSON, and parsing and marshalling every entry each time
 * cost seconds of CPU per compare-and-swap round. Entries are immutable (a block's entry
 * never changes; a deletion mark is added or dropped whole), so:
 *
 *  - Decoding splits the canonical document (Go's field order, no whitespace, as Mimir and
 *    Strata write it) into entries without parsing them, and parses and validates only an
 *    entry whose bytes differ from those its block id had last time (a native compare):
 *    the others map to the entry already validated. Any document off that shape goes
 *    through `decodeIndex`, which checks everything and names what is wrong, so the errors
 *    are the same either way.
 *  - Encoding copies each decoded entry's bytes (which are exactly Go's JSON of it, or else
 *    our own JSON is kept beside it) into a reused buffer; only entries the caller added are
 *    marshalled, by `indexJson`'s own entry writers.
 *
 * Entry caches are per tenant and bounded in total (`maxCachedEntries`); a tenant that does
 * not fit is decoded in full, correctly, just without the saving.
 */
import { gunzipSync } from "node:zlib";
import { goNumber } from "@strata/tsdb";
import { TenantCaches } from "../tenant-caches.ts";
import {
  DEFAULT_INDEX_LIMITS,
  IndexBlockSchema,
  IndexMarkSchema,
  decodeIndex,
  gzipIndexJson,
  indexBlockJson,
  indexMarkJson,
  type BucketIndex,
  type IndexBlock,
  type IndexDeletionMark,
  type IndexLimits,
} from "./schema.ts";

/** Entries (blocks and marks) kept validated across all tenants: ~0.5 KB each. */
export const DEFAULT_CACHED_ENTRIES = 200_000;

/**
 * An entry validated before: where its bytes are in the last JSON read (`src`, kept while the
 * tenant is cached: one buffer, not one per entry, which the garbage collector would have to
 * walk), and our own JSON for it when that differs from what was read.
 */
interface Cached<T> {
  src: Buffer;
  off: number;
  len: number;
  value: T;
  ours?: Buffer;
}

/** Keyed by a hash of the block id: an entry is reused only when its bytes are the same. */
interface TenantCache {
  blocks: Map<number, Cached<IndexBlock>>;
  marks: Map<number, Cached<IndexDeletionMark>>;
}

export class IndexCodec {
  private readonly limits: IndexLimits;
  /** Least recently used first. */
  private readonly tenants: TenantCaches<TenantCache>;
  /** Each decoded entry's cache record: its JSON for encoding. */
  private readonly records = new WeakMap<object, Cached<object>>();
  /** The encoder's output buffer, reused (grown as needed): not 27 MB of garbage per round. */
  private scratch = Buffer.alloc(0);

  constructor(opts: { limits?: Partial<IndexLimits>; maxCachedEntries?: number } = {}) {
    this.limits = { ...DEFAULT_INDEX_LIMITS, ...opts.limits };
    this.tenants = new TenantCaches(
      opts.maxCachedEntries ?? DEFAULT_CACHED_ENTRIES,
      (t) => t.blocks.size + t.marks.size,
    );
  }

  /** `decodeIndex` with the same limits and errors; entries are frozen and shared between calls. */
  decode(bytes: Uint8Array, where: string, tenant: string): BucketIndex {
    if (bytes.length > this.limits.maxCompressedBytes) return decodeIndex(bytes, where, this.limits);
    let json: Buffer;
    try {
      json = gunzipSync(bytes, { maxOutputLength: this.limits.maxDecompressedBytes });
    } catch {
      return decodeIndex(bytes, where, this.limits); // names the limit or the gzip error
    }
    const prev = this.tenants.take(tenant);
    const next: TenantCache = { blocks: new Map(), marks: new Map() };
    const idx = splitCanonical(json, this.limits.maxEntries, prev, next, this);
    if (!idx) return decodeIndex(bytes, where, this.limits);
    this.tenants.put(tenant, next);
    return idx;
  }

  /** `encodeIndex`'s bytes (as Go's gzip.Writer frames them), from cached entry JSON where there is some. */
  encode(idx: BucketIndex): Uint8Array {
    const head = Buffer.from(`{"version":${goNumber(idx.version)},"blocks":`);
    const mid = Buffer.from(',"block_deletion_marks":');
    const tail = Buffer.from(`,"updated_at":${goNumber(idx.updated_at)}}`);
    const blocks = this.pieces(idx.blocks, indexBlockJson);
    const marks = this.pieces(idx.block_deletion_marks, indexMarkJson);
    const total = head.length + blocks.bytes + mid.length + marks.bytes + tail.length;
    if (this.scratch.length < total) this.scratch = Buffer.allocUnsafe(Math.ceil(total * 1.25));
    const out = this.scratch;
    let off = head.copy(out, 0);
    off = this.write(out, off, idx.blocks, blocks.fresh);
    off += mid.copy(out, off);
    off = this.write(out, off, idx.block_deletion_marks, marks.fresh);
    off += tail.copy(out, off);
    return gzipIndexJson(out.subarray(0, off));
  }

  /** Forget one tenant's entries (or all). */
  evict(tenant?: string): void {
    this.tenants.evict(tenant);
  }

  /** A decoded entry's record; `ours` only when its bytes are not exactly what we would write. */
  adopt<T extends object>(c: Cached<T>, json: (x: T) => string): void {
    const ours = Buffer.from(json(c.value), "utf8");
    if (ours.length !== c.len || c.src.compare(ours, 0, ours.length, c.off, c.off + c.len) !== 0) c.ours = ours;
    this.records.set(c.value, c as Cached<object>);
  }

  /** The array's JSON length, and the JSON of entries without a record (added by the caller). */
  private pieces<T extends object>(items: readonly T[], json: (x: T) => string): { bytes: number; fresh: Buffer[] } {
    let bytes = items.length > 0 ? items.length + 1 : 2; // brackets and commas
    const fresh: Buffer[] = [];
    for (const it of items) {
      const c = this.records.get(it);
      if (c) bytes += c.ours ? c.ours.length : c.len;
      else {
        const b = Buffer.from(json(it), "utf8");
        fresh.push(b);
        bytes += b.length;
      }
    }
    return { bytes, fresh };
  }

  private write<T extends object>(out: Buffer, off: number, items: readonly T[], fresh: Buffer[]): number {
    out[off++] = 0x5b;
    let f = 0;
    for (let i = 0; i < items.length; i++) {
      if (i > 0) out[off++] = 0x2c;
      const c = this.records.get(items[i]!);
      if (!c) off += fresh[f++]!.copy(out, off);
      else if (c.ours) off += c.ours.copy(out, off);
      else off += c.src.copy(out, off, c.off, c.off + c.len);
    }
    out[off++] = 0x5d;
    return off;
  }
}

// --- the canonical document, split without parsing -----------------------------------

const enc = (s: string) => Buffer.from(s, "latin1");
const K_VERSION = enc('{"version":');
const K_BLOCKS = enc(',"blocks":');
const K_MARKS = enc(',"block_deletion_marks":');
const K_UPDATED = enc(',"updated_at":');
const NULL = enc("null");
/** Between two entries of an array. */
const BETWEEN = enc('},{"block_id":"');

/**
 * The index when `json` is in canonical form and every entry is valid; undefined otherwise
 * (the caller then runs the full decoder, which reports the problem).
 */
function splitCanonical(
  json: Buffer,
  maxEntries: number,
  prev: TenantCache | undefined,
  next: TenantCache,
  codec: IndexCodec,
): BucketIndex | undefined {
  let i = 0;
  const lit = (k: Buffer): boolean => {
    if (json.length - i < k.length || json.compare(k, 0, k.length, i, i + k.length) !== 0) return false;
    i += k.length;
    return true;
  };
  const int = (): number | undefined => {
    const s = i;
    if (json[i] === 0x2d) i++;
    while (i < json.length && json[i]! >= 0x30 && json[i]! <= 0x39) i++;
    if (i === s || i - s > 17) return undefined;
    const v = Number(json.toString("latin1", s, i));
    return Number.isSafeInteger(v) ? v : undefined;
  };
  const count = { n: 0, max: maxEntries };
  /**
   * The entries of an array (or null) that ends where `next` begins: `[start, last)` with
   * `last` at the closing bracket. `next` (a key with quotes) cannot occur inside a JSON
   * string, and the entries are then checked piece by piece (`entriesIn`).
   */
  const region = (next: Buffer): [number, number] | undefined => {
    if (lit(NULL)) return [i, i];
    if (json[i] !== 0x5b) return undefined;
    i++;
    if (json[i] === 0x5d) {
      i++;
      return [i - 1, i - 1];
    }
    const end = json.indexOf(next, i);
    if (end < 0 || json[end - 1] !== 0x5d || json[end - 2] !== 0x7d) return undefined;
    const r: [number, number] = [i, end - 1];
    i = end;
    return r;
  };
  if (!lit(K_VERSION)) return undefined;
  const version = int();
  if (version !== 1 && version !== 2) return undefined;
  if (!lit(K_BLOCKS)) return undefined;
  const blockRegion = region(K_MARKS);
  if (!blockRegion || !lit(K_MARKS)) return undefined;
  const markRegion = region(K_UPDATED);
  if (!markRegion || !lit(K_UPDATED)) return undefined;
  const updatedAt = int();
  if (updatedAt === undefined || !lit(enc("}"))) return undefined;
  while (i < json.length && (json[i] === 0x0a || json[i] === 0x20)) i++;
  if (i !== json.length) return undefined;

  const blocks = entriesIn(json, blockRegion, prev?.blocks, next.blocks, IndexBlockSchema, count, (c) =>
    codec.adopt(c, indexBlockJson),
  );
  if (!blocks) return undefined;
  const marks = entriesIn(json, markRegion, prev?.marks, next.marks, IndexMarkSchema, count, (c) =>
    codec.adopt(c, indexMarkJson),
  );
  if (!marks) return undefined;
  return {
    version,
    blocks: blocks as IndexBlock[],
    block_deletion_marks: marks as IndexDeletionMark[],
    updated_at: updatedAt,
  };
}

/** Every entry starts with its block id (Mimir's struct order): `{"block_id":"<26 chars>"`. */
const ID_PREFIX = enc('{"block_id":"');
const ID_END = ID_PREFIX.length + 26;

/** FNV-1a of a block id's bytes: which cached entry to compare a piece with (a collision only costs a parse). */
function idHash(b: Buffer, at: number): number {
  let h = 0x811c9dc5;
  for (let k = at; k < at + 26; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
  return h >>> 0;
}

/**
 * The entries in `[start, last)`, each either the bytes of an entry validated before (one
 * native compare, then a comma or the end) or a piece up to the next `},{"block_id":"`,
 * parsed and validated whole. Undefined when a piece is not one valid entry.
 */
function entriesIn<T extends object>(
  json: Buffer,
  [start, last]: [number, number],
  prev: Map<number, Cached<T>> | undefined,
  next: Map<number, Cached<T>>,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  count: { n: number; max: number },
  adopt: (c: Cached<T>) => void,
): T[] | undefined {
  const out: T[] = [];
  if (start === last) return out;
  let s = start;
  for (;;) {
    if (++count.n > count.max || last - s <= ID_END) return undefined;
    const key = idHash(json, s + ID_PREFIX.length);
    let c = prev?.get(key) ?? next.get(key);
    let e = c === undefined ? -1 : s + c.len;
    if (
      c === undefined ||
      e > last ||
      (e < last && json[e] !== 0x2c) ||
      json.compare(c.src, c.off, c.off + c.len, s, e) !== 0
    ) {
      const d = json.indexOf(BETWEEN, s);
      e = d < 0 || d >= last ? last : d + 1;
      if (json.compare(ID_PREFIX, 0, ID_PREFIX.length, s, s + ID_PREFIX.length) !== 0 || json[s + ID_END] !== 0x22)
        return undefined;
      let raw: unknown;
      try {
        raw = JSON.parse(json.toString("utf8", s, e));
      } catch {
        return undefined;
      }
      const r = schema.safeParse(raw);
      if (!r.success) return undefined;
      const value = r.data as T & { labels?: object };
      if (value.labels) Object.freeze(value.labels);
      c = { src: json, off: s, len: e - s, value: Object.freeze(value) };
      adopt(c);
    } else if (c.src !== json) {
      // Same bytes at a new place: the record now points into this JSON (the old one can go).
      c.src = json;
      c.off = s;
    }
    next.set(key, c);
    out.push(c.value);
    if (e === last) return out;
    if (json[e] !== 0x2c) return undefined;
    s = e + 1;
  }
}
