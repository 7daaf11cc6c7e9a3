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
  status: "done" | "skipped" | "quarantined";
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

/**
 * Another worker holds the lease. The record fails (and is retried after the visibility
 * timeout) rather than being acknowledged: with duplicate delivery the holder may be running
 * from a copy of this very message, and if it dies, acknowledging here would lose the plan.
 * On the retry the lease (TTL < visibility timeout) has expired or the output exists.
 */
export class LeaseBusyError extends Error {
  override name = "LeaseBusyError";
}

/** Run `fn` under the tenant's lease `name`; throws LeaseBusyError when another worker holds it. */
export async function withLease<T>(ctx: JobContext, tenant: string, name: string, fn: () => Promise<T>): Promise<T> {
  const lease: Lease | undefined = await ctx.deps.leases.acquire(tenant, name, ctx.deps.config.leaseTtlMs);
  if (!lease) throw new LeaseBusyError(`lease ${name} of tenant ${JSON.stringify(tenant)} is held by another worker; retry after the visibility timeout`);
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
