/**
 * The tsdb read ports over an object store, so verification and compaction read a block in
 * place (ranged GETs); block-sink.ts writes one straight into the bucket.
 *
 * Reads are served from fixed-size pages kept in a byte-bounded LRU shared by all
 * objects of a source. Missing pages are fetched in runs: every page requested in the
 * same tick is collected, neighbours closer than `maxGapPages` are merged, and each run is
 * one GET (at most `MAX_RANGE`, so a large read is several GETs at once). Concurrent
 * requests for a page in flight share that GET. A sequential walk (read-ahead.ts) has the
 * pages ahead of it fetched by concurrent GETs growing to `MAX_RANGE`, as far ahead as its
 * share of the job's read-ahead budget.
 */
import type { BlockSource, ByteSource } from "@strata/tsdb";
import { RangeCache } from "./range-cache.ts";
import { MAX_RANGE, StreamTracker, type Stream } from "./read-ahead.ts";
import { ObjectNotFoundError, listAll, type ObjectStore } from "./store.ts";

export interface StoreByteSourceOptions {
  /**
   * Fetch this many bytes at each end of the object with its first read (default 0): an index's
   * opening reads (header, symbols, postings offset table, TOC) then cost one round trip, not four.
   */
  edges?: number;
}

/** One object as a ByteSource. `size` must be known (from a HEAD or a listing). */
export class StoreByteSource implements ByteSource {
  readonly store: ObjectStore;
  readonly key: string;
  readonly size: number;
  private readonly cache: RangeCache;
  /** Whose pages these are in a shared cache (the block, for StoreBlockSource): eviction is fair across owners. */
  private readonly owner: string;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();
  private pending: PageRequest[] = [];
  private scheduled = false;
  private readonly streams: StreamTracker;
  /** Bytes at each end fetched with the first read (then 0): see `StoreByteSourceOptions.edges`. */
  private edges: number;

  constructor(
    store: ObjectStore,
    key: string,
    size: number,
    cache: RangeCache = new RangeCache(),
    owner = `${store.url}/${key}`,
    opts: StoreByteSourceOptions = {},
  ) {
    this.store = store;
    this.key = key;
    this.size = size;
    this.cache = cache;
    this.owner = owner;
    this.streams = new StreamTracker((d) => cache.countStreams(d));
    this.edges = opts.edges ?? 0;
  }

  static async open(
    store: ObjectStore,
    key: string,
    cache?: RangeCache,
    owner?: string,
  ): Promise<StoreByteSource | undefined> {
    const h = await store.head(key, { etag: false });
    return h ? new StoreByteSource(store, key, h.size, cache, owner) : undefined;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const { pages, start } = await this.pagesOf(offset, length);
    if (pages.length === 0) return new Uint8Array(0);
    if (pages.length === 1) return pages[0]!.subarray(start, start + length);
    return this.gather(pages, start, new Uint8Array(length));
  }

  /**
   * `read` into the caller's buffer. Having it is what lets the chunk reader read the next
   * window ahead while the current one is consumed, so a sequential walk over S3 overlaps
   * its GETs with the work instead of waiting for each one.
   */
  async readInto(offset: number, dst: Uint8Array): Promise<void> {
    const { pages, start } = await this.pagesOf(offset, dst.length);
    if (pages.length > 0) this.gather(pages, start, dst);
  }

  /** The cache pages covering [offset, offset + length), and where the range starts in the first. */
  private async pagesOf(offset: number, length: number): Promise<{ pages: Uint8Array[]; start: number }> {
    if (
      !(
        Number.isInteger(offset) &&
        Number.isInteger(length) &&
        offset >= 0 &&
        length >= 0 &&
        offset + length <= this.size
      )
    ) {
      throw new RangeError(
        `${this.store.url}/${this.key}: read [${offset}, ${offset + length}) outside object of ${this.size} bytes`,
      );
    }
    if (length === 0) return { pages: [], start: 0 };
    const ps = this.cache.pageSize;
    const first = Math.floor(offset / ps);
    const last = Math.floor((offset + length - 1) / ps);
    const stream = this.streams.observe(offset, offset + length);
    const wanted = Array.from({ length: last - first + 1 }, (_, i) => this.page(first + i, stream === undefined));
    if (this.edges > 0) this.fetchEdges();
    if (stream) {
      // A walk's own pages go first (its reads are one after the other: nothing to collect), then what is ahead.
      if (this.scheduled) this.flush();
      this.readAhead(stream);
    }
    return { pages: await Promise.all(wanted), start: offset - first * ps };
  }

  /** With the first read, the pages of both ends (a tsdb index: header and symbols, postings offset table and TOC). */
  private fetchEdges(): void {
    const ps = this.cache.pageSize;
    const head = Math.ceil(Math.min(this.size, this.edges) / ps);
    const tail = Math.floor(Math.max(0, this.size - this.edges) / ps);
    const pages = Math.ceil(this.size / ps);
    this.edges = 0;
    for (let n = 0; n < pages; n = n + 1 === head ? Math.max(head, tail) : n + 1) this.page(n).catch(() => {}); // a read of these pages sees a failure
  }

