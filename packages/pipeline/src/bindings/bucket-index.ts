/**
 * The BucketIndex port over Mimir's bucket index (`<tenant>/bucket-index.json.gz`): every
 * update is the updater's compare-and-swap, one round per job (`apply`). `blocks()` returns
 * full metas, which the index entries lack (no sources, no stats): they come from the meta
 * cache (`meta-cache.ts`: memory, then one cache object, then meta.json for new blocks only),
 * and no-compact and no-downsample marks from the mirrors under the tenant's markers/. A
 * rebuild keeps only blocks a verify admitted (`jobs/admit.ts`) and never one Strata
 * quarantined.
 */
import {
  FormatError,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  isUlid,
  MARKER_VERSION_1,
  type BlockMeta,
  type NoCompactMark,
} from "@strata/tsdb";
import {
  BucketIndexInvalidError,
  BucketIndexUpdater,
  listAll,
  readMarkerObject,
  type IndexBlock,
} from "@strata/bucket";
import type { BucketLayout, ObjectStore } from "@strata/bucket";
import { QUARANTINE_REASON, VERIFIED_FILE, VERIFY_REPORT_FILE } from "../jobs/admit.ts";
import type { BucketIndex, IndexChanges, LiveBlock, RebuildResult } from "../ports.ts";
import { MetaCache } from "./meta-cache.ts";

export class StoreBucketIndex implements BucketIndex {
  readonly updater: BucketIndexUpdater;
  private readonly metaCache: MetaCache;
  private readonly store: ObjectStore;
  private readonly layout: BucketLayout;
  private readonly noCompact = new Map<string, NoCompactMark>();

  constructor(store: ObjectStore, layout: BucketLayout, opts: { now?: () => number; maxMetaBytes?: number } = {}) {
    this.store = store;
    this.layout = layout;
    this.updater = new BucketIndexUpdater(store, { layout, now: opts.now, maxMetaBytes: opts.maxMetaBytes });
    this.metaCache = new MetaCache(store, layout, { maxMetaBytes: opts.maxMetaBytes });
  }

  async blocks(tenant: string): Promise<LiveBlock[]> {
    const cur = await this.healing(tenant, () => this.updater.read(tenant));
    if (!cur) return [];
    const deletions = new Map(cur.index.block_deletion_marks.map((m) => [m.block_id, m.deletion_time]));
    const marks = await this.marks(tenant);
    const metas = await this.metaCache.metas(
      tenant,
      cur.index.blocks.map((b) => b.block_id),
    );
    const out: LiveBlock[] = [];
    for (const b of cur.index.blocks) {
      const meta = metas.get(b.block_id);
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
    await this.apply(tenant, { add: [meta] });
  }

  async markDeleted(tenant: string, block: string, deletionTime: number): Promise<void> {
    await this.apply(tenant, { markDeleted: [{ block, deletionTime }] });
  }

  async removeBlock(tenant: string, block: string): Promise<void> {
    await this.apply(tenant, { remove: [block] });
  }

  /** One compare-and-swap round for the whole batch: the entries are read before it. */
  async apply(tenant: string, changes: IndexChanges): Promise<void> {
    const add: IndexBlock[] = [];
    for (const meta of changes.add ?? []) {
      add.push(await this.updater.blockEntry(tenant, meta.ulid));
      this.metaCache.remember(tenant, meta);
    }
    const mark = (changes.markDeleted ?? []).map((m) => ({
      block_id: m.block.toUpperCase(),
      deletion_time: m.deletionTime,
    }));
    const parquet = (changes.parquet ?? []).map((p) => ({
      block_id: p.block.toUpperCase(),
      parquet: { version: p.mark.version, shards: p.mark.shards },
    }));
    await this.healing(tenant, () => this.updater.apply(tenant, { add, mark, remove: changes.remove, parquet }));
    for (const id of changes.remove ?? []) this.metaCache.forget(tenant, id.toUpperCase());
  }

  /**
   * The updater's rebuild from a listing, keeping only blocks a verify admitted: those with a
   * verification record next to them, or already in the index (only admission puts them
   * there), and never a quarantined one. The others are returned as `unverified`. Written by
   * compare-and-swap against the index as it was before listing and, when other writers got
   * there first, merged with their changes (the updater's `commitRebuild`); an index that
   * cannot be read (corrupt, over its caps) is replaced, by its ETag alone. Only the metas of
   * blocks new to the index are read.
   */
  async rebuild(tenant: string): Promise<RebuildResult> {
    const base = await this.updater.readForRebuild(tenant);
    const before = new Set(base.index?.blocks.map((b) => b.block_id));
    const { index, partials, noted, dataModified, markerKeys } = await this.updater.scan(tenant, {
      base: base.index,
      noteFiles: [VERIFIED_FILE, VERIFY_REPORT_FILE],
    });
    const verified = noted.get(VERIFIED_FILE)!;
    const reported = noted.get(VERIFY_REPORT_FILE)!;
    // The scan listed markers/ already: its keys, not a second listing.
    const marks = await this.marks(tenant, markerKeys);
    const unverified: string[] = [];
    index.blocks = index.blocks.filter((b) => {
      if (marks.get(b.block_id)?.noCompact?.reason === QUARANTINE_REASON) {
        // Quarantined, but with files newer than its report (the rest of an upload that came
        // after the verdict, a re-upload): verified again, never indexed from here.
        const report = reported.get(b.block_id);
        if (report !== undefined && (dataModified.get(b.block_id) ?? 0) > report) unverified.push(b.block_id);
        return false;
      }
      if (verified.has(b.block_id) || before.has(b.block_id)) return true;
      unverified.push(b.block_id);
      return false;
    });
    await this.updater.commitRebuild(tenant, base, index, { requireFiles: [VERIFIED_FILE] });
    return { unverified, partials: [...partials] };
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
   * The tenant's no-compact and no-downsample marks, from the mirrors under markers/ (one
   * listing, or the keys a scan listed; bodies cached).
   */
  private async marks(
    tenant: string,
    listed?: readonly string[],
  ): Promise<Map<string, { noCompact?: NoCompactMark; noDownsample?: boolean }>> {
    const out = new Map<string, { noCompact?: NoCompactMark; noDownsample?: boolean }>();
    const entry = (id: string) => {
      let e = out.get(id);
      if (!e) out.set(id, (e = {}));
      return e;
    };
    const prefix = this.layout.markersPrefix(tenant);
    for await (const key of listed ?? keysUnder(this.store, prefix)) {
      const base = key.slice(prefix.length);
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
        try {
          mark = await readMarkerObject(this.store, key, NO_COMPACT_MARK_FILE);
          if (!mark) continue;
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

async function* keysUnder(store: ObjectStore, prefix: string): AsyncGenerator<string> {
  for await (const o of listAll(store, prefix)) yield o.key;
}
