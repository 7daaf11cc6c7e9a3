/**
 * What `strata web` shows of a bucket: every block folder of a tenant as `strata ls` lists it
 * (`scanBlocks` of list-blocks.ts: not only the indexed ones, quarantined, partial and pending
 * blocks too, with marks, size and problems) plus its state and compaction group; the bucket
 * index's age; one block's files, meta.json, marks and reports as stored; the plans, as
 * `strata status` computes them (`bucketStatus`). Read-only. Everything read is hostile: each
 * object is fetched only under a size cap known from the listing, and a meta.json or mark that
 * does not parse is shown with its problem, never an error of the whole tenant.
 */
import { SHARD_ID_LABEL, groupBlocks } from "@strata/compact";
import {
  BucketIndexInvalidError,
  BucketIndexUpdater,
  listAll,
  type ObjectInfo,
  type ObjectStore,
} from "@strata/bucket";
import {
  DELETION_MARK_FILE,
  MAX_META_BYTES,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  NO_DOWNSAMPLE_MARK_FILE,
  type MarkerFile,
} from "@strata/tsdb";
import { pipelineLayout } from "./bindings/index.ts";
import type { EngineSettings } from "./config.ts";
import { PLAN_REPORT_FILE, QUARANTINE_REASON, VERIFIED_FILE, VERIFY_REPORT_FILE } from "./jobs/admit.ts";
import { scanBlocks, type BlockRow } from "./list-blocks.ts";
import { DEFAULT_ENGINE_SETTINGS } from "./settings.ts";
import { bucketStatus, type TenantStatus } from "./status.ts";

/** A mark, a report or a verification record is small; anything larger is not read. */
const MAX_SMALL_OBJECT_BYTES = 8 << 20;

/**
 * `live`: indexed, no deletion mark; `pending`: a readable meta.json not indexed (yet);
 * `marked`: carries a deletion mark; `quarantined`: Strata's verify refused it; `broken`:
 * meta.json does not parse (or names another block); `partial`: no meta.json (an upload in
 * progress or abandoned).
 */
export type BlockState = "live" | "pending" | "marked" | "quarantined" | "broken" | "partial";

/** A block as `strata ls` lists it (`listBucketBlocks`), with what the page adds. */
export interface BlockView extends BlockRow {
  state: BlockState;
  /** The compaction group: Thanos' key of the external labels without replica and shard labels (and the resolution). */
  group?: string;
  /** The external labels without replica and shard labels: the group's labels. */
  groupLabels?: Record<string, string>;
}

export interface IndexView {
  present: boolean;
  /** Unix seconds the index says it was written. */
  updatedAt?: number;
  ageSeconds?: number;
  blocks?: number;
  /** Why the index could not be read (corrupt, over its caps). */
  error?: string;
}

export interface TenantBlocks {
  tenant: string;
  blocks: BlockView[];
  index: IndexView;
}

export interface BlockDetail {
  view: BlockView;
  files: { name: string; size: number }[];
  /** meta.json as stored (parsed JSON), or undefined with `metaError`. */
  meta?: unknown;
  metaError?: string;
  /** The marker files as stored (next to the block, else their mirror under markers/). */
  marks: Partial<Record<"deletion" | "noCompact" | "noDownsample", unknown>>;
  verifyReport?: unknown;
  planReport?: unknown;
  verified?: unknown;
}

const MARK_FIELDS = [
  ["deletion", DELETION_MARK_FILE],
  ["noCompact", NO_COMPACT_MARK_FILE],
  ["noDownsample", NO_DOWNSAMPLE_MARK_FILE],
] as const satisfies readonly (readonly [string, MarkerFile])[];

export class BlockViews {
  readonly store: ObjectStore;
  private readonly layout = pipelineLayout();
  private readonly engine: Partial<EngineSettings>;
  private readonly now: () => number;

  constructor(store: ObjectStore, opts: { engine?: Partial<EngineSettings>; now?: () => number } = {}) {
    this.store = store;
    this.engine = opts.engine ?? {};
    this.now = opts.now ?? Date.now;
  }

  /** The tenants uploads created (the root tenant `""` when root blocks exist). */
  tenants(): Promise<string[]> {
    return this.layout.listTenants(this.store);
  }