  /** Forget this object's walks (their share of the read-ahead budget goes to the others). */
  async close(): Promise<void> {
    this.streams.clear();
  }

  /**
   * Fetch the pages ahead of a walk up to its share of the budget, by GETs that double from
   * FIRST_RANGE to MAX_RANGE, all at once; pages cached or in flight are skipped. Each GET's
   * bytes are reserved in the cache until they are pages, so the bound holds while in flight.
   */
  private readAhead(s: Stream): void {
    const ps = this.cache.pageSize;
    const share = this.cache.aheadShare();
    const limit = Math.min(this.size, s.pos + share);
    s.aheadTo = Math.max(s.aheadTo, s.pos);
    // Whole GETs only (the reader advances a window at a time), except for an object's last bytes.
    const step = Math.max(ps, Math.min(s.range, share));
    if (limit < this.size && limit - s.aheadTo < step) return;
    let p = Math.ceil(s.aheadTo / ps);
    const end = Math.ceil(limit / ps);
    while (p < end) {
      // Skip what is already here or coming.
      while (p < end && (this.inflight.has(p) || this.cache.has(this.pageKey(p), this.owner))) p++;
      if (p >= end) break;
      let q = p;
      const most = p + Math.max(1, Math.floor(Math.min(s.range, share) / ps));
      while (
        q + 1 < Math.min(end, most) &&
        !this.inflight.has(q + 1) &&
        !this.cache.has(this.pageKey(q + 1), this.owner)
      )
        q++;
      const bytes = Math.min(this.size, (q + 1) * ps) - p * ps;
      if (!this.cache.reserve(bytes)) break;
      const run: PageRequest[] = [];
      for (let n = p; n <= q; n++) {
        const req = { page: n } as PageRequest;
        const promise = new Promise<Uint8Array>((resolve, reject) => Object.assign(req, { resolve, reject }));
        promise.catch(() => {}); // a read awaiting it sees the failure; nobody else need
        this.inflight.set(n, promise);
        run.push(req);
      }
      this.cache.stats.aheadGets++;
      this.cache.stats.aheadBytes += bytes;
      void this.fetchRun(run, bytes);
      s.range = Math.min(MAX_RANGE, s.range * 2);
      p = q + 1;
    }
    s.aheadTo = Math.max(s.aheadTo, Math.min(this.size, p * ps));
    if (s.aheadTo >= this.size) this.streams.finished(s);
  }

  private pageKey(n: number): string {
    return `${this.store.url}\0${this.key}\0${n}`;
  }

  /** Copy the range out of its pages into `out` (all of it). */
  private gather(pages: Uint8Array[], start: number, out: Uint8Array): Uint8Array {
    const length = out.length;
    let o = 0;
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      const from = i === 0 ? start : 0;
      const to = Math.min(p.length, from + (length - o));
      out.set(p.subarray(from, to), o);
      o += to - from;
    }
    return out;
  }

  /** Page `n`; `touch` false for a walk's pages (see RangeCache.get). */
  private page(n: number, touch = true): Promise<Uint8Array> {
    const k = this.pageKey(n);
    const hit = this.cache.get(k, this.owner, touch);
    if (hit) {
      this.cache.stats.hits++;
      return Promise.resolve(hit);
    }
    const fl = this.inflight.get(n);
    if (fl) return fl;
    this.cache.stats.misses++;
    const p = new Promise<Uint8Array>((resolve, reject) => this.pending.push({ page: n, resolve, reject }));
    this.inflight.set(n, p);
    if (!this.scheduled) {
      this.scheduled = true;
      // Collect every page asked for in this tick, then fetch them in merged runs.
      setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    this.scheduled = false;
    const reqs = this.pending.sort((a, b) => a.page - b.page);
    this.pending = [];
    const most = Math.max(1, Math.floor(MAX_RANGE / this.cache.pageSize));
    let i = 0;
    while (i < reqs.length) {
      let j = i;
      while (
        j + 1 < reqs.length &&
        reqs[j + 1]!.page - reqs[j]!.page <= this.cache.maxGapPages + 1 &&
        reqs[j + 1]!.page - reqs[i]!.page < most
      )
        j++;
      void this.fetchRun(reqs.slice(i, j + 1));
      i = j + 1;
    }
  }

  /** One GET for the run's pages; `reserved`: read-ahead bytes the cache holds for it until then. */
  private async fetchRun(run: PageRequest[], reserved = 0): Promise<void> {
    const ps = this.cache.pageSize;
    const first = run[0]!.page;
    const last = run[run.length - 1]!.page;
    const from = first * ps;
    const range = { offset: from, length: Math.min(this.size, (last + 1) * ps) - from };
    let released = reserved === 0;
    try {
      this.cache.stats.gets++;
      let pages: Uint8Array[];
      if (this.store.getInto) {
        // Straight into the pages: one copy of each byte, no run-sized buffer to collect first.
        pages = Array.from(
          { length: last - first + 1 },
          (_, i) => new Uint8Array(Math.min(ps, this.size - (first + i) * ps)),
        );
        if (!(await this.store.getInto(this.key, range, pages)))
          throw new ObjectNotFoundError(this.key, `${this.store.url}/`);
      } else {
        const r = await this.store.get(this.key, range);
        if (!r) throw new ObjectNotFoundError(this.key, `${this.store.url}/`);
        pages = Array.from({ length: last - first + 1 }, (_, i) =>
          r.body.slice(i * ps, Math.min(r.body.length, (i + 1) * ps)),
        );
      }
      this.cache.release(reserved);
      released = true;
      this.cache.stats.fetchedBytes += range.length;
      // Cache every page of the run, gap pages included: they cost nothing more now.
      for (let p = first; p <= last; p++) {
        const bytes = pages[p - first]!;
        this.cache.set(this.pageKey(p), bytes, this.owner);
        const req = run.find((x) => x.page === p);
        if (req) {
          this.inflight.delete(p);
          req.resolve(bytes);
        }
      }
    } catch (e) {
      if (!released) this.cache.release(reserved);
      for (const req of run) {
        this.inflight.delete(req.page);
        req.reject(e);
      }
    }
  }
}

