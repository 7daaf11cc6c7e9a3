/**
 * retention: mark the tenant's blocks past their resolution's retention for deletion (the
 * cleanup job deletes them after the delete delay). Without a tenant, fan out one job per tenant.
 *
 * Idempotency: expiry is a pure function of (block, now, settings) and only ever grows; blocks
 * already marked are skipped and marks are create-if-absent.
 */
import { retentionVerdicts } from "../blocks.ts";
import type { RetentionJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue, markDeleted } from "./context.ts";

export async function runRetention(ctx: JobContext, job: RetentionJob): Promise<JobResult> {
  if (job.tenant === undefined) {
    const tenants = await ctx.deps.storage.listTenants();
    return {
      status: "done",
      enqueued: await enqueue(
        ctx,
        tenants.map((tenant) => ({ type: "retention" as const, tenant })),
      ),
    };
  }
  const tenant = job.tenant;
  const { index, clock, config } = ctx.deps;
  // The tenant's retention with its overrides (strata-overrides.json), else the global one.
  const retention = (await ctx.deps.tenantSettings?.(tenant))?.retention ?? config.retention;
  const { expired, held } = retentionVerdicts(
    await index.blocks(tenant),
    clock.now(),
    retention,
    config.retentionRequiresDownsampled,
  );
  // One index update for the whole batch.
  await markDeleted(
    ctx,
    tenant,
    expired.map((meta) => ({ block: meta.ulid, details: "retention" })),
  );
  if (expired.length > 0) ctx.log.info("retention-marked", { blocks: expired.map((m) => m.ulid) });
  if (held.length > 0)
    ctx.log.info("retention-held", { blocks: held.map((h) => ({ block: h.block.ulid, reason: h.reason })) });
  return { status: "done" };
}
