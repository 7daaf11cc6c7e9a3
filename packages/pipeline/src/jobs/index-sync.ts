/**
 * index-sync: rebuild the tenant's bucket index from a listing, then re-plan the whole tenant.
 * Together they repair anything an event missed (S3 notifications are at-least-once, but a
 * misconfigured or paused notification can drop uploads entirely), and an index that cannot
 * be read at all (the rebuild never reads the old one).
 *
 * The rebuild trusts no block on its meta.json alone: blocks no verify has admitted are left
 * out and sent to verification instead (an upload still in progress, a block whose verify
 * has not run yet); their verify job indexes them if they pass.
 *
 * Idempotency: a rebuild is a function of the bucket's contents; re-planning and the verify
 * jobs enqueue only work that the jobs themselves deduplicate.
 */
import type { IndexSyncJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue } from "./context.ts";

export async function runIndexSync(ctx: JobContext, job: IndexSyncJob): Promise<JobResult> {
  // The gauges first: the index's age as this re-sync finds it is what the stale-index alarm
  // watches. Measured after the rebuild it would always be ~0, and a re-sync that keeps
  // failing would report nothing at all.
  await reportGauges(ctx, job.tenant);
  const { unverified } = await ctx.deps.index.rebuild(job.tenant);
  if (unverified.length > 0) ctx.log.info("index-sync-unverified", { blocks: unverified });
  const enqueued = await enqueue(ctx, [
    ...unverified.map((block) => ({ type: "verify" as const, tenant: job.tenant, block })),
    { type: "plan" as const, tenant: job.tenant },
  ]);
  return { status: "done", enqueued };
}

/** The tenant's gauges, once per re-sync (hourly): best effort, a failure is a warning and never the job's. */
async function reportGauges(ctx: JobContext, tenant: string): Promise<void> {
  const { metrics, tenantGauges } = ctx.deps;
  if (!metrics || !tenantGauges) return;
  try {
    for (const g of await tenantGauges(tenant)) metrics.set(g.name, g.value, g.labels);
  } catch (e) {
    ctx.log.warn("tenant-gauges-failed", { error: e instanceof Error ? e.message : String(e) });
  }
}
