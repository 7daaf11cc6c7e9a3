/**
 * index-sync: rebuild the tenant's bucket index from a listing, then re-plan the whole tenant.
 * Together they repair anything an event missed (S3 notifications are at-least-once, but a
 * misconfigured or paused notification can drop uploads entirely).
 *
 * Idempotency: a rebuild is a function of the bucket's contents; re-planning enqueues only
 * work the compact and downsample jobs deduplicate.
 */
import type { IndexSyncJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue } from "./context.ts";

export async function runIndexSync(ctx: JobContext, job: IndexSyncJob): Promise<JobResult> {
  await ctx.deps.index.rebuild(job.tenant);
  const enqueued = await enqueue(ctx, [{ type: "plan", tenant: job.tenant }]);
  return { status: "done", enqueued };
}
