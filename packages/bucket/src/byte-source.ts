/**
 * The tsdb read/write ports over an object store, so verification and compaction read a
 * block in place (ranged GETs) and write one straight into the bucket.
 *
 * Reads are served from fixed-size pages kept in a byte-bounded LRU shared by all
 * objects of a source. Missing pages are fetched in runs: every page requested in the
 * same tick is collected, neighbours closer than `maxGapPages` are merged, and each run is
 * one GET. Concurrent requests for a page in flight share that GET.
 */
import {
  META_FILE,
  MemorySource,
  type BlockSink,
  type BlockSource,
  type ByteSink,
  type ByteSource,
} from "@strata/tsdb";
import { ObjectNotFoundError, listAll, type ObjectStore, type ObjectWriter } from "./store.ts";

export interface RangeCacheOptions {
  /** Upper bound of cached bytes (default 64 MiB; a job's cache shared by its inputs: `JOB_CACHE_BYTES`). */
  maxBytes?: number;
  /** Page size in bytes (default 256 KiB): the unit of fetching and caching. */
  pageSize?: number;
  /** Missing pages at most this many pages apart are fetched by one GET (default 4). */
  maxGapPages?: number;
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
  private readonly owners = new Map<string, Owner>();
  private bytes = 0;
  /** Counters for tests and benchmarks; `peakBytes` is the most the cache ever held. */
  readonly stats = { hits: 0, misses: 0, gets: 0, fetchedBytes: 0, evictions: 0, peakBytes: 0 };

