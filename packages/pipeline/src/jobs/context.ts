/** What every job handler receives and returns, and the steps several of them share. */
import { MARKER_VERSION_1, type DeletionMark } from "@strata/tsdb";
import type { Job } from "../messages.ts";
import { JOB_MESSAGE_VERSION } from "../messages.ts";
import type { BlockRef, Lease, Logger, WorkerDeps } from "../ports.ts";

export interface JobContext {
  deps: WorkerDeps;
  /** Bound to the job's id, type and tenant (and block, where there is one). */
  log: Logger;
  jobId: string;
}

export interface JobResult {
  /** `deferred`: re-sent with a delay (it cannot run yet); not a failure. */
  status: "done" | "skipped" | "quarantined" | "deferred";
  /** Why a job was skipped or quarantined, for the log line. */
  reason?: string;
  /** Follow-up jobs sent to the queue. */
  enqueued?: number;
}

/** Distributes Omit over the job union, so `{type: "plan", tenant}` type-checks as a PlanJob. */
type WithoutVersion<T> = T extends unknown ? Omit<T, "version"> : never;

/** Send follow-up jobs (version stamped here, validated by the queue adapter). */
export async function enqueue(ctx: JobContext, jobs: readonly WithoutVersion<Job>[]): Promise<number> {
  for (const j of jobs) await ctx.deps.queue.send({ ...j, version: JOB_MESSAGE_VERSION } as Job);
  return jobs.length;
}

/** A job that may be re-sent with a delay. */
type RetryableJob = Extract<Job, { type: "verify" | "compact" | "downsample" }>;

/**
 * A job that cannot run yet (an upload still in progress, a lease another worker holds) is
 * sent again with an SQS delay that doubles from `retryDelay.baseMs` to `maxMs`, and this
 * message is acknowledged: nothing failed, so nothing is counted or logged as a failure, and
 * the visibility timeout stays the backstop for crashes. After `attempts` re-sends the job is
 * dropped with a warning: the scheduled re-sync finds the block or the plan again.
 */
export async function deferJob(ctx: JobContext, job: RetryableJob, why: string): Promise<JobResult> {
  const { baseMs, maxMs, attempts } = ctx.deps.config.retryDelay;
  const n = job.retry ?? 0;
  if (n >= attempts) {
    ctx.log.warn("job-retries-exhausted", { reason: why, retries: n });
    return { status: "skipped", reason: `${why}; gave up after ${n} delayed retries (the scheduled re-sync will find it again)` };
  }
  const delaySeconds = Math.min(900, Math.ceil(Math.min(maxMs, baseMs * 2 ** n) / 1000));
  await ctx.deps.queue.send({ ...job, version: JOB_MESSAGE_VERSION, retry: n + 1 }, { delaySeconds });
  return { status: "deferred", reason: `${why}; again in ${delaySeconds} s`, enqueued: 1 };
}

/**
 * Run `fn` under the tenant's lease `name`. When another worker holds it, the job is re-sent
 * with a delay (`deferJob`) rather than failed: with duplicate delivery the holder may be
 * running from a copy of this very message, so the copy sent here keeps the plan alive if
 * the holder dies; a later copy finds the output made, or the lease expired.
 */
export async function withLease(ctx: JobContext, job: RetryableJob, name: string, fn: () => Promise<JobResult>): Promise<JobResult> {
  const tenant = job.tenant;
  const lease: Lease | undefined = await ctx.deps.leases.acquire(tenant, name, ctx.deps.config.leaseTtlMs);
  if (!lease) return deferJob(ctx, job, `lease ${name} is held by another worker`);
  try {
    return await fn();
  } finally {
    // A failed release only delays the next taker until the TTL; never mask fn's error with it.
    await lease.release().catch((e: unknown) => ctx.log.warn("lease-release-failed", { lease: name, error: String(e) }));
  }
}

/**
 * Mark a block for deletion and record it in the index. Both steps are idempotent (the mark is
 * create-if-absent, so its time is the first attempt's), and the mark is written before the
 * index so the index never claims a mark the bucket lacks.
 */
export async function markDeleted(ctx: JobContext, ref: BlockRef, details: string): Promise<void> {
  const now = Math.floor(ctx.deps.clock.now() / 1000);
  const mark: DeletionMark = { id: ref.block, version: MARKER_VERSION_1, details, deletion_time: now };
  await ctx.deps.storage.markForDeletion(ref, mark);
  const stored = (await ctx.deps.storage.readMarkers(ref)).deletion;
  await ctx.deps.index.markDeleted(ref.tenant, ref.block, stored?.deletion_time ?? now);
  ctx.log.info("marked-for-deletion", { block: ref.block, details: stored?.details ?? details });
}
