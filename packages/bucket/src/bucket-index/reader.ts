/**
 * The bucket index as store gateways and queriers use it (Mimir's Loader and
 * BucketIndexBlocksFinder): load per tenant, cache, refresh after `refreshIntervalMs`,
 * keep serving the cached copy when a refresh fails, and refuse an index whose
 * `updated_at` is older than `maxStalenessMs`: a stale index could hide blocks that
 * compaction has replaced, so answering from it would silently lose data.
 */
import { BucketError } from "../errors.ts";
import { BucketLayout } from "../layout.ts";
import type { ObjectStore } from "../store.ts";
import { readIndexObject } from "../capped-reads.ts";
import {
  blockWithin,
  decodeIndex,
  type BucketIndex,
  type IndexBlock,
  type IndexDeletionMark,
  type IndexLimits,
} from "./schema.ts";

export interface IndexReaderOptions {
  layout?: BucketLayout;
  /** Refuse an index last updated longer ago than this (Mimir: 1h). */
  maxStalenessMs?: number;
  /** Reload a cached index after this long (default 5 min). */
  refreshIntervalMs?: number;
  /**
   * Blocks whose deletion mark is older than this are dropped (default 1h); newer marks are returned with the blocks.
   */
  ignoreDeletionMarksDelayMs?: number;
  /** Blocks uploaded more recently than this are left out (default 0: none). */
  ignoreUploadedWithinMs?: number;
  now?: () => number;
  /**
   * What a stored index may be before it is refused unread (default `DEFAULT_INDEX_LIMITS`); over them,
   * BucketIndexInvalidError.
   */
  limits?: Partial<IndexLimits>;
}

export class BucketIndexTooOldError extends BucketError {
  override name = "BucketIndexTooOldError";
  readonly tenant: string;
  readonly updatedAt: Date;
  constructor(tenant: string, updatedAt: Date, maxStalenessMs: number, options?: ErrorOptions) {
    super(
      `tenant ${tenant}: the bucket index is too old: last updated at ${updatedAt.toISOString()}, ` +
        `more than the maximum staleness of ${maxStalenessMs / 1000}s ago; is the index updater running?`,
      options,
    );
    this.tenant = tenant;
    this.updatedAt = updatedAt;
  }
}

export interface BlocksForRange {
  blocks: IndexBlock[];
  /** Deletion marks of returned blocks that are still within the ignore delay. */
  deletionMarks: Map<string, IndexDeletionMark>;
}

interface Cached {
  index: BucketIndex | undefined;
  loadedAt: number;
  etag?: string;
}

export class BucketIndexReader {
  readonly store: ObjectStore;
  readonly layout: BucketLayout;
  readonly maxStalenessMs: number;
  private readonly refreshIntervalMs: number;
  private readonly ignoreDeletionMarksDelayMs: number;
  private readonly ignoreUploadedWithinMs: number;
  private readonly now: () => number;
  private readonly limits: Partial<IndexLimits>;
  private readonly cache = new Map<string, Cached>();
  private readonly loading = new Map<string, Promise<BucketIndex | undefined>>();

  constructor(store: ObjectStore, opts: IndexReaderOptions = {}) {
    this.store = store;
    this.layout = opts.layout ?? new BucketLayout();
    this.maxStalenessMs = opts.maxStalenessMs ?? 3_600_000;
    this.refreshIntervalMs = opts.refreshIntervalMs ?? 300_000;
    this.ignoreDeletionMarksDelayMs = opts.ignoreDeletionMarksDelayMs ?? 3_600_000;
    this.ignoreUploadedWithinMs = opts.ignoreUploadedWithinMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.limits = opts.limits ?? {};
  }

  /** The tenant's index (cached); undefined when it has none (a new tenant: no blocks). */
  async getIndex(tenant: string): Promise<BucketIndex | undefined> {
    const c = this.cache.get(tenant);
    if (c && this.now() - c.loadedAt < this.refreshIntervalMs) return c.index;
    try {
      return await this.refresh(tenant);
    } catch (e) {
      if (c) return c.index; // keep serving; the staleness check bounds how long
      throw e;
    }
  }

  /** Load now, bypassing the cache (concurrent callers share one GET). */
  refresh(tenant: string): Promise<BucketIndex | undefined> {
    let p = this.loading.get(tenant);
    if (!p) {
      p = this.load(tenant).finally(() => this.loading.delete(tenant));
      this.loading.set(tenant, p);
    }
    return p;
  }

  private async load(tenant: string): Promise<BucketIndex | undefined> {
    const key = this.layout.indexKey(tenant);
    const r = await readIndexObject(this.store, key, this.limits);
    const index = r ? decodeIndex(r.body, `${this.store.url}/${key}`, this.limits) : undefined;
    this.cache.set(tenant, { index, loadedAt: this.now(), etag: r?.etag });
    return index;
  }

  /** Forget cached indexes (all, or one tenant's). */
  evict(tenant?: string): void {
    if (tenant === undefined) this.cache.clear();
    else this.cache.delete(tenant);
  }

  /**
   * Blocks with samples in [minT, maxT] (ms, both inclusive). Blocks marked for deletion
   * longer ago than the ignore delay are left out; younger marks come back alongside,
   * so a querier can still query a block its replacement has not yet been synced for.
   */
  async getBlocks(tenant: string, minT: number, maxT: number): Promise<BlocksForRange> {
    if (maxT < minT) throw new RangeError(`invalid blocks time range: max ${maxT} < min ${minT}`);
    const idx = await this.getIndex(tenant);
    if (!idx) return { blocks: [], deletionMarks: new Map() };
    const now = this.now();
    if (now - idx.updated_at * 1000 > this.maxStalenessMs)
      throw new BucketIndexTooOldError(tenant, new Date(idx.updated_at * 1000), this.maxStalenessMs);
    const matching = new Map<string, IndexBlock>();
    for (const b of idx.blocks) {
      if (!blockWithin(b, minT, maxT)) continue;
      if (this.ignoreUploadedWithinMs > 0 && now - b.uploaded_at * 1000 < this.ignoreUploadedWithinMs) continue;
      matching.set(b.block_id, b);
    }
    const deletionMarks = new Map<string, IndexDeletionMark>();
    for (const m of idx.block_deletion_marks) {
      if (!matching.has(m.block_id)) continue;
      if (now - m.deletion_time * 1000 > this.ignoreDeletionMarksDelayMs) matching.delete(m.block_id);
      else deletionMarks.set(m.block_id, m);
    }
    return { blocks: [...matching.values()], deletionMarks };
  }
}
