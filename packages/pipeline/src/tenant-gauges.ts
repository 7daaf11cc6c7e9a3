/**
 * The per-tenant gauges of the catalogue (metrics.ts), computed from what `strata web` and
 * `strata status` already read: one listing of the tenant's block folders with their marks
 * (`BlockViews.blocks`), the planner's pending plans (`BlockViews.plans`, i.e. `bucketStatus`)
 * and a HEAD of the bucket index. A tenant nobody uploads to still has a backlog, a lag and a
 * stale index worth seeing, so they are computed on demand: at scrape time locally (cached for
 * a few seconds by the caller), after each tenant's index re-sync in Lambda (the hourly
 * schedule's `index-sync` job, through `WorkerDeps.tenantGauges`).
 */
import { tenantName } from "@strata/bucket";
import { pipelineLayout } from "./bindings/index.ts";
import type { BlockViews, TenantBlocks } from "./block-views.ts";
import { QUARANTINE_REASON } from "./jobs/admit.ts";
import type { GaugeName, GaugeSample } from "./metrics.ts";
import type { TenantStatus } from "./status.ts";

export type { GaugeSample };

/**
 * The tenant's gauges from a listing and a planning already made. `plans` undefined (the
 * planner could not run: an unreadable index) leaves `strata_pending_plans` out rather than
 * reporting a false 0; likewise the index age and size when the tenant has no index.
 */
export function gaugesOf(
  b: TenantBlocks,
  plans: Pick<TenantStatus, "pendingCompactions" | "pendingDownsamples"> | undefined,
  opts: { now: number; indexBytes?: number },
): GaugeSample[] {
  const tenant = tenantName(b.tenant);
  const out: GaugeSample[] = [];
  const byLevel = new Map<string, { level: string; resolution: string; n: number }>();
  let oldestPending: number | undefined;
  let quarantined = 0;
  let noCompact = 0;
  for (const v of b.blocks) {
    if (v.marks.noCompact) noCompact++;
    if (v.marks.noCompact?.reason === QUARANTINE_REASON) quarantined++;
    if (v.state === "live") {
      const level = String(v.level ?? 0);
      const resolution = String(v.resolution ?? 0);
      const k = `${level}/${resolution}`;
      const e = byLevel.get(k) ?? { level, resolution, n: 0 };
      e.n++;
      byLevel.set(k, e);
    }
    if (v.state === "pending") oldestPending = Math.min(oldestPending ?? v.lastModified, v.lastModified);
  }
  for (const e of [...byLevel.values()].sort((x, y) => Number(x.level) - Number(y.level)))
    out.push({ name: "strata_blocks", labels: { tenant, level: e.level, resolution: e.resolution }, value: e.n });
  const one = (name: GaugeName, value: number) => out.push({ name, labels: { tenant }, value });
  if (plans) one("strata_pending_plans", plans.pendingCompactions.length + plans.pendingDownsamples.length);
  one("strata_upload_lag_seconds", oldestPending === undefined ? 0 : Math.max(0, (opts.now - oldestPending) / 1000));
  one("strata_quarantined_blocks", quarantined);
  one("strata_no_compact_marks", noCompact);
  if (b.index.ageSeconds !== undefined) one("strata_bucket_index_age_seconds", b.index.ageSeconds);
  if (opts.indexBytes !== undefined) one("strata_bucket_index_bytes", opts.indexBytes);
  return out;
}

/** The size of the tenant's bucket index object; undefined when it has none. */
export async function bucketIndexBytes(views: BlockViews, tenant: string): Promise<number | undefined> {
  return (await views.store.head(pipelineLayout().indexKey(tenant)))?.size;
}

/** The tenant's gauges, read now (one listing, one planning, one HEAD). */
export async function tenantGauges(views: BlockViews, tenant: string, now = Date.now()): Promise<GaugeSample[]> {
  const [b, plans, indexBytes] = await Promise.all([
    views.blocks(tenant),
    views.plans(tenant).catch(() => undefined),
    bucketIndexBytes(views, tenant),
  ]);
  return gaugesOf(b, plans, { now, indexBytes });
}
