/**
 * The bucket index's codec for its writers, incremental: an index update at 100k blocks
 * re-reads and re-writes ~27 MB of JSON, and parsing and marshalling every entry each time
 * cost seconds of CPU per compare-and-swap round. Entries are immutable (a block's entry
 * never changes; a deletion mark is added or dropped whole), so:
 *
 *  - Decoding splits the canonical document (Go's field order, no whitespace, as Mimir and
 *    Strata write it) into entry texts without parsing them, and parses and validates only
 *    the texts it has not seen before: the others map to the entry already validated. Any
 *    document off that shape goes through `decodeIndex`, which checks everything and names
 *    what is wrong, so the errors are the same either way.
 *  - Encoding keeps each entry's Go JSON bytes beside the (frozen) entry object and joins
 *    them; new entries are marshalled by `indexJson`'s own entry writers.
 *
 * Entry caches are per tenant and bounded in total (`maxCachedEntries`); a tenant that does
 * not fit is decoded in full, correctly, just without the saving.
 */
import { gunzipSync } from "node:zlib";
import { goNumber } from "@strata/tsdb";
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

interface TenantCache {
  blocks: Map<string, IndexBlock>;
  marks: Map<string, IndexDeletionMark>;
}

export class IndexCodec {
  private readonly limits: IndexLimits;
  private readonly maxCachedEntries: number;
  /** Least recently used first. */
  private readonly tenants = new Map<string, TenantCache>();
  private readonly blockBytes = new WeakMap<IndexBlock, Buffer>();
  private readonly markBytes = new WeakMap<IndexDeletionMark, Buffer>();

  constructor(opts: { limits?: Partial<IndexLimits>; maxCachedEntries?: number } = {}) {
    this.limits = { ...DEFAULT_INDEX_LIMITS, ...opts.limits };
    this.maxCachedEntries = opts.maxCachedEntries ?? DEFAULT_CACHED_ENTRIES;
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
    const prev = this.tenants.get(tenant);
    this.tenants.delete(tenant);
    const next: TenantCache = { blocks: new Map(), marks: new Map() };
    const idx = splitCanonical(json, this.limits.maxEntries, prev, next);
    if (!idx) return decodeIndex(bytes, where, this.limits);
    if (next.blocks.size + next.marks.size <= this.maxCachedEntries) this.keep(tenant, next);
    return idx;
  }

  /** `encodeIndex`'s bytes (as Go's gzip.Writer frames them), from cached entry JSON where there is some. */
  encode(idx: BucketIndex): Uint8Array {
    const parts: Buffer[] = [Buffer.from(`{"version":${goNumber(idx.version)},"blocks":`)];
    parts.push(this.array(idx.blocks, this.blockBytes, indexBlockJson));
    parts.push(Buffer.from(',"block_deletion_marks":'));
    parts.push(this.array(idx.block_deletion_marks, this.markBytes, indexMarkJson));
    parts.push(Buffer.from(`,"updated_at":${goNumber(idx.updated_at)}}`));
    return gzipIndexJson(Buffer.concat(parts));
  }

  /** Forget one tenant's entries (or all). */
  evict(tenant?: string): void {
    if (tenant === undefined) this.tenants.clear();
    else this.tenants.delete(tenant);
  }

  private array<T extends object>(items: readonly T[], cache: WeakMap<T, Buffer>, json: (x: T) => string): Buffer {
    if (items.length === 0) return Buffer.from("[]");
    const parts = new Array<Buffer>(items.length * 2 + 1);
    parts[0] = OPEN;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      let b = cache.get(it);
      if (!b) {
        b = Buffer.from(json(it), "utf8");
        if (Object.isFrozen(it)) cache.set(it, b);
      }
      parts[2 * i + 1] = b;
      parts[2 * i + 2] = i + 1 < items.length ? COMMA : CLOSE;
    }
    return Buffer.concat(parts);
  }

  private keep(tenant: string, c: TenantCache): void {
    this.tenants.set(tenant, c);
    let total = 0;
    for (const t of this.tenants.values()) total += t.blocks.size + t.marks.size;
    for (const [name, t] of this.tenants) {
      if (total <= this.maxCachedEntries || name === tenant) break;
      total -= t.blocks.size + t.marks.size;
      this.tenants.delete(name);
    }
  }
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