  constructor(opts: RangeCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? SOURCE_CACHE_BYTES;
    this.pageSize = opts.pageSize ?? 256 << 10;
    this.maxGapPages = opts.maxGapPages ?? 4;
    if (!(this.pageSize > 0 && Number.isInteger(this.pageSize)))
      throw new RangeError(`page size must be a positive integer, got ${this.pageSize}`);
    if (!(this.maxBytes >= 0))
      throw new RangeError(`cache bound must be a non-negative number of bytes, got ${this.maxBytes}`);
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

  get(k: string, owner = ""): Uint8Array | undefined {
    const o = this.owners.get(owner);
    const v = o?.pages.get(k);
    if (v) {
      o!.pages.delete(k);
      o!.pages.set(k, v);
    }
    return v;
  }

  set(k: string, v: Uint8Array, owner = ""): void {
    if (v.length > this.maxBytes) return;
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

/** One object as a ByteSource. `size` must be known (from a HEAD or a listing). */
export class StoreByteSource implements ByteSource {
  readonly store: ObjectStore;
  readonly key: string;
  readonly size: number;
  private readonly cache: RangeCache;
  /** Whose pages these are in a shared cache (the block, for StoreBlockSource): eviction is fair across owners. */
  private readonly owner: string;
  private readonly inflight = new Map<number, Promise<Uint8Array>>();
  private pending: { page: number; resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    store: ObjectStore,
    key: string,
    size: number,
    cache: RangeCache = new RangeCache(),
    owner = `${store.url}/${key}`,
  ) {
    this.store = store;
    this.key = key;
    this.size = size;
    this.cache = cache;
    this.owner = owner;
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
    const pages = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => this.page(first + i)));
    return { pages, start: offset - first * ps };
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

  private page(n: number): Promise<Uint8Array> {
    const k = `${this.store.url}\0${this.key}\0${n}`;
    const hit = this.cache.get(k, this.owner);
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
    let i = 0;
    while (i < reqs.length) {
      let j = i;
      while (j + 1 < reqs.length && reqs[j + 1]!.page - reqs[j]!.page <= this.cache.maxGapPages + 1) j++;
      void this.fetchRun(reqs.slice(i, j + 1));
      i = j + 1;
    }
  }

  private async fetchRun(
    run: { page: number; resolve: (b: Uint8Array) => void; reject: (e: unknown) => void }[],
  ): Promise<void> {
    const ps = this.cache.pageSize;
    const from = run[0]!.page * ps;
    const to = Math.min(this.size, (run[run.length - 1]!.page + 1) * ps);
    try {
      this.cache.stats.gets++;
      const r = await this.store.get(this.key, { offset: from, length: to - from });
      if (!r) throw new ObjectNotFoundError(this.key, `${this.store.url}/`);
      this.cache.stats.fetchedBytes += r.body.length;
      // Cache every page of the run, gap pages included: they cost nothing more now.
      for (let p = run[0]!.page; p <= run[run.length - 1]!.page; p++) {
        const s = p * ps - from;
        const bytes = r.body.slice(s, Math.min(r.body.length, s + ps));
        this.cache.set(`${this.store.url}\0${this.key}\0${p}`, bytes, this.owner);
        const req = run.find((x) => x.page === p);
        if (req) {
          this.inflight.delete(p);
          req.resolve(bytes);
        }
      }
    } catch (e) {
      for (const req of run) {
        this.inflight.delete(req.page);
        req.reject(e);
      }
    }
  }
}

/**
 * A block directory in a bucket (`<prefix>` = `<tenant>/<ULID>/`) as a BlockSource. Its files
 * share `cache`, as one owner: a job passes one cache to all its inputs (bounded as a whole,
 * `JOB_CACHE_BYTES`), and each input keeps at least its share of it.
 */
export class StoreBlockSource implements BlockSource {
  readonly store: ObjectStore;
  readonly prefix: string;
  readonly name: string;
  readonly cache: RangeCache;

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

  tryOpen(relPath: string): Promise<ByteSource | undefined> {
    return StoreByteSource.open(this.store, this.prefix + relPath, this.cache, this.name);
  }

  async listChunkFiles(): Promise<string[]> {
    const names: string[] = [];
    const p = this.prefix + "chunks/";
    for await (const o of listAll(this.store, p)) {
      const rest = o.key.slice(p.length);
      if (!rest.includes("/")) names.push(rest);
    }
    return names.sort();
  }
}

/**
 * Writes a new block's files into the bucket under `<prefix>`. Chunk segments and the
 * index stream to the store as they are written (multipart on S3); meta.json is held back
 * and written by `commit()` after every other file is stored, so the block becomes
 * visible only when whole. Tombstones are dropped, as on upload.
 */
export class StoreBlockSink implements BlockSink {
  readonly store: ObjectStore;
  readonly prefix: string;
  private readonly open = new Set<ObjectWriter>();
  private readonly stored: Promise<string>[] = [];
  private meta?: Uint8Array;
  private readonly partSize?: number;

  constructor(store: ObjectStore, prefix: string, opts: { partSize?: number } = {}) {
    this.store = store;
    this.prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    this.partSize = opts.partSize;
  }

  async create(relPath: string): Promise<ByteSink> {
    if (relPath === META_FILE || relPath === "tombstones") {
      const parts: Uint8Array[] = [];
      return {
        write: async (b) => void parts.push(b.slice()),
        close: async () => {
          if (relPath === META_FILE) this.meta = Buffer.concat(parts);
        },
      };
    }
    const w = await this.store.createWriter(this.prefix + relPath, { partSize: this.partSize });
    this.open.add(w);
    this.stored.push(w.done);
    return {
      write: (b) => w.write(b),
      close: async () => {
        await w.close();
        this.open.delete(w);
      },
      abort: async () => {
        this.open.delete(w);
        await w.abort?.();
      },
    };
  }

  /**
   * The block as it will read once committed, before it is: the stored files, and meta.json
   * from memory. Lets a writer verify its output before making it visible (commit).
   */
  async staged(): Promise<{ source: BlockSource; meta: Uint8Array }> {
    if (this.open.size > 0)
      throw new Error(`${this.store.url}/${this.prefix}: staged with ${this.open.size} file(s) still open`);
    await Promise.all(this.stored);
    const meta = this.meta;
    if (!meta) throw new Error(`${this.store.url}/${this.prefix}: staged without a meta.json`);
    const stored = new StoreBlockSource(this.store, this.prefix);
    const source: BlockSource = {
      name: stored.name,
      tryOpen: async (rel) => (rel === META_FILE ? new MemorySource(meta) : stored.tryOpen(rel)),
      open: async (rel) => (rel === META_FILE ? new MemorySource(meta) : stored.open(rel)),
      listChunkFiles: () => stored.listChunkFiles(),
    };
    return { source, meta };
  }

  /** Stores meta.json once every other file is stored. Fails if any file is still open. */
  async commit(): Promise<void> {
    if (this.open.size > 0)
      throw new Error(`${this.store.url}/${this.prefix}: commit with ${this.open.size} file(s) still open`);
    await Promise.all(this.stored);
    if (!this.meta) throw new Error(`${this.store.url}/${this.prefix}: commit without a meta.json`);
    await this.store.put(this.prefix + META_FILE, this.meta, { contentType: "application/json" });
  }

  /** Abandons the block: aborts open uploads and deletes what was stored (meta.json never was). */
  async abort(): Promise<void> {
    for (const w of this.open) await w.abort?.();
    this.open.clear();
    await Promise.allSettled(this.stored);
    for await (const o of listAll(this.store, this.prefix)) await this.store.delete(o.key);
  }
}
