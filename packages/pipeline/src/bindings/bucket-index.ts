/**
 * The BucketIndex port over Mimir's bucket index (`<tenant>/bucket-index.json.gz`): every
 * update is the updater's compare-and-swap. `blocks()` returns full metas, which the index
 * entries lack (no sources, no external labels): each indexed block's meta.json is read once
 * and cached by ULID (a block's meta never changes), and no-compact and no-downsample marks
 * come from the mirrors under the tenant's markers/. A rebuild keeps only blocks a verify
 * admitted (`jobs/admit.ts`) and never one Strata quarantined.
 */
import {
  FormatError,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  isUlid,
  parseMarker,
  parseMeta,
  MARKER_VERSION_1,
  type BlockMeta,
  type NoCompactMark,
} from "@strata/tsdb";
import { BucketIndexUpdater, IndexConflictError } from "@strata/bucket";
import { BucketIndexInvalidError, encodeIndex, normalizeIndex } from "@strata/bucket";
import { PreconditionFailedError } from "@strata/bucket";
import { QUARANTINE_REASON, VERIFIED_FILE } from "../jobs/admit.ts";
import type { BucketLayout } from "@strata/bucket";
import { listAll, type ObjectStore } from "@strata/bucket";
import type { BucketIndex, LiveBlock, RebuildResult } from "../ports.ts";

/** Bound on cached metas (a few KB each); beyond it the oldest entries go. */
const MAX_CACHED_METAS = 50_000;

export class StoreBucketIndex implements BucketIndex {
  readonly updater: BucketIndexUpdater;
  private readonly store: ObjectStore;
  private readonly layout: BucketLayout;
  private readonly metas = new Map<string, BlockMeta>();
  private readonly noCompact = new Map<string, NoCompactMark>();
  private readonly now: () => number;

  private readonly maxMetaBytes: number | undefined;

  constructor(store: ObjectStore, layout: BucketLayout, opts: { now?: () => number; maxMetaBytes?: number } = {}) {
    this.store = store;
    this.layout = layout;
    this.now = opts.now ?? Date.now;
    this.maxMetaBytes = opts.maxMetaBytes;
    this.updater = new BucketIndexUpdater(store, { layout, now: opts.now, maxMetaBytes: opts.maxMetaBytes });
  }

  async blocks(tenant: string): Promise<LiveBlock[]> {
    const cur = await this.healing(tenant, () => this.updater.read(tenant));
    if (!cur) return [];
    const deletions = new Map(cur.index.block_deletion_marks.map((m) => [m.block_id, m.deletion_time]));
    const marks = await this.marks(tenant);
    const out: LiveBlock[] = [];
    for (const b of cur.index.blocks) {
      const meta = await this.meta(tenant, b.block_id);
      // Indexed but meta.json gone: deleted under the index (cleanup removes the entry first,
      // so only a hand-made deletion does this); index-sync drops it.
      if (!meta) continue;
      const lb: LiveBlock = { meta };
      const d = deletions.get(b.block_id);
      if (d !== undefined) lb.deletionTime = d;
      const m = marks.get(b.block_id);
      if (m?.noCompact) lb.noCompact = m.noCompact;
      if (m?.noDownsample) lb.noDownsample = true;
      out.push(lb);
    }
    return out;
  }

  async addBlock(tenant: string, meta: BlockMeta): Promise<void> {
    this.remember(tenant, meta);
    await this.healing(tenant, () => this.updater.addBlock(tenant, meta.ulid));
  }

  async markDeleted(tenant: string, block: string, deletionTime: number): Promise<void> {
    await this.healing(tenant, () =>
      this.updater.addDeletionMark(tenant, block, {
        id: block,
        version: MARKER_VERSION_1,
        deletion_time: deletionTime,
      }),
    );
  }

  async removeBlock(tenant: string, block: string): Promise<void> {
    await this.healing(tenant, () => this.updater.removeBlock(tenant, block));
    this.metas.delete(`${tenant}/${block}`);
  }