  /** Every block folder of the tenant, sorted by ULID, and the state of its bucket index. */
  async blocks(tenant: string): Promise<TenantBlocks> {
    const [scan, index] = await Promise.all([
      scanBlocks(this.store, { tenant, maxMetaBytes: this.engine.maxMetaBytes }),
      this.readIndex(tenant),
    ]);
    // Groups as the planner makes them (replica and shard labels removed), over the readable metas.
    const groupOf = new Map<string, { key: string; labels: Record<string, string> }>();
    const metas = scan.blocks.flatMap((b) => (b.meta && b.row.problem === undefined ? [{ meta: b.meta, tenant }] : []));
    const replicaLabels = this.engine.replicaLabels ?? DEFAULT_ENGINE_SETTINGS.replicaLabels;
    for (const g of groupBlocks(metas, { replicaLabels })) {
      // Shown without Thanos' `<replica>="deduped"` stand-in for an empty label set.
      const labels = Object.fromEntries(
        Object.entries(g.labels).filter(([k]) => !replicaLabels.includes(k) && k !== SHARD_ID_LABEL),
      );
      for (const b of g.blocks) groupOf.set(b.ulid.toUpperCase(), { key: g.key, labels });
    }
    const blocks = scan.blocks.map(({ row }): BlockView => {
      const g = groupOf.get(row.block);
      return { ...row, state: stateOf(row), ...(g ? { group: g.key, groupLabels: g.labels } : {}) };
    });
    return { tenant, blocks, index };
  }

  /** One block: its view, files, meta.json as stored, marks and reports; undefined when no folder. */
  async block(tenant: string, ulid: string): Promise<BlockDetail | undefined> {
    const view = (await this.blocks(tenant)).blocks.find((b) => b.block === ulid);
    if (!view) return undefined;
    const prefix = this.layout.blockPrefix(tenant, ulid);
    const files = new Map<string, ObjectInfo>();
    for await (const o of listAll(this.store, prefix)) files.set(o.key.slice(prefix.length), o);
    const detail: BlockDetail = { view, files: [...files].map(([name, o]) => ({ name, size: o.size })), marks: {} };
    const metaObj = files.get(META_FILE);
    if (metaObj) {
      const r = await this.readJson(metaObj, this.engine.maxMetaBytes ?? MAX_META_BYTES);
      if ("error" in r) detail.metaError = r.error;
      else detail.meta = r.value;
    } else detail.metaError = "no meta.json (a partial upload, or a deletion under way)";
    for (const [field, file] of MARK_FIELDS) {
      const o = files.get(file) ?? (await this.store.head(this.layout.globalMarkerKey(tenant, ulid, file)));
      if (o) detail.marks[field] = jsonOrError(await this.readJson(o, MAX_SMALL_OBJECT_BYTES));
    }
    for (const [field, file] of [
      ["verifyReport", VERIFY_REPORT_FILE],
      ["planReport", PLAN_REPORT_FILE],
      ["verified", VERIFIED_FILE],
    ] as const) {
      const o = files.get(file);
      if (o) detail[field] = jsonOrError(await this.readJson(o, MAX_SMALL_OBJECT_BYTES));
    }
    return detail;
  }

  /**
   * What `strata status` computes for the tenant: pending compactions and downsamplings,
   * refusals, failing jobs. Throws when the tenant's bucket index cannot be read.
   */
  async plans(tenant: string): Promise<TenantStatus> {
    // bucketStatus would rebuild an unreadable index (the bindings heal it): this view writes nothing.
    const index = await this.readIndex(tenant);
    if (index.error !== undefined)
      throw new Error(`bucket index unreadable (${index.error}); \`strata index rebuild\` rebuilds it`);
    const [s] = await bucketStatus(this.store, { tenant, engine: this.engine, now: this.now() });
    return s!;
  }

  private async readIndex(tenant: string): Promise<IndexView> {
    try {
      const cur = await new BucketIndexUpdater(this.store, { layout: this.layout }).read(tenant);
      if (!cur) return { present: false };
      const updatedAt = cur.index.updated_at;
      const ageSeconds = Math.max(0, Math.floor(this.now() / 1000) - updatedAt);
      return { present: true, updatedAt, ageSeconds, blocks: cur.index.blocks.length };
    } catch (e) {
      if (!(e instanceof BucketIndexInvalidError)) throw e;
      return { present: true, error: e.message };
    }
  }

  private async readJson(o: ObjectInfo, max: number): Promise<{ value: unknown } | { error: string }> {
    const name = o.key.slice(o.key.lastIndexOf("/") + 1);
    if (o.size > max) return { error: `${name} is ${o.size} bytes, over the ${max}-byte limit` };
    const r = await this.store.get(o.key);
    if (!r) return { error: `${name} disappeared` };
    if (r.body.length > max) return { error: `${name} is ${r.body.length} bytes, over the ${max}-byte limit` };
    try {
      return { value: JSON.parse(new TextDecoder().decode(r.body)) };
    } catch (e) {
      return { error: `${name} is not JSON: ${(e as Error).message}` };
    }
  }
}

function stateOf(row: BlockRow): BlockState {
  if (row.marks.noCompact?.reason === QUARANTINE_REASON) return "quarantined";
  if (row.minTime === undefined) return row.problem?.startsWith("no meta.json") ? "partial" : "broken";
  if (row.problem !== undefined) return "broken";
  if (row.marks.deletion) return "marked";
  return row.indexed ? "live" : "pending";
}

function jsonOrError(r: { value: unknown } | { error: string }): unknown {
  return "error" in r ? { error: r.error } : r.value;
}
