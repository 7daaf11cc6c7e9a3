/**
 * Keeps `<tenant>/bucket-index.json.gz` current, one event at a time, under concurrent
 * writers. Every change is a compare-and-swap: read the index with its ETag, apply a pure
 * change, write with `ifMatch` (`ifNoneMatch: "*"` when there is none yet); a lost race
 * re-reads and re-applies, with jittered backoff, a bounded number of times. Anything that
 * needs the bucket (meta.json, markers) is read once, before the loop.
 *
 * `rebuild` produces the same index from a listing, as Mimir's updater does from scratch
 * (for repair and for buckets that predate Strata), and is itself a CAS so that it cannot
 * overwrite an event-driven update that landed while it was listing.
 */
import { DELETION_MARK_FILE, FormatError, mapLimit, parseMarker, parseMeta, type DeletionMark } from "@strata/tsdb";
import { BucketError } from "../errors.ts";
import { BucketLayout } from "../layout.ts";
import { PreconditionFailedError, listAll, type ObjectStore } from "../store.ts";
import {
  blockFromMeta,
  decodeIndex,
  emptyIndex,
  encodeIndex,
  normalizeIndex,
  type BucketIndex,
  type IndexBlock,
  type IndexLimits,
  type IndexDeletionMark,
} from "./schema.ts";

export interface IndexUpdaterOptions {
  layout?: BucketLayout;
  /** Compare-and-swap attempts before giving up (default 40). */
  maxAttempts?: number;
  /** Backoff after a lost race: full jitter below min(maxDelayMs, baseDelayMs·2^n) (defaults 10 ms, 1 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Parallel meta.json reads during a rebuild (default 16). */
  rebuildConcurrency?: number;
  /** What a stored index may be before it is refused unread (default `DEFAULT_INDEX_LIMITS`). */
  limits?: Partial<IndexLimits>;
  /** A block's meta.json larger than this is refused unparsed (default tsdb's MAX_META_BYTES, 1 MiB). */
  maxMetaBytes?: number;
}

export interface UpdateOutcome {
  index: BucketIndex;
  /** False when the change was already there (no write). */
  changed: boolean;
  /** Compare-and-swap rounds used. */
  attempts: number;
}

export interface RebuildOutcome extends UpdateOutcome {
  /** Block directories without a usable meta.json, with the reason (Mimir calls them partial). */
  partials: Map<string, string>;
}

export class IndexConflictError extends BucketError {
  override name = "IndexConflictError";
  constructor(key: string, attempts: number, options?: ErrorOptions) {
    super(`${key}: gave up after ${attempts} lost compare-and-swap rounds (too many concurrent writers?)`, options);
  }
}

/** meta.json missing (partial block) or not valid. */
export class BlockMetaError extends BucketError {
  override name = "BlockMetaError";
  readonly key: string;
  readonly reason: "missing" | "corrupted";
  constructor(key: string, reason: "missing" | "corrupted", detail = "", options?: ErrorOptions) {
    super(
      `${key}: ${reason === "missing" ? "no meta.json (partial block)" : `corrupted meta.json: ${detail}`}`,
      options,
    );
    this.key = key;
    this.reason = reason;
  }
}

/** A change to apply to an index in place; returns false when there is nothing to change. */
export type IndexChange = (idx: BucketIndex) => boolean;

export class BucketIndexUpdater {
  readonly store: ObjectStore;
  readonly layout: BucketLayout;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly limits: Partial<IndexLimits>;

  private readonly maxMetaBytes: number | undefined;

  constructor(store: ObjectStore, opts: IndexUpdaterOptions = {}) {
    this.store = store;
    this.layout = opts.layout ?? new BucketLayout();
    this.maxAttempts = opts.maxAttempts ?? 40;
    this.baseDelayMs = opts.baseDelayMs ?? 10;
    this.maxDelayMs = opts.maxDelayMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.concurrency = opts.rebuildConcurrency ?? 16;
    this.maxMetaBytes = opts.maxMetaBytes;
    this.limits = opts.limits ?? {};
  }

