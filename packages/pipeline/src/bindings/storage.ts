/**
 * The Storage port over an ObjectStore (S3 in Lambda, the emulator locally, a directory in
 * tests), in the bucket's shared layout. Markers are create-if-absent (`ifNoneMatch: "*"`),
 * so a retried job never moves a mark's time, and are mirrored to `<tenant>/markers/` as
 * Mimir does; deletion goes meta.json first and the deletion mark last (`deleteBlock`).
 */
import { createHash } from "node:crypto";
import {
  DELETION_MARK_FILE,
  FormatError,
  MAX_MARKER_BYTES,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  isUlid,
  serializeMarker,
  type BlockMeta,
  type BlockSource,
  type DeletionMark,
  type MarkerFile,
  type MarkerTypes,
  type NoCompactMark,
  type NoDownsampleMark,
} from "@strata/tsdb";
import { StoreBlockSource } from "@strata/bucket";
import { parseBlockKey } from "@strata/bucket";
import { deleteBlock, deleteMarker, isBlockDataFile, type BucketLayout } from "@strata/bucket";
import {
  PreconditionFailedError,
  getCapped,
  listAll,
  readMarkerObject,
  readMetaObject,
  type ObjectStore,
} from "@strata/bucket";
import { converterMarkJson } from "@strata/parquet";
import type { BlockDataFile, BlockListing, BlockRef, MetaStat, ParquetMark, Storage, TenantPage } from "../ports.ts";

export class StoreStorage implements Storage {
  readonly store: ObjectStore;
  readonly layout: BucketLayout;

  /** meta.json past this size is refused unparsed (a FormatError, which verification reports as MetaTooLarge). */
  private readonly maxMetaBytes: number | undefined;
  /** Top-level folders per `listTenantPage` (the store's maximum, 1000, by default; smaller in tests). */
  private readonly tenantPageSize: number | undefined;

  constructor(store: ObjectStore, layout: BucketLayout, opts: { maxMetaBytes?: number; tenantPageSize?: number } = {}) {
    this.store = store;
    this.layout = layout;
    this.maxMetaBytes = opts.maxMetaBytes;
    this.tenantPageSize = opts.tenantPageSize;
  }

  /** Each block gets its own page cache (64 MiB bound), dropped with the job. */
  async openBlock(ref: BlockRef): Promise<BlockSource> {
    return new StoreBlockSource(this.store, this.layout.blockPrefix(ref.tenant, ref.block));
  }

  async readMeta(ref: BlockRef): Promise<BlockMeta | undefined> {
    const r = await this.readMetaStat(ref);
    if (r?.meta instanceof FormatError) throw r.meta;
    return r?.meta;
  }

  async readMetaStat(ref: BlockRef): Promise<{ meta: BlockMeta | FormatError; stat: MetaStat } | undefined> {
    const key = this.layout.metaKey(ref.tenant, ref.block);
    const got = await readMetaObject(this.store, key, this.maxMetaBytes);
    if (!got) return undefined;
    const { object: r, meta } = got;
    return {
      meta,
      stat: { sha256: createHash("sha256").update(r.body).digest("hex"), lastModified: r.lastModified.getTime() },
    };
  }

  async statMeta(ref: BlockRef): Promise<MetaStat | undefined> {
    return (await this.readMetaStat(ref))?.stat;
  }

  async readMarkers(ref: BlockRef): Promise<{ deletion?: DeletionMark; noCompact?: NoCompactMark }> {
    const [deletion, noCompact] = await Promise.all([
      this.readMarker(ref, DELETION_MARK_FILE),
      this.readMarker(ref, NO_COMPACT_MARK_FILE),
    ]);
    return { deletion, noCompact };
  }

  async listBlockData(ref: BlockRef): Promise<BlockDataFile[]> {
    const prefix = this.layout.blockPrefix(ref.tenant, ref.block);
    const out: BlockDataFile[] = [];
    for await (const o of listAll(this.store, prefix)) {
      const file = o.key.slice(prefix.length);
      if (isBlockDataFile(file)) out.push({ file, size: o.size, lastModified: o.lastModified.getTime() });
    }
    return out;
  }

