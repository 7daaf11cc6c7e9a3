/**
 * Where things live in a bucket: `<tenant>/<ULID>/meta.json|index|chunks/NNNNNN`, marker
 * files next to the block and mirrored to `<tenant>/markers/<ULID>-<marker>` (Mimir's
 * global markers, so index updates list one prefix), and `<tenant>/bucket-index.json.gz`.
 * Thanos-style buckets keep blocks at the root: they are the one "root tenant", whose
 * keys have no tenant prefix.
 *
 * Block upload is chunks → index → meta.json last (a block is complete when its
 * meta.json exists); deletion is meta.json first, the deletion mark last.
 */
import {
  DELETION_MARK_FILE,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  isUlid,
  parseSegmentFileName,
  serializeMarker,
  type BlockSource,
  type MarkerFile,
  type MarkerTypes,
} from "@strata/tsdb";
import { ROOT_TENANT_NAME, isValidTenant, quoteName, tenantProblem } from "./keys.ts";
import { listAll, listPrefixes, uploadFrom, type ObjectStore } from "./store.ts";

export const BUCKET_INDEX_FILE = "bucket-index.json.gz";

/**
 * Whether a path below a block folder is one of the block's own files (meta.json, the index, a
 * chunk segment), as an upload writes them; marks, reports and Parquet files are not.
 */
export function isBlockDataFile(file: string): boolean {
  if (file === META_FILE || file === "index") return true;
  // A segment is what the format reads as one (tsdb's rule, Go's ParseUint on the name).
  return file.startsWith("chunks/") && parseSegmentFileName(file.slice("chunks/".length)) !== undefined;
}
/** Strata's copy of the indexed blocks' meta.json, one object per tenant: a cache, rebuilt from the blocks. */
export const META_CACHE_FILE = "strata-meta-cache.json.gz";
export const MARKERS_DIR = "markers";
export const LEASES_DIR = "leases";
/** Cortex's parquet converter: its mark in the block folder, mirrored to `<tenant>/parquet-markers/<ULID>-<file>`. */
export const PARQUET_MARKERS_DIR = "parquet-markers";
export const PARQUET_CONVERTER_MARK_FILE = "parquet-converter-mark.json";
/** Markers Mimir mirrors to the global location. */
export const GLOBAL_MARKERS: readonly MarkerFile[] = [DELETION_MARK_FILE, NO_COMPACT_MARK_FILE];
/** Every marker with a mirror there: Strata mirrors its no-downsample marks too. */
export const MIRRORED_MARKERS: readonly MarkerFile[] = [...GLOBAL_MARKERS, NO_DOWNSAMPLE_MARK_FILE];

export class BucketLayout {
  /**
   * What this layout calls the tenant whose keys have no prefix: ROOT_TENANT_NAME by default
   * (the CLI's name); the pipeline builds its layout with ROOT_TENANT (""), its own name.
   */
  readonly rootTenant: string;
  constructor(opts: { rootTenant?: string } = {}) {
    this.rootTenant = opts.rootTenant ?? ROOT_TENANT_NAME;
  }

  tenantPrefix(tenant: string): string {
    if (tenant === this.rootTenant) return "";
    const problem = tenantProblem(tenant);
    if (problem) throw new RangeError(`invalid tenant ${quoteName(tenant)}: ${problem}`);
    return tenant + "/";
  }
  blockPrefix(tenant: string, id: string): string {
    return `${this.tenantPrefix(tenant)}${id}/`;
  }
  blockFile(tenant: string, id: string, rel: string): string {
    return this.blockPrefix(tenant, id) + rel;
  }
  metaKey(tenant: string, id: string): string {
    return this.blockFile(tenant, id, META_FILE);
  }
  indexKey(tenant: string): string {
    return this.tenantPrefix(tenant) + BUCKET_INDEX_FILE;
  }
  metaCacheKey(tenant: string): string {
    return this.tenantPrefix(tenant) + META_CACHE_FILE;
  }
  parquetMarkersPrefix(tenant: string): string {
    return `${this.tenantPrefix(tenant)}${PARQUET_MARKERS_DIR}/`;
  }
  parquetMarkerKey(tenant: string, id: string): string {
    return `${this.parquetMarkersPrefix(tenant)}${id}-${PARQUET_CONVERTER_MARK_FILE}`;
  }
  markersPrefix(tenant: string): string {
    return `${this.tenantPrefix(tenant)}${MARKERS_DIR}/`;
  }
  globalMarkerKey(tenant: string, id: string, file: MarkerFile): string {
    return `${this.markersPrefix(tenant)}${id}-${file}`;
  }
  leaseKey(tenant: string, name: string): string {
    if (!/^[A-Za-z0-9._:=@+-]+$/.test(name)) throw new RangeError(`invalid lease name ${JSON.stringify(name)}`);
    return `${this.tenantPrefix(tenant)}${LEASES_DIR}/${name}.json`;
  }

