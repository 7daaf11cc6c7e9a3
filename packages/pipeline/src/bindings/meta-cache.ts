/**
 * The indexed blocks' meta.json for planning, retention and status, without one GET per
 * block: Mimir's index entry lacks sources, stats and file sizes, and reading 100k metas one
 * at a time took a quarter of an hour. Metas never change, so they are cached twice:
 *
 *  - in memory, per tenant, holding exactly the tenant's indexed blocks (pruned to the index
 *    on each call), least recently used tenants evicted past `maxCachedMetas` in total;
 *  - in the bucket, `<tenant>/strata-meta-cache.json.gz`: the meta.json texts of the indexed
 *    blocks, read by a cold worker in one GET and rewritten (plain PUT, last writer wins) by
 *    whoever had to fetch 50 or more metas it lacked (a tenth of the blocks, for a small tenant). It is only ever a cache: an entry is parsed with
 *    the same limits as meta.json and must name its own ULID; anything wrong with it costs
 *    GETs, never a wrong answer; a lost write costs the next reader a few GETs.
 *
 * So planning a tenant reads O(changed blocks) objects: the index, this cache, the markers
 * listing and the metas new since the cache was written.
 */
import { gunzipSync, gzipSync, constants } from "node:zlib";
import { z } from "zod";
import { FormatError, mapLimit, parseMeta, type BlockMeta } from "@strata/tsdb";
import { TenantCaches, getCapped, readMetaObject, type BucketLayout, type ObjectStore } from "@strata/bucket";

/** Metas kept in memory across tenants (~1.8 KB each parsed). */
export const MAX_CACHED_METAS = 100_000;
/** The cache object's bounds (a hostile object costs bounded memory to refuse). */
const MAX_COMPRESSED_BYTES = 64 << 20;
const MAX_JSON_BYTES = 512 << 20;
const FETCH_CONCURRENCY = 16;
/** Metas missing from the cache object before a reader rewrites it: a cold planning reads at most this many more. */
const REWRITE_AFTER = 50;

const CacheFileSchema = z.object({ version: z.literal(1), metas: z.record(z.string(), z.string()) });

export class MetaCache {
  private readonly store: ObjectStore;
  private readonly layout: BucketLayout;
  private readonly maxMetaBytes: number | undefined;
  /** Least recently used first. */
  private readonly tenants: TenantCaches<Map<string, BlockMeta>>;

  constructor(store: ObjectStore, layout: BucketLayout, opts: { maxMetaBytes?: number; maxCachedMetas?: number } = {}) {
    this.store = store;
    this.layout = layout;
    this.maxMetaBytes = opts.maxMetaBytes;
    this.tenants = new TenantCaches(opts.maxCachedMetas ?? MAX_CACHED_METAS, (m) => m.size);
  }

  /** The metas of `ids` (indexed blocks); a block whose meta.json is gone is left out. */
  async metas(tenant: string, ids: readonly string[]): Promise<Map<string, BlockMeta>> {
    const mem = this.tenants.take(tenant);
    const out = new Map<string, BlockMeta>();
    const missing: string[] = [];
    for (const id of ids) {
      const m = mem?.get(id);
      if (m) out.set(id, m);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const stored = await this.load(tenant);
      const lacking: string[] = [];
      for (const id of missing) {
        const text = stored.get(id);
        const m = text === undefined ? undefined : this.parse(tenant, id, text);
        if (m) out.set(id, m);
        else lacking.push(id);
      }
      if (lacking.length > 0) {
        const texts = new Map<string, string>();
        await mapLimit(lacking, FETCH_CONCURRENCY, async (id) => {
          const key = this.layout.metaKey(tenant, id);
          const r = await readMetaObject(this.store, key, this.maxMetaBytes);
          if (!r) return;
          if (r.meta instanceof FormatError) throw r.meta;
          out.set(id, r.meta);
          texts.set(id, new TextDecoder().decode(r.object.body));
        });
        // Rewriting the object costs gzip over every indexed meta (~20 MB at 100k blocks): done
        // once enough metas are missing from it, not for each new block (a reader GETs those).
        if (texts.size >= Math.min(REWRITE_AFTER, Math.ceil(ids.length / 10)))
          await this.save(tenant, ids, stored, texts);
      }
    }
    this.tenants.put(tenant, out);
    return out;
  }

  /** A meta the caller already holds (a block just admitted): no GET for it later. */
  remember(tenant: string, meta: BlockMeta): void {
    this.tenants.peek(tenant)?.set(meta.ulid, meta);
  }

  forget(tenant: string, id: string): void {
    this.tenants.peek(tenant)?.delete(id);
  }

  private parse(tenant: string, id: string, text: string): BlockMeta | undefined {
    try {
      const m = parseMeta(text, `${this.store.url}/${this.layout.metaCacheKey(tenant)}#${id}`, {
        maxBytes: this.maxMetaBytes,
      });
      return m.ulid === id ? m : undefined;
    } catch (e) {
      if (e instanceof FormatError) return undefined;
      throw e;
    }
  }

  /** The stored texts by ULID; empty when there is no cache object or it is unusable. */
  private async load(tenant: string): Promise<Map<string, string>> {
    const r = await getCapped(this.store, this.layout.metaCacheKey(tenant), MAX_COMPRESSED_BYTES);
    if (!r || r.truncated) return new Map();
    try {
      const json = gunzipSync(r.body, { maxOutputLength: MAX_JSON_BYTES });
      const parsed = CacheFileSchema.safeParse(JSON.parse(json.toString("utf8")));
      return parsed.success ? new Map(Object.entries(parsed.data.metas)) : new Map();
    } catch {
      return new Map(); // not gzip, not JSON, over the bound: a cache miss
    }
  }

  /** Rewrites the cache object: the indexed blocks' texts it had, and those just fetched. */
  private async save(
    tenant: string,
    ids: readonly string[],
    stored: Map<string, string>,
    fetched: Map<string, string>,
  ): Promise<void> {
    const metas: Record<string, string> = {};
    for (const id of ids) {
      const t = fetched.get(id) ?? stored.get(id);
      if (t !== undefined) metas[id] = t;
    }
    const body = gzipSync(JSON.stringify({ version: 1, metas }), { level: constants.Z_BEST_SPEED });
    if (body.length > MAX_COMPRESSED_BYTES) return; // a reader would refuse it
    await this.store.put(this.layout.metaCacheKey(tenant), body, { contentType: "application/gzip" });
  }
}