interface PageRequest {
  page: number;
  resolve: (b: Uint8Array) => void;
  reject: (e: unknown) => void;
}

/** Keys a block's listing may hold before `StoreBlockSource` gives up on it and HEADs each file instead. */
const MAX_LISTED = 10_000;
/** Bytes at each end of a block's index fetched with its first read (`StoreByteSourceOptions.edges`). */
export const INDEX_EDGE_BYTES = 1 << 20;

/**
 * A block directory in a bucket (`<prefix>` = `<tenant>/<ULID>/`) as a BlockSource. Its files
 * share `cache`, as one owner: a job passes one cache to all its inputs (bounded as a whole,
 * `JOB_CACHE_BYTES`), and each input keeps at least its share of it.
 *
 * The block's files and their sizes come from one listing, taken at the first open and kept:
 * a block is immutable once its meta.json is written, and opening it then costs one LIST
 * instead of a HEAD per file (meta.json, index, each segment, tombstones). Past `MAX_LISTED`
 * keys (a hostile prefix) each file is HEADed instead.
 */
export class StoreBlockSource implements BlockSource {
  readonly store: ObjectStore;
  readonly prefix: string;
  readonly name: string;
  readonly cache: RangeCache;
  private listing: Promise<Map<string, number> | undefined> | undefined;

  constructor(store: ObjectStore, prefix: string, cache: RangeCache = new RangeCache()) {
    this.store = store;
    this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    this.name = `${store.url}/${this.prefix.slice(0, -1)}`;
    this.cache = cache;
  }

  async open(relPath: string): Promise<ByteSource> {
    const s = await this.tryOpen(relPath);
    if (!s) throw new ObjectNotFoundError(this.prefix + relPath, `${this.store.url}/`);
    return s;
  }

  async tryOpen(relPath: string): Promise<ByteSource | undefined> {
    const files = await this.files();
    const opts = relPath === "index" ? { edges: INDEX_EDGE_BYTES } : {};
    if (!files) {
      const h = await this.store.head(this.prefix + relPath, { etag: false });
      return h && new StoreByteSource(this.store, this.prefix + relPath, h.size, this.cache, this.name, opts);
    }
    const size = files.get(relPath);
    return size === undefined
      ? undefined
      : new StoreByteSource(this.store, this.prefix + relPath, size, this.cache, this.name, opts);
  }

  /** The block's files (relative path → size), or undefined when there are too many to keep. */
  private files(): Promise<Map<string, number> | undefined> {
    this.listing ??= (async () => {
      const files = new Map<string, number>();
      for await (const o of listAll(this.store, this.prefix)) {
        if (files.size === MAX_LISTED) return undefined;
        files.set(o.key.slice(this.prefix.length), o.size);
      }
      return files;
    })();
    // A failed listing is not kept: the next open tries again.
    this.listing.catch(() => (this.listing = undefined));
    return this.listing;
  }

  async listChunkFiles(): Promise<string[]> {
    const files = await this.files();
    if (files)
      return [...files.keys()]
        .filter((k) => k.startsWith("chunks/") && !k.includes("/", 7))
        .map((k) => k.slice(7))
        .sort();
    const names: string[] = [];
    const p = this.prefix + "chunks/";
    for await (const o of listAll(this.store, p)) {
      const rest = o.key.slice(p.length);
      if (!rest.includes("/")) names.push(rest);
    }
    return names.sort();
  }
}
