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
import {
  DELETION_MARK_FILE,
  FormatError,
  MAX_MARKER_BYTES,
  META_FILE,
  isUlid,
  mapLimit,
  type DeletionMark,
} from "@strata/tsdb";
import { BucketError } from "../errors.ts";
import { z } from "zod";
import { BucketLayout, isBlockDataFile } from "../layout.ts";
import { PreconditionFailedError, getCapped, listAll, type ObjectStore } from "../store.ts";
import { readIndexObject, readMarkerObject, readMetaObject } from "../capped-reads.ts";
import { IndexCodec } from "./codec.ts";
import { addBlockEntry, addMarkEntry, applyEdit, mergeRebuilt, type IndexEdit } from "./edit.ts";
import {
  BucketIndexInvalidError,
  blockFromMeta,
  emptyIndex,
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
  /** Entries kept decoded between rounds, across tenants (default the codec's, 200,000). */
  maxCachedEntries?: number;
}

/** What a rebuild found, and the index it was made against. */
export interface ScanOutcome {
  /** The index the listing implies. */
  index: BucketIndex;
  /** Block directories without a usable meta.json, with the reason (Mimir calls them partial). */
  partials: Map<string, string>;
  /** Per file name asked for in `noteFiles`: the blocks whose directory holds it, with its time (ms). */
  noted: Map<string, Map<string, number>>;
  /** Per block directory: the time (ms) of its newest own file (meta.json, index, a chunk segment). */
  dataModified: Map<string, number>;
  /** Every key under the tenant's markers/, as listed (its other marks, for a caller that reads them). */
  markerKeys: string[];
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
  /** Warm across rounds and jobs: entries already validated and their JSON (codec.ts). */
  readonly codec: IndexCodec;

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
    this.codec = new IndexCodec({ limits: this.limits, maxCachedEntries: opts.maxCachedEntries });
  }

  /**
   * The stored index and its ETag; undefined when the tenant has none yet. BucketIndexInvalidError
   * when it is over the limits or corrupted (`rebuild` replaces it without reading it).
   */
  async read(tenant: string): Promise<{ index: BucketIndex; etag: string } | undefined> {
    const key = this.layout.indexKey(tenant);
    const r = await readIndexObject(this.store, key, this.limits);
    return r ? { index: this.codec.decode(r.body, `${this.store.url}/${key}`, tenant), etag: r.etag } : undefined;
  }

  /** Apply `change` by compare-and-swap until it sticks. */
  async update(tenant: string, change: IndexChange): Promise<UpdateOutcome> {
    const key = this.layout.indexKey(tenant);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const cur = await this.read(tenant);
      const idx = cur ? cloneIndex(cur.index) : emptyIndex();
      if (!change(idx)) return { index: cur?.index ?? idx, changed: false, attempts: attempt };
      const next = this.finish(idx);
      const r = await this.store.put(key, this.codec.encode(next), cur ? { ifMatch: cur.etag } : { ifNoneMatch: "*" });
      if (!(r instanceof PreconditionFailedError)) return { index: next, changed: true, attempts: attempt };
      await this.backoff(attempt);
    }
    throw new IndexConflictError(`${this.store.url}/${key}`, this.maxAttempts);
  }

  /** Apply a batch of changes in one compare-and-swap round (retried as one). */
  apply(tenant: string, edit: IndexEdit): Promise<UpdateOutcome> {
    return this.update(tenant, (idx) => applyEdit(idx, edit));
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
    const r = await readMetaObject(this.store, key, this.maxMetaBytes);
    if (!r) throw new BlockMetaError(`${this.store.url}/${key}`, "missing");
    const { meta } = r;
    if (meta instanceof FormatError)
      throw new BlockMetaError(`${this.store.url}/${key}`, "corrupted", meta.message, { cause: meta });
    if (meta.ulid !== id.toUpperCase())
      throw new BlockMetaError(
        `${this.store.url}/${key}`,
        "corrupted",
        `ulid ${meta.ulid} does not match the directory`,
      );
    return blockFromMeta(meta, Math.floor(r.object.lastModified.getTime() / 1000));
  }

  /**
   * Rebuilds the index from a listing: every block directory with a valid meta.json, and
   * every deletion mark in the global markers location (`scan`), written by `commitRebuild`.
   */
  async rebuild(tenant: string): Promise<RebuildOutcome> {
    const base = await this.readForRebuild(tenant);
    const scan = await this.scan(tenant, { base: base.index });
    return { ...(await this.commitRebuild(tenant, base, scan.index)), partials: scan.partials };
  }

  /** The stored index and its ETag; when it cannot be read (corrupt, over its caps), its ETag alone. */
  async readForRebuild(tenant: string): Promise<{ index: BucketIndex | undefined; etag: string | undefined }> {
    try {
      const cur = await this.read(tenant);
      return { index: cur?.index, etag: cur?.etag };
    } catch (e) {
      if (!(e instanceof BucketIndexInvalidError)) throw e;
      return { index: undefined, etag: (await this.store.head(this.layout.indexKey(tenant)))?.etag };
    }
  }

  /**
   * Writes a rebuilt index by compare-and-swap against `base`, the index read before listing.
   * When another writer changed the index meanwhile, the rebuild does not list again (on a
   * busy tenant it would never land): it keeps what that writer changed since `base` (blocks
   * and marks added or removed, `mergeRebuilt`) and takes the listing's word on the rest. An
   * entry only the listing has (in neither index) may be one that was added and removed again
   * after the listing (a quarantine); it is kept only if its block directory still holds
   * meta.json and every `requireFiles` file (its mark, for a deletion mark).
   */
  async commitRebuild(
    tenant: string,
    base: { index: BucketIndex | undefined; etag: string | undefined },
    scanned: BucketIndex,
    opts: { requireFiles?: readonly string[] } = {},
  ): Promise<UpdateOutcome> {
    const key = this.layout.indexKey(tenant);
    let next = this.finish(scanned);
    let etag = base.etag;
    const confirmed = new Map<string, boolean>();
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const r = await this.store.put(
        key,
        this.codec.encode(next),
        etag !== undefined ? { ifMatch: etag } : { ifNoneMatch: "*" },
      );
      if (!(r instanceof PreconditionFailedError)) return { index: next, changed: true, attempts: attempt };
      await this.backoff(attempt);
      const cur = await this.readForRebuild(tenant);
      etag = cur.etag;
      const merged = mergeRebuilt(base.index, scanned, cur.index);
      const drop = new Set<string>();
      for (const id of merged.freshBlocks) {
        const k = `b/${id}`;
        if (!confirmed.has(k)) confirmed.set(k, await this.stillThere(tenant, id, opts.requireFiles ?? []));
        if (!confirmed.get(k)) drop.add(id);
      }
      const dropMarks = new Set<string>();
      for (const id of merged.freshMarks) {
        const k = `m/${id}`;
        if (!confirmed.has(k))
          confirmed.set(k, !!(await this.store.head(this.layout.globalMarkerKey(tenant, id, DELETION_MARK_FILE))));
        if (!confirmed.get(k)) dropMarks.add(id);
      }
      merged.index.blocks = merged.index.blocks.filter((b) => !drop.has(b.block_id));
      merged.index.block_deletion_marks = merged.index.block_deletion_marks.filter((m) => !dropMarks.has(m.block_id));
      next = this.finish(merged.index);
    }
    throw new IndexConflictError(`${this.store.url}/${key}`, this.maxAttempts);
  }

  private async stillThere(tenant: string, id: string, files: readonly string[]): Promise<boolean> {
    for (const f of ["meta.json", ...files])
      if (!(await this.store.head(this.layout.blockFile(tenant, id, f)))) return false;
    return true;
  }

  /**
   * The index a listing implies (not written), from one recursive listing of the tenant:
   * block directories with meta.json (its modification time is the upload time), deletion
   * marks under markers/, and the `noteFiles` found in block directories. Entries already in
   * `base` are taken from it (blocks and their marks never change), so a re-sync reads the
   * meta.json and marks of new blocks only.
   */
  async scan(tenant: string, opts: { base?: BucketIndex; noteFiles?: readonly string[] } = {}): Promise<ScanOutcome> {
    const prefix = this.layout.tenantPrefix(tenant);
    const markers = this.layout.markersPrefix(tenant);
    const dirs = new Map<string, Date | undefined>();
    const noted = new Map<string, Map<string, number>>((opts.noteFiles ?? []).map((f) => [f, new Map()]));
    const dataModified = new Map<string, number>();
    const markIds: string[] = [];
    const markerKeys: string[] = [];
    const parquetMarkers = this.layout.parquetMarkersPrefix(tenant);
    const parquetIds = new Set<string>();
    for await (const o of listAll(this.store, prefix)) {
      const rest = o.key.slice(prefix.length);
      if (o.key.startsWith(parquetMarkers)) {
        const id = this.layout.parseParquetMarker(o.key);
        if (id) parquetIds.add(id);
        continue;
      }
      if (o.key.startsWith(markers)) {
        markerKeys.push(o.key);
        const m = this.layout.parseGlobalMarker(o.key);
        if (m?.file === DELETION_MARK_FILE) markIds.push(m.id);
        continue;
      }
      const slash = rest.indexOf("/");
      if (slash !== 26 || !isUlid(rest.slice(0, 26))) continue;
      const id = rest.slice(0, 26).toUpperCase();
      const file = rest.slice(27);
      if (!dirs.has(id)) dirs.set(id, undefined);
      if (file === META_FILE) dirs.set(id, o.lastModified);
      noted.get(file)?.set(id, o.lastModified.getTime());
      if (isBlockDataFile(file)) dataModified.set(id, Math.max(dataModified.get(id) ?? 0, o.lastModified.getTime()));
    }
    const known = new Map(opts.base?.blocks.map((b) => [b.block_id, b]));
    const partials = new Map<string, string>();
    const ids = [...dirs.keys()];
    const blocks = await mapLimit(ids, this.concurrency, async (id) => {
      const metaTime = dirs.get(id);
      if (metaTime === undefined) {
        partials.set(id, new BlockMetaError(`${this.store.url}/${this.layout.metaKey(tenant, id)}`, "missing").message);
        return undefined;
      }
      const k = known.get(id);
      if (k) return k;
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
    const knownMarks = new Map(opts.base?.block_deletion_marks.map((m) => [m.block_id, m]));
    const marks = await mapLimit(markIds, this.concurrency, async (id) => {
      const k = knownMarks.get(id.toUpperCase());
      if (k) return k;
      try {
        const m = await this.readDeletionMark(tenant, id, true);
        return m && { block_id: m.id, deletion_time: m.deletion_time };
      } catch (e) {
        if (e instanceof FormatError) return undefined; // corrupted mark: skipped, as Mimir does
        throw e;
      }
    });
    const index = emptyIndex();
    index.blocks = await mapLimit(
      blocks.filter((b): b is IndexBlock => b !== undefined),
      this.concurrency,
      (b) => this.withParquet(tenant, b, parquetIds.has(b.block_id)),
    );
    index.block_deletion_marks = marks.filter((m): m is IndexDeletionMark => !!m);
    return { index: normalizeIndex(index), partials, noted, dataModified, markerKeys };
  }

  /**
   * The entry with Cortex's `parquet` field as the bucket has it (the mark's mirror under
   * parquet-markers/): kept when already recorded, read when new, cleared when the mark is gone.
   */
  private async withParquet(tenant: string, b: IndexBlock, marked: boolean): Promise<IndexBlock> {
    if (!marked) {
      if (!b.parquet) return b;
      const { parquet: _, ...rest } = b;
      return rest;
    }
    if (b.parquet) return b;
    const r = await getCapped(this.store, this.layout.parquetMarkerKey(tenant, b.block_id), MAX_MARKER_BYTES);
    const mark = r && !r.truncated ? ParquetMarkSchema.safeParse(parseJsonOrUndefined(r.body)) : undefined;
    return mark?.success ? { ...b, parquet: mark.data } : b;
  }

  private async readDeletionMark(tenant: string, id: string, globalOnly = false): Promise<DeletionMark | undefined> {
    const keys = [this.layout.globalMarkerKey(tenant, id, DELETION_MARK_FILE)];
    if (!globalOnly) keys.push(this.layout.blockFile(tenant, id, DELETION_MARK_FILE));
    for (const k of keys) {
      const m = await readMarkerObject(this.store, k, DELETION_MARK_FILE);
      if (m) return m;
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

function cloneIndex(i: BucketIndex): BucketIndex {
  return { ...i, blocks: [...i.blocks], block_deletion_marks: [...i.block_deletion_marks] };
}

/** Cortex's converter mark: `{"version":N,"shards":M}` (shards optional). */
const ParquetMarkSchema = z.object({ version: z.int(), shards: z.int().positive().optional() });

function parseJsonOrUndefined(body: Uint8Array): unknown {
  if (body.length > 64 * 1024) return undefined; // a mark is a few bytes: anything larger is not one
  try {
    return JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return undefined;
  }
}