  /** Parses `<ULID>-<marker>` from a global marker key's last segment. */
  /** The block a key under parquet-markers/ mirrors the converter mark of (`<ULID>-parquet-converter-mark.json`). */
  parseParquetMarker(name: string): string | undefined {
    const base = name.slice(name.lastIndexOf("/") + 1);
    const id = base.slice(0, 26);
    return base === `${id}-${PARQUET_CONVERTER_MARK_FILE}` && isUlid(id) ? id.toUpperCase() : undefined;
  }
  parseGlobalMarker(name: string): { id: string; file: MarkerFile } | undefined {
    const base = name.slice(name.lastIndexOf("/") + 1);
    const dash = base.indexOf("-");
    const id = base.slice(0, dash);
    const file = base.slice(dash + 1) as MarkerFile;
    return dash === 26 && isUlid(id) && GLOBAL_MARKERS.includes(file) ? { id: id.toUpperCase(), file } : undefined;
  }

  /**
   * Exactly the tenants uploads can create (valid names, `tenantProblem` of `keys.ts`, with
   * at least one object), plus the root tenant when a top-level ULID folder is a block
   * folder. `markers/`, `leases/`, invalid names and ULID-shaped folders of ULID folders
   * (tenant-shaped, never root blocks) do not count. Top-level ULID folders are checked in
   * order only until one is a block folder, so a root bucket of many blocks costs one more
   * listing.
   */
  async listTenants(store: ObjectStore): Promise<string[]> {
    const out: string[] = [];
    let root = false;
    let token: string | undefined;
    do {
      const page = await this.listTenantPage(store, token, { rootSeen: root });
      for (const t of page.tenants) if (t === this.rootTenant) root = true;
      out.push(...page.tenants.filter((t) => t !== this.rootTenant));
      token = page.next;
    } while (token !== undefined);
    if (root) out.unshift(this.rootTenant);
    return out;
  }

  /**
   * One page of `listTenants` (one listing call: at most 1000 top-level folders), for callers
   * that must do bounded work per call (the schedule's fan-out). The root tenant is on the
   * first page whose ULID folders include a block folder, unless `rootSeen` says an earlier
   * page had it (its block folders may span pages). `next` continues the listing.
   */
  async listTenantPage(
    store: ObjectStore,
    token?: string,
    opts: { rootSeen?: boolean; maxKeys?: number } = {},
  ): Promise<{ tenants: string[]; next?: string }> {
    const page = await store.list("", { delimiter: "/", token, maxKeys: opts.maxKeys });
    const tenants: string[] = [];
    const ulidDirs: string[] = [];
    for (const p of page.prefixes) {
      const name = p.slice(0, -1);
      if (isUlid(name)) ulidDirs.push(name);
      else if (name !== this.rootTenant && isValidTenant(name)) tenants.push(name);
    }
    if (!opts.rootSeen)
      for (const dir of ulidDirs) {
        if (await isBlockFolder(store, dir + "/")) {
          tenants.unshift(this.rootTenant);
          break;
        }
      }
    return page.next === undefined ? { tenants } : { tenants, next: page.next };
  }

