/**
 * What `strata status` shows per tenant: live blocks by level and resolution, blocks marked
 * for deletion, the plans the planner would run now, quarantined blocks, and the age of the
 * bucket index. Read-only: nothing is enqueued or written.
 */
import { MAX_MARKER_BYTES, NO_COMPACT_MARK_FILE, blockResolution, parseMarker } from "@strata/tsdb";
import { getCapped, listAll, type ObjectStore } from "@strata/bucket";
import { BucketIndexUpdater } from "@strata/bucket";
import { bindPipeline, pipelineLayout } from "./bindings/index.ts";
import type { EngineSettings } from "./config.ts";
import { QUARANTINE_REASON } from "./jobs/verify.ts";
import { jsonLogger } from "./log.ts";

export interface TenantStatus {
  tenant: string;
  /** `"<level>/<resolution ms>"` → live (unmarked) indexed blocks. */
  blocks: Record<string, number>;
  live: number;
  markedForDeletion: number;
  pendingCompactions: { kind: string; inputs: string[]; reason: string }[];
  pendingDownsamples: { block: string; resolution: number }[];
  quarantined: { block: string; details: string }[];
  /**
   * Blocks whose plan was refused (no-compact marks other than quarantine: failed attempts, a broken output, over
   * budget).
   */
  refused: { block: string; reason: string; details: string }[];
  /** Leased jobs that failed at least once and have not succeeded yet: attempts so far and their errors. */
  failing: { job: string; attempts: number; errors: string[] }[];
  /** Seconds since the bucket index was written; undefined when the tenant has none. */
  indexAgeSeconds?: number;
}

export async function bucketStatus(
  store: ObjectStore,
  opts: { tenant?: string; now?: number; engine?: Partial<EngineSettings> } = {},
): Promise<TenantStatus[]> {
  const deps = bindPipeline({
    store,
    queue: { send: async () => undefined },
    log: jsonLogger(() => undefined),
    engine: opts.engine,
  });
  const layout = pipelineLayout();
  const updater = new BucketIndexUpdater(store, { layout });
  const now = opts.now ?? Date.now();
  const tenants = opts.tenant !== undefined ? [opts.tenant] : await deps.storage.listTenants();
  const out: TenantStatus[] = [];
  for (const tenant of tenants) {
    const all = await deps.index.blocks(tenant);
    const live = all.filter((b) => b.deletionTime === undefined);
    const blocks: Record<string, number> = {};
    for (const b of live) {
      const k = `${b.meta.compaction.level}/${blockResolution(b.meta)}`;
      blocks[k] = (blocks[k] ?? 0) + 1;
    }
    const plan = await deps.engines.plan(tenant, live, undefined, live);
    const quarantined: TenantStatus["quarantined"] = [];
    const refused: TenantStatus["refused"] = [];
    for await (const o of listAll(store, layout.markersPrefix(tenant))) {
      const m = layout.parseGlobalMarker(o.key);
      if (m?.file !== NO_COMPACT_MARK_FILE) continue;
      const r = await getCapped(store, o.key, MAX_MARKER_BYTES);
      if (!r || r.truncated) continue;
      const mark = parseMarker(NO_COMPACT_MARK_FILE, r.body);
      if (mark.reason === QUARANTINE_REASON) quarantined.push({ block: m.id, details: mark.details ?? "" });
      else refused.push({ block: m.id, reason: mark.reason, details: mark.details ?? "" });
    }
    const cur = await updater.read(tenant);
    out.push({
      tenant,
      blocks,
      live: live.length,
      markedForDeletion: all.length - live.length,
      pendingCompactions: plan.compactions.map((c) => ({ kind: c.plan.kind, inputs: c.blocks, reason: c.plan.reason })),
      pendingDownsamples: plan.downsamples.map((d) => ({ block: d.block, resolution: d.resolution })),
      quarantined,
      refused,
      failing: (await deps.leases.listAttempts(tenant)).map(({ record }) => ({
        job: record.job,
        attempts: record.attempts,
        errors: record.errors,
      })),
      indexAgeSeconds: cur ? Math.max(0, Math.floor(now / 1000) - cur.index.updated_at) : undefined,
    });
  }
  return out;
}