  /**
   * The stored index and its ETag; undefined when the tenant has none yet. BucketIndexInvalidError
   * when it is over the limits or corrupted (`rebuild` replaces it without reading it).
   */
  async read(tenant: string): Promise<{ index: BucketIndex; etag: string } | undefined> {
    const key = this.layout.indexKey(tenant);
    const r = await this.store.get(key);
    return r ? { index: decodeIndex(r.body, `${this.store.url}/${key}`, this.limits), etag: r.etag } : undefined;
  }

  /** Apply `change` by compare-and-swap until it sticks. */
  async update(tenant: string, change: IndexChange): Promise<UpdateOutcome> {
    const key = this.layout.indexKey(tenant);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const cur = await this.read(tenant);
      const idx = cur ? cloneIndex(cur.index) : emptyIndex();
      if (!change(idx)) return { index: cur?.index ?? idx, changed: false, attempts: attempt };
      const next = this.finish(idx);
      const r = await this.store.put(key, encodeIndex(next), cur ? { ifMatch: cur.etag } : { ifNoneMatch: "*" });
      if (!(r instanceof PreconditionFailedError)) return { index: next, changed: true, attempts: attempt };
      await this.backoff(attempt);
    }
    throw new IndexConflictError(`${this.store.url}/${key}`, this.maxAttempts);
  }

  /** Adds a complete block (its meta.json must exist); a no-op if it is already indexed. */
  async addBlock(tenant: string, id: string): Promise<UpdateOutcome> {
    const entry = await this.blockEntry(tenant, id);
    return this.update(tenant, (idx) => addBlockEntry(idx, entry));
  }

  /** Records a deletion mark (read from the global markers location, else next to the block, unless given). */
  async addDeletionMark(tenant: string, id: string, mark?: DeletionMark): Promise<UpdateOutcome> {
    const m = mark ?? (await this.readDeletionMark(tenant, id));
    if (!m)
      throw new Error(
        `${this.store.url}/${this.layout.globalMarkerKey(tenant, id, DELETION_MARK_FILE)}: no deletion mark for block ${id}`,
      );
    const entry: IndexDeletionMark = { block_id: m.id, deletion_time: m.deletion_time };
    return this.update(tenant, (idx) => addMarkEntry(idx, entry));
  }

  /** Drops a (hard-deleted) block and its deletion mark from the index. */
  removeBlock(tenant: string, id: string): Promise<UpdateOutcome> {
    const uid = id.toUpperCase();
    return this.update(tenant, (idx) => {
      const nb = idx.blocks.length;
      const nm = idx.block_deletion_marks.length;
      idx.blocks = idx.blocks.filter((b) => b.block_id !== uid);
      idx.block_deletion_marks = idx.block_deletion_marks.filter((m) => m.block_id !== uid);
      return idx.blocks.length !== nb || idx.block_deletion_marks.length !== nm;
    });
  }

  /** The index entry for a block: its meta.json, and meta.json's modification time as the upload time. */
  async blockEntry(tenant: string, id: string): Promise<IndexBlock> {
    const key = this.layout.metaKey(tenant, id);
    const r = await this.store.get(key);
    if (!r) throw new BlockMetaError(`${this.store.url}/${key}`, "missing");
    let meta;
    try {
      meta = parseMeta(r.body, `${this.store.url}/${key}`, { maxBytes: this.maxMetaBytes });
    } catch (e) {
      if (e instanceof FormatError)
        throw new BlockMetaError(`${this.store.url}/${key}`, "corrupted", e.message, { cause: e });
      throw e;
    }
    if (meta.ulid !== id.toUpperCase())
      throw new BlockMetaError(
        `${this.store.url}/${key}`,
        "corrupted",
        `ulid ${meta.ulid} does not match the directory`,
      );
    return blockFromMeta(meta, Math.floor(r.lastModified.getTime() / 1000));
  }

  /**
   * Rebuilds the index from a listing: every block directory with a valid meta.json, and
   * every deletion mark in the global markers location. Written by compare-and-swap
   * against the index read before listing; a concurrent update makes it list again.
   */
  async rebuild(tenant: string): Promise<RebuildOutcome> {
    const key = this.layout.indexKey(tenant);
    for (let attempt = 1; attempt <= Math.min(this.maxAttempts, 5); attempt++) {
      let cur: { etag: string } | undefined;
      const raw = await this.store.head(key);
      if (raw) cur = { etag: raw.etag };
      const { index, partials } = await this.scan(tenant);
      const next = this.finish(index);
      const r = await this.store.put(key, encodeIndex(next), cur ? { ifMatch: cur.etag } : { ifNoneMatch: "*" });
      if (!(r instanceof PreconditionFailedError)) return { index: next, changed: true, attempts: attempt, partials };
      await this.backoff(attempt);
    }
    throw new IndexConflictError(`${this.store.url}/${key}`, Math.min(this.maxAttempts, 5));
  }

  /** The index a listing implies (not written). */
  async scan(tenant: string): Promise<{ index: BucketIndex; partials: Map<string, string> }> {
    const partials = new Map<string, string>();
    const ids = await this.layout.listBlockIds(this.store, tenant);
    const blocks = await mapLimit(ids, this.concurrency, async (id) => {
      try {
        return await this.blockEntry(tenant, id);
      } catch (e) {
        if (e instanceof BlockMetaError) {
          partials.set(id, e.message);
          return undefined;
        }
        throw e;
      }
    });
    const markIds: string[] = [];
    for await (const o of listAll(this.store, this.layout.markersPrefix(tenant))) {
      const m = this.layout.parseGlobalMarker(o.key);
      if (m?.file === DELETION_MARK_FILE) markIds.push(m.id);
    }
    const marks = await mapLimit(markIds, this.concurrency, async (id) => {
      try {
        const m = await this.readDeletionMark(tenant, id, true);
        return m && { block_id: m.id, deletion_time: m.deletion_time };
      } catch (e) {
        if (e instanceof FormatError) return undefined; // corrupted mark: skipped, as Mimir does
        throw e;
      }
    });
    const index = emptyIndex();
    index.blocks = blocks.filter((b): b is IndexBlock => b !== undefined);
    index.block_deletion_marks = marks.filter((m): m is IndexDeletionMark => !!m);
    return { index: normalizeIndex(index), partials };
  }

  private async readDeletionMark(tenant: string, id: string, globalOnly = false): Promise<DeletionMark | undefined> {
    const keys = [this.layout.globalMarkerKey(tenant, id, DELETION_MARK_FILE)];
    if (!globalOnly) keys.push(this.layout.blockFile(tenant, id, DELETION_MARK_FILE));
    for (const k of keys) {
      const r = await this.store.get(k);
      if (r) return parseMarker(DELETION_MARK_FILE, r.body);
    }
    return undefined;
  }

  private finish(idx: BucketIndex): BucketIndex {
    const n = normalizeIndex(idx);
    n.updated_at = Math.floor(this.now() / 1000);
    return n;
  }

  private backoff(attempt: number): Promise<void> {
    const ms = Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(attempt, 20));
    return new Promise((r) => setTimeout(r, ms));
  }
}

/** Adds a block entry unless the block is already there (blocks are immutable). */
export function addBlockEntry(idx: BucketIndex, b: IndexBlock): boolean {
  if (idx.blocks.some((x) => x.block_id === b.block_id)) return false;
  idx.blocks.push(b);
  return true;
}

/** Adds a deletion mark unless one is there for the block. */
export function addMarkEntry(idx: BucketIndex, m: IndexDeletionMark): boolean {
  if (idx.block_deletion_marks.some((x) => x.block_id === m.block_id)) return false;
  idx.block_deletion_marks.push(m);
  return true;
}

function cloneIndex(i: BucketIndex): BucketIndex {
  return { ...i, blocks: [...i.blocks], block_deletion_marks: [...i.block_deletion_marks] };
}
