/**
 * The byte-bounded page cache a job's block sources share (`RangeCache.forJob`), with the
 * job's read-ahead budget: pages plus read-ahead in flight never exceed `maxBytes`.
 */
import { MAX_AHEAD } from "./read-ahead.ts";

export interface RangeCacheOptions {
  /** Upper bound of cached bytes (default 64 MiB; a job's cache shared by its inputs: `JOB_CACHE_BYTES`). */
  maxBytes?: number;
  /** Page size in bytes (default 256 KiB): the unit of fetching and caching. */
  pageSize?: number;
  /** Missing pages at most this many pages apart are fetched by one GET (default 4). */
  maxGapPages?: number;
  /**
   * Of `maxBytes`, how much sequential walks may have in flight ahead of their reads (default
   * half), shared evenly by the walks active at the time; 0 = no read-ahead.
   */
  readAheadBytes?: number;
}

/** A cache's bound when none is given: 64 MiB, what one source had to itself before caches were shared. */
export const SOURCE_CACHE_BYTES = 64 << 20;

/** The bound of the one page cache a compaction or downsampling job shares across its inputs: 256 MiB. */
export const JOB_CACHE_BYTES = 256 << 20;

interface Owner {
  /** This owner's pages, least recently used first. */
  readonly pages: Map<string, Uint8Array>;
  bytes: number;
}

/**
 * A byte-bounded cache of object pages, which any number of sources may share (one per
 * job: every input of a compaction). Pages belong to an owner (a block, for
 * `StoreBlockSource`); the cache never holds more than `maxBytes`, and to make room it
 * evicts the least recently used page of the owner holding the most bytes. So eviction is
 * fair across inputs: an input below its share (`maxBytes` / inputs) keeps its pages
 * however hard another reads, and an input alone may use the whole bound. Within one
 * owner it is a plain LRU.
 */
export class RangeCache {
  readonly maxBytes: number;
  readonly pageSize: number;
  readonly maxGapPages: number;
  readonly readAheadBytes: number;
  private readonly owners = new Map<string, Owner>();
  /** Pages held plus read-ahead in flight (`reserved`): never above `maxBytes`. */
  private bytes = 0;
  private reserved = 0;
  private streams = 0;
  /**
   * Counters for tests and benchmarks; `peakBytes` is the most the cache ever held (pages and
   * read-ahead in flight); `aheadGets` / `aheadBytes` are the read-ahead's share of `gets` / `fetchedBytes`.
   */
  readonly stats = {
    hits: 0,
    misses: 0,
    gets: 0,
    fetchedBytes: 0,
    evictions: 0,
    peakBytes: 0,
    aheadGets: 0,
    aheadBytes: 0,
  };

  constructor(opts: RangeCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? SOURCE_CACHE_BYTES;
    this.pageSize = opts.pageSize ?? 256 << 10;
    this.maxGapPages = opts.maxGapPages ?? 4;
    this.readAheadBytes = Math.min(this.maxBytes, opts.readAheadBytes ?? Math.floor(this.maxBytes / 2));
    if (!(this.pageSize > 0 && Number.isInteger(this.pageSize)))
      throw new RangeError(`page size must be a positive integer, got ${this.pageSize}`);
    if (!(this.maxBytes >= 0))
      throw new RangeError(`cache bound must be a non-negative number of bytes, got ${this.maxBytes}`);
    if (!(this.readAheadBytes >= 0))
      throw new RangeError(`read-ahead budget must be a non-negative number of bytes, got ${this.readAheadBytes}`);
  }

  /**
   * The one cache of a job reading `inputs` blocks: `maxBytes` (default `JOB_CACHE_BYTES`) in
   * all, and never more than the `SOURCE_CACHE_BYTES` per input that separate caches had, so
   * a single-input job (a downsampling) keeps what it had and a 30-input merge 256 MiB, not 1.9 GB.
   */
  static forJob(
    inputs: number,
    maxBytes: number = JOB_CACHE_BYTES,
    opts: Omit<RangeCacheOptions, "maxBytes"> = {},
  ): RangeCache {
    return new RangeCache({ ...opts, maxBytes: Math.min(maxBytes, Math.max(1, inputs) * SOURCE_CACHE_BYTES) });
  }