  async listBlocks(tenant: string): Promise<BlockListing[]> {
    const prefix = this.layout.tenantPrefix(tenant);
    const dirs = new Map<string, { hasMeta: boolean; lastModified: number; marked: boolean }>();
    // ULID directories holding ULID folders: tenant-shaped, never blocks, so never reported
    // (a partial upload would be marked and deleted by cleanup).
    const tenantShaped = new Set<string>();
    // One listing of the tenant, folded per block directory by the bucket's key grammar
    // (markers/, leases/ and, at the root, other tenants' keys fall out here).
    for await (const o of listAll(this.store, prefix)) {
      const k = parseBlockKey(o.key, this.layout.rootTenant);
      if ("reason" in k) {
        if (k.tenantShapedFolder !== undefined && prefix === "") tenantShaped.add(k.tenantShapedFolder.toUpperCase());
        continue;
      }
      if (k.tenant !== tenant) continue;
      const id = k.block.toUpperCase();
      const slash = k.file.indexOf("/");
      if (slash > 0 && isUlid(k.file.slice(0, slash))) tenantShaped.add(id);
      let d = dirs.get(id);
      if (!d) dirs.set(id, (d = { hasMeta: false, lastModified: 0, marked: false }));
      if (k.file === META_FILE) d.hasMeta = true;
      if (k.file === DELETION_MARK_FILE) d.marked = true;
      d.lastModified = Math.max(d.lastModified, o.lastModified.getTime());
    }
    const out: BlockListing[] = [];
    for (const [block, d] of [...dirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (tenantShaped.has(block)) continue;
      const deletion = d.marked ? await this.readMarker({ tenant, block }, DELETION_MARK_FILE) : undefined;
      out.push({ block, hasMeta: d.hasMeta, lastModified: d.lastModified, deletionTime: deletion?.deletion_time });
    }
    return out;
  }

  listTenants(): Promise<string[]> {
    return this.layout.listTenants(this.store);
  }

  listTenantPage(token?: string, opts: { rootSeen?: boolean } = {}): Promise<TenantPage> {
    return this.layout.listTenantPage(this.store, token, { ...opts, maxKeys: this.tenantPageSize });
  }

  markNoCompact(ref: BlockRef, mark: NoCompactMark): Promise<void> {
    return this.createMarker(ref, NO_COMPACT_MARK_FILE, mark);
  }

  markForDeletion(ref: BlockRef, mark: DeletionMark): Promise<void> {
    return this.createMarker(ref, DELETION_MARK_FILE, mark);
  }

  markNoDownsample(ref: BlockRef, mark: NoDownsampleMark): Promise<void> {
    return this.createMarker(ref, NO_DOWNSAMPLE_MARK_FILE, mark);
  }

  async unmarkNoCompact(ref: BlockRef): Promise<void> {
    await deleteMarker(this.store, this.layout, ref.tenant, ref.block, NO_COMPACT_MARK_FILE);
  }

  async unmarkDeletion(ref: BlockRef): Promise<void> {
    // The block's own mark first: cleanup deletes by it, so the block is safe from that moment.
    await deleteMarker(this.store, this.layout, ref.tenant, ref.block, DELETION_MARK_FILE);
  }

  async putReport(ref: BlockRef, name: string, body: string): Promise<void> {
    await this.store.put(this.layout.blockFile(ref.tenant, ref.block, name), body, { contentType: "application/json" });
  }

  async readReport(ref: BlockRef, name: string): Promise<{ body: string; lastModified: number } | undefined> {
    // Reports are ours (a verifier report keeps a few problems per code); a larger object is not
    // one: its start is kept, which no reader takes for a valid report.
    const r = await getCapped(this.store, this.layout.blockFile(ref.tenant, ref.block, name), MAX_REPORT_BYTES);
    return r && { body: new TextDecoder().decode(r.body), lastModified: r.lastModified.getTime() };
  }

  async deleteReport(ref: BlockRef, name: string): Promise<void> {
    await this.store.delete(this.layout.blockFile(ref.tenant, ref.block, name));
  }

  async mirrorParquetMark(ref: BlockRef, mark: ParquetMark): Promise<void> {
    await this.store.put(this.layout.parquetMarkerKey(ref.tenant, ref.block), converterMarkJson(mark.shards), {
      contentType: "application/json",
    });
  }

  deleteBlock(ref: BlockRef): Promise<void> {
    return deleteBlock(this.store, this.layout, ref.tenant, ref.block);
  }

  /**
   * The mark next to the block, create-if-absent; then its global mirror with the body that
   * won (a crash between the two leaves the mirror for the retry to write).
   */
  private async createMarker<F extends MarkerFile>(ref: BlockRef, file: F, mark: MarkerTypes[F]): Promise<void> {
    const key = this.layout.blockFile(ref.tenant, ref.block, file);
    let body = serializeMarker(file, mark);
    const r = await this.store.put(key, body, { ifNoneMatch: "*", contentType: "application/json" });
    if (r instanceof PreconditionFailedError) {
      // The mark that won is mirrored as it is; one over a marker's size is mirrored as ours.
      const existing = await getCapped(this.store, key, MAX_MARKER_BYTES);
      if (existing && !existing.truncated) body = new TextDecoder().decode(existing.body);
    }
    // Mimir mirrors deletion and no-compact marks; Strata mirrors its no-downsample marks too,
    // so one listing of markers/ tells the index binding every mark of the tenant.
    await this.store.put(this.layout.markersPrefix(ref.tenant) + `${ref.block}-${file}`, body, {
      contentType: "application/json",
    });
  }

  private async readMarker<F extends MarkerFile>(ref: BlockRef, file: F): Promise<MarkerTypes[F] | undefined> {
    return readMarkerObject(this.store, this.layout.blockFile(ref.tenant, ref.block, file), file);
  }
}

/** A report object next to a block is at most this large (one verifier report is tens of KiB). */
const MAX_REPORT_BYTES = 16 << 20;