  /** Block ids with any object under `<tenant>/<ULID>/` (complete or not). */
  async listBlockIds(store: ObjectStore, tenant: string): Promise<string[]> {
    const tp = this.tenantPrefix(tenant);
    const ids: string[] = [];
    for (const p of await listPrefixes(store, tp)) {
      const name = p.slice(tp.length, -1);
      if (isUlid(name)) ids.push(name.toUpperCase());
    }
    return ids.sort();
  }
}

/**
 * Whether a folder is a block folder: it holds something (a file, `chunks/`) and no ULID
 * folder (a folder of ULID folders is tenant-shaped). One listing page decides it for any
 * real block: ULID folders (first character 0-7) sort before every block file name.
 */
export async function isBlockFolder(store: ObjectStore, prefix: string): Promise<boolean> {
  let any = false;
  let token: string | undefined;
  do {
    const page = await store.list(prefix, { delimiter: "/", token });
    for (const p of page.prefixes) if (isUlid(p.slice(prefix.length, -1))) return false;
    any ||= page.objects.length > 0 || page.prefixes.length > 0;
    token = page.next;
  } while (token !== undefined);
  return any;
}

/**
 * Uploads a local block (a BlockSource) in the order that makes it visible only when
 * whole: chunk segments, then index, then meta.json. Tombstones are not uploaded (as
 * Thanos and Mimir): an uploaded block is immutable and must have them applied.
 */
export async function uploadBlock(
  store: ObjectStore,
  layout: BucketLayout,
  tenant: string,
  id: string,
  src: BlockSource,
  opts: { partSize?: number } = {},
): Promise<void> {
  for (const name of await src.listChunkFiles()) {
    await uploadFile(store, layout.blockFile(tenant, id, `chunks/${name}`), src, `chunks/${name}`, opts.partSize);
  }
  await uploadFile(store, layout.blockFile(tenant, id, "index"), src, "index", opts.partSize);
  await uploadFile(store, layout.metaKey(tenant, id), src, META_FILE, opts.partSize);
}

async function uploadFile(
  store: ObjectStore,
  key: string,
  src: BlockSource,
  rel: string,
  partSize?: number,
): Promise<void> {
  const f = await src.open(rel);
  try {
    await uploadFrom(store, key, f, { partSize });
  } finally {
    await f.close?.();
  }
}

/**
 * Deletes a block: meta.json first (so nobody sees a complete block any more), then every
 * other file (its Parquet files too, and the parquet converter mark's mirror), the deletion
 * mark last, then its global marker mirrors.
 */
export async function deleteBlock(store: ObjectStore, layout: BucketLayout, tenant: string, id: string): Promise<void> {
  const prefix = layout.blockPrefix(tenant, id);
  await store.delete(prefix + META_FILE);
  const rest: string[] = [];
  for await (const o of listAll(store, prefix)) if (o.key !== prefix + DELETION_MARK_FILE) rest.push(o.key);
  for (const k of rest) await store.delete(k);
  await store.delete(layout.parquetMarkerKey(tenant, id));
  await store.delete(prefix + DELETION_MARK_FILE);
  for (const m of MIRRORED_MARKERS) await store.delete(layout.globalMarkerKey(tenant, id, m));
}

/** Writes a marker next to the block and, for deletion and no-compact marks, to the global location too. */
export async function writeMarker<F extends MarkerFile>(
  store: ObjectStore,
  layout: BucketLayout,
  tenant: string,
  id: string,
  file: F,
  mark: MarkerTypes[F],
): Promise<void> {
  const body = serializeMarker(file, mark);
  await store.put(layout.blockFile(tenant, id, file), body, { contentType: "application/json" });
  if (GLOBAL_MARKERS.includes(file))
    await store.put(layout.globalMarkerKey(tenant, id, file), body, { contentType: "application/json" });
}

/** Removes a marker and its global mirror. */
export async function deleteMarker(
  store: ObjectStore,
  layout: BucketLayout,
  tenant: string,
  id: string,
  file: MarkerFile,
): Promise<void> {
  await store.delete(layout.blockFile(tenant, id, file));
  if (GLOBAL_MARKERS.includes(file)) await store.delete(layout.globalMarkerKey(tenant, id, file));
}
