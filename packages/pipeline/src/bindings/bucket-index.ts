/**
 * The BucketIndex port over Mimir's bucket index (`<tenant>/bucket-index.json.gz`): every
 * update is the updater's compare-and-swap. `blocks()` returns full metas, which the index
 * entries lack (no sources, no external labels): each indexed block's meta.json is read once
 * and cached by ULID (a block's meta never changes), and no-compact marks come from the
 * tenant's global markers. A rebuild leaves out the blocks Strata quarantined.
 */
import { NO_COMPACT_MARK_FILE, parseMarker, parseMeta, MARKER_VERSION_1, type BlockMeta, type NoCompactMark } from "@strata/tsdb";
import { BucketIndexUpdater, IndexConflict } from "@strata/bucket/bucket-index/updater";
import { encodeIndex, normalizeIndex } from "@strata/bucket/bucket-index/schema";
import { PreconditionFailed } from "@strata/bucket/store";
import { QUARANTINE_REASON } from "../jobs/verify.ts";
import type { BucketLayout } from "@strata/bucket/layout";
import { listAll, type ObjectStore } from "@strata/bucket/store";
import type { BucketIndex, LiveBlock } from "../ports.ts";

/** Bound on cached metas (a few KB each); beyond it the oldest entries go. */
const MAX_CACHED_METAS = 50_000;

export class StoreBucketIndex implements BucketIndex {
  readonly updater: BucketIndexUpdater;
  private readonly store: ObjectStore;
  private readonly layout: BucketLayout;
  private readonly metas = new Map<string, BlockMeta>();
  private readonly noCompact = new Map<string, NoCompactMark>();
  private readonly now: () => number;

  constructor(store: ObjectStore, layout: BucketLayout, opts: { now?: () => number } = {}) {
    this.store = store;
    this.layout = layout;
    this.now = opts.now ?? Date.now;
    this.updater = new BucketIndexUpdater(store, { layout, now: opts.now });
  }

  async blocks(tenant: string): Promise<LiveBlock[]> {
    const cur = await this.updater.read(tenant);
    if (!cur) return [];
    const marks = new Map(cur.index.block_deletion_marks.map((m) => [m.block_id, m.deletion_time]));
    const noCompact = await this.noCompactMarks(tenant);
    const out: LiveBlock[] = [];
    for (const b of cur.index.blocks) {
      const meta = await this.meta(tenant, b.block_id);
      // Indexed but meta.json gone: deleted under the index (cleanup removes the entry first,
      // so only a hand-made deletion does this); index-sync drops it.
      if (!meta) continue;
      const lb: LiveBlock = { meta };
      const d = marks.get(b.block_id);
      if (d !== undefined) lb.deletionTime = d;
      const nc = noCompact.get(b.block_id);
      if (nc) lb.noCompact = nc;
      out.push(lb);
    }
    return out;
  }

  async addBlock(tenant: string, meta: BlockMeta): Promise<void> {
    this.remember(tenant, meta);
    await this.updater.addBlock(tenant, meta.ulid);
  }

  async markDeleted(tenant: string, block: string, deletionTime: number): Promise<void> {
    await this.updater.addDeletionMark(tenant, block, { id: block, version: MARKER_VERSION_1, deletion_time: deletionTime });
  }

  async removeBlock(tenant: string, block: string): Promise<void> {
    await this.updater.removeBlock(tenant, block);
    this.metas.delete(`${tenant}/${block}`);
  }

  /**
   * The updater's rebuild from a listing, minus the blocks Strata quarantined (a listing sees
   * their meta.json, but a quarantined block must never be indexed). Written by
   * compare-and-swap against the index as it was before listing, like the updater's own.
   */
  async rebuild(tenant: string): Promise<void> {
    const key = this.layout.indexKey(tenant);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const cur = await this.store.head(key);
      const { index } = await this.updater.scan(tenant);
      const quarantined = new Set([...(await this.noCompactMarks(tenant))].filter(([, m]) => m.reason === QUARANTINE_REASON).map(([id]) => id));
      index.blocks = index.blocks.filter((b) => !quarantined.has(b.block_id));
      const next = normalizeIndex(index);
      next.updated_at = Math.floor(this.now() / 1000);
      const r = await this.store.put(key, encodeIndex(next), cur ? { ifMatch: cur.etag } : { ifNoneMatch: "*" });
      if (!(r instanceof PreconditionFailed)) return;
      await new Promise((res) => setTimeout(res, Math.random() * 50 * attempt));
    }
    throw new IndexConflict(`${this.store.url}/${key}`, 5);
  }

  private async meta(tenant: string, block: string): Promise<BlockMeta | undefined> {
    const hit = this.metas.get(`${tenant}/${block}`);
    if (hit) return hit;
    const key = this.layout.metaKey(tenant, block);
    const r = await this.store.get(key);
    if (!r) return undefined;
    const meta = parseMeta(r.body, `${this.store.url}/${key}`);
    this.remember(tenant, meta);
    return meta;
  }

  private remember(tenant: string, meta: BlockMeta): void {
    if (this.metas.size >= MAX_CACHED_METAS) this.metas.delete(this.metas.keys().next().value!);
    this.metas.set(`${tenant}/${meta.ulid}`, meta);
  }

  /** The tenant's no-compact marks, from the global markers (one listing; bodies cached). */
  private async noCompactMarks(tenant: string): Promise<Map<string, NoCompactMark>> {
    const out = new Map<string, NoCompactMark>();
    for await (const o of listAll(this.store, this.layout.markersPrefix(tenant))) {
      const m = this.layout.parseGlobalMarker(o.key);
      if (m?.file !== NO_COMPACT_MARK_FILE) continue;
      const ck = `${tenant}/${m.id}`;
      let mark = this.noCompact.get(ck);
      if (!mark) {
        const r = await this.store.get(o.key);
        if (!r) continue;
        mark = parseMarker(NO_COMPACT_MARK_FILE, r.body);
        this.noCompact.set(ck, mark);
      }
      out.set(m.id, mark);
    }
    return out;
  }
}