  /**
   * The updater's rebuild from a listing, keeping only blocks a verify admitted: those with a
   * verification record next to them, or already in the index (only admission puts them
   * there), and never a quarantined one. The others are returned as `unverified`. Written by
   * compare-and-swap against the index as it was before listing, like the updater's own; an
   * index that cannot be read (corrupt, over its caps) is replaced, by its ETag alone.
   */
  async rebuild(tenant: string): Promise<RebuildResult> {
    const key = this.layout.indexKey(tenant);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { etag, ids: before } = await this.current(tenant);
      const { index, partials } = await this.updater.scan(tenant);
      const marks = await this.marks(tenant);
      const verified = await this.verifiedIds(tenant);
      const unverified: string[] = [];
      index.blocks = index.blocks.filter((b) => {
        if (marks.get(b.block_id)?.noCompact?.reason === QUARANTINE_REASON) return false;
        if (verified.has(b.block_id) || before.has(b.block_id)) return true;
        unverified.push(b.block_id);
        return false;
      });
      const next = normalizeIndex(index);
      next.updated_at = Math.floor(this.now() / 1000);
      const r = await this.store.put(
        key,
        encodeIndex(next),
        etag !== undefined ? { ifMatch: etag } : { ifNoneMatch: "*" },
      );
      if (!(r instanceof PreconditionFailedError)) return { unverified, partials: [...partials] };
      await new Promise((res) => setTimeout(res, Math.random() * 50 * attempt));
    }
    throw new IndexConflictError(`${this.store.url}/${key}`, 5);
  }

  /**
   * Run an index read or update; when the stored index cannot be read at all (corrupt, or over
   * its caps), rebuild it from the bucket first (admitted blocks only) and run it again, so one
   * bad object never stops the tenant's jobs until the next scheduled re-sync.
   */
  private async healing<T>(tenant: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof BucketIndexInvalidError)) throw e;
      await this.rebuild(tenant);
      return fn();
    }
  }

  /**
   * The stored index's ETag (undefined: none yet) and block ids; no ids when it cannot be read
   * (then only verification records count, and its ETag comes from a HEAD).
   */
  private async current(tenant: string): Promise<{ etag: string | undefined; ids: Set<string> }> {
    try {
      const cur = await this.updater.read(tenant);
      return { etag: cur?.etag, ids: new Set(cur?.index.blocks.map((b) => b.block_id)) };
    } catch (e) {
      if (!(e instanceof BucketIndexInvalidError)) throw e;
      return { etag: (await this.store.head(this.layout.indexKey(tenant)))?.etag, ids: new Set() };
    }
  }

  /** Blocks with a verification record: one listing of the tenant's objects. */
  private async verifiedIds(tenant: string): Promise<Set<string>> {
    const prefix = this.layout.tenantPrefix(tenant);
    const out = new Set<string>();
    for await (const o of listAll(this.store, prefix)) {
      const rest = o.key.slice(prefix.length);
      if (rest.length === 27 + VERIFIED_FILE.length && rest.endsWith("/" + VERIFIED_FILE) && isUlid(rest.slice(0, 26)))
        out.add(rest.slice(0, 26).toUpperCase());
    }
    return out;
  }

  private async meta(tenant: string, block: string): Promise<BlockMeta | undefined> {
    const hit = this.metas.get(`${tenant}/${block}`);
    if (hit) return hit;
    const key = this.layout.metaKey(tenant, block);
    const r = await this.store.get(key);
    if (!r) return undefined;
    const meta = parseMeta(r.body, `${this.store.url}/${key}`, { maxBytes: this.maxMetaBytes });
    this.remember(tenant, meta);
    return meta;
  }

  private remember(tenant: string, meta: BlockMeta): void {
    if (this.metas.size >= MAX_CACHED_METAS) this.metas.delete(this.metas.keys().next().value!);
    this.metas.set(`${tenant}/${meta.ulid}`, meta);
  }

  /** The tenant's no-compact and no-downsample marks, from the mirrors under markers/ (one listing; bodies cached). */
  private async marks(tenant: string): Promise<Map<string, { noCompact?: NoCompactMark; noDownsample?: boolean }>> {
    const out = new Map<string, { noCompact?: NoCompactMark; noDownsample?: boolean }>();
    const entry = (id: string) => {
      let e = out.get(id);
      if (!e) out.set(id, (e = {}));
      return e;
    };
    const prefix = this.layout.markersPrefix(tenant);
    for await (const o of listAll(this.store, prefix)) {
      const base = o.key.slice(prefix.length);
      const id = base.slice(0, 26).toUpperCase();
      if (base[26] !== "-" || !isUlid(id)) continue;
      const file = base.slice(27);
      if (file === NO_DOWNSAMPLE_MARK_FILE) {
        entry(id).noDownsample = true;
        continue;
      }
      if (file !== NO_COMPACT_MARK_FILE) continue;
      const ck = `${tenant}/${id}`;
      let mark = this.noCompact.get(ck);
      if (!mark) {
        const r = await this.store.get(o.key);
        if (!r) continue;
        try {
          mark = parseMarker(NO_COMPACT_MARK_FILE, r.body);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          // An unreadable mark still keeps the block out of compaction (as Mimir does).
          mark = {
            id,
            version: MARKER_VERSION_1,
            no_compact_time: 0,
            reason: "unreadable-mark",
            details: (e as Error).message,
          };
        }
        this.noCompact.set(ck, mark);
      }
      entry(id).noCompact = mark;
    }
    // Marks can be lifted (a quarantine released): forget cached bodies no longer listed.
    for (const k of this.noCompact.keys())
      if (k.startsWith(`${tenant}/`) && !out.get(k.slice(tenant.length + 1))?.noCompact) this.noCompact.delete(k);
    return out;
  }
}