// --- the canonical document, split without parsing -----------------------------------

const enc = (s: string) => Buffer.from(s, "latin1");
const K_VERSION = enc('{"version":');
const K_BLOCKS = enc(',"blocks":');
const K_MARKS = enc(',"block_deletion_marks":');
const K_UPDATED = enc(',"updated_at":');
const NULL = enc("null");
/** An entry nests one object (labels) inside itself; anything deeper is not canonical. */
const MAX_ENTRY_DEPTH = 2;

/**
 * The index when `json` is in canonical form and every entry is valid; undefined otherwise
 * (the caller then runs the full decoder, which reports the problem).
 */
function splitCanonical(
  json: Buffer,
  maxEntries: number,
  prev: TenantCache | undefined,
  next: TenantCache,
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
  let entries = 0;
  /** [start, end) of each object element of an array (or null); undefined when not canonical. */
  const elements = (): [number, number][] | undefined => {
    if (lit(NULL)) return [];
    if (json[i] !== 0x5b) return undefined;
    i++;
    const out: [number, number][] = [];
    if (json[i] === 0x5d) {
      i++;
      return out;
    }
    for (;;) {
      if (json[i] !== 0x7b || ++entries > maxEntries) return undefined;
      const s = i;
      let depth = 0;
      for (; i < json.length; i++) {
        const c = json[i];
        if (c === 0x22) {
          for (i++; i < json.length && json[i] !== 0x22; i++) if (json[i] === 0x5c) i++;
        } else if (c === 0x7b || c === 0x5b) {
          if (++depth > MAX_ENTRY_DEPTH) return undefined;
        } else if (c === 0x7d || c === 0x5d) {
          if (--depth === 0) break;
        }
      }
      if (i >= json.length) return undefined;
      i++;
      out.push([s, i]);
      if (json[i] === 0x2c) i++;
      else if (json[i] === 0x5d) {
        i++;
        return out;
      } else return undefined;
    }
  };
  if (!lit(K_VERSION)) return undefined;
  const version = int();
  if (version !== 1 && version !== 2) return undefined;
  if (!lit(K_BLOCKS)) return undefined;
  const blockSpans = elements();
  if (!blockSpans || !lit(K_MARKS)) return undefined;
  const markSpans = elements();
  if (!markSpans || !lit(K_UPDATED)) return undefined;
  const updatedAt = int();
  if (updatedAt === undefined || !lit(enc("}"))) return undefined;
  while (i < json.length && (json[i] === 0x0a || json[i] === 0x20)) i++;
  if (i !== json.length) return undefined;

  const blocks = entriesOf(json, blockSpans, prev?.blocks, next.blocks, IndexBlockSchema);
  if (!blocks) return undefined;
  const marks = entriesOf(json, markSpans, prev?.marks, next.marks, IndexMarkSchema);
  if (!marks) return undefined;
  return {
    version,
    blocks: blocks as IndexBlock[],
    block_deletion_marks: marks as IndexDeletionMark[],
    updated_at: updatedAt,
  };
}

function entriesOf<T>(
  json: Buffer,
  spans: [number, number][],
  prev: Map<string, T> | undefined,
  next: Map<string, T>,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
): T[] | undefined {
  const out = new Array<T>(spans.length);
  for (let k = 0; k < spans.length; k++) {
    const [s, e] = spans[k]!;
    // latin1: one char per byte, so the key is the exact bytes (UTF-8 included) at no decoding cost.
    const key = json.toString("latin1", s, e);
    let v = prev?.get(key) ?? next.get(key);
    if (v === undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(json.toString("utf8", s, e));
      } catch {
        return undefined;
      }
      const r = schema.safeParse(raw);
      if (!r.success) return undefined;
      v = Object.freeze(r.data) as T;
    }
    next.set(key, v);
    out[k] = v;
  }
  return out;
}