  /** Bytes held now (never above `maxBytes`). */
  get size(): number {
    return this.bytes;
  }

  /** Bytes held for `owner`. */
  sizeOf(owner = ""): number {
    return this.owners.get(owner)?.bytes ?? 0;
  }

  /** Owners with pages in the cache. */
  get ownerCount(): number {
    return this.owners.size;
  }

  /**
   * The page, made most recently used unless `touch` is false: a sequential walk's pages keep
   * their fetch order, so the pages it has consumed go before those read ahead of it.
   */
  get(k: string, owner = "", touch = true): Uint8Array | undefined {
    const o = this.owners.get(owner);
    const v = o?.pages.get(k);
    if (v && touch) {
      o!.pages.delete(k);
      o!.pages.set(k, v);
    }
    return v;
  }

  has(k: string, owner = ""): boolean {
    return this.owners.get(owner)?.pages.has(k) ?? false;
  }

  set(k: string, v: Uint8Array, owner = ""): void {
    // What read-ahead has in flight is not evictable: a page that does not fit beside it is not kept.
    if (v.length > this.maxBytes - this.reserved) return;
    const had = this.owners.get(owner);
    const old = had?.pages.get(k);
    if (had && old) {
      had.pages.delete(k);
      had.bytes -= old.length;
      this.bytes -= old.length;
    }
    // Room first, so the bound holds at every moment.
    while (this.bytes + v.length > this.maxBytes) this.evictOne(owner, v.length);
    let o = this.owners.get(owner);
    if (!o) this.owners.set(owner, (o = { pages: new Map(), bytes: 0 }));
    o.pages.set(k, v);
    o.bytes += v.length;
    this.bytes += v.length;
    if (this.bytes > this.stats.peakBytes) this.stats.peakBytes = this.bytes;
  }

  /**
   * Room for `n` bytes of read-ahead in flight, within `readAheadBytes` (pages are evicted to
   * make it); false when the budget is spent. `release(n)` when the bytes have become pages.
   */
  reserve(n: number): boolean {
    if (this.reserved + n > this.readAheadBytes) return false;
    while (this.bytes + n > this.maxBytes) this.evictOne("", 0);
    this.bytes += n;
    this.reserved += n;
    if (this.bytes > this.stats.peakBytes) this.stats.peakBytes = this.bytes;
    return true;
  }

  release(n: number): void {
    this.bytes -= n;
    this.reserved -= n;
  }

  /** How far ahead of its reads one sequential walk may fetch: an even share of the read-ahead budget. */
  aheadShare(): number {
    return Math.min(MAX_AHEAD, Math.floor(this.readAheadBytes / Math.max(1, this.streams)));
  }

  /** Walks reading ahead now (StoreByteSource's trackers count them in and out). */
  countStreams(delta: 1 | -1): void {
    this.streams += delta;
  }

  /** Forget every page of `owner` (a source that is done). */
  drop(owner = ""): void {
    const o = this.owners.get(owner);
    if (!o) return;
    this.bytes -= o.bytes;
    this.owners.delete(owner);
  }

  /** The least recently used page of the owner holding the most bytes, counting the page `owner` is adding. */
  private evictOne(owner: string, adding: number): void {
    let victim: [string, Owner] | undefined;
    let most = -1;
    for (const e of this.owners) {
      const held = e[1].bytes + (e[0] === owner ? adding : 0);
      if (held > most) {
        victim = e;
        most = held;
      }
    }
    if (victim === undefined) throw new Error("RangeCache: over its bound with nothing to evict");
    const [name, o] = victim;
    for (const [key, val] of o.pages) {
      o.pages.delete(key);
      o.bytes -= val.length;
      this.bytes -= val.length;
      this.stats.evictions++;
      break;
    }
    if (o.pages.size === 0) this.owners.delete(name);
  }
}
