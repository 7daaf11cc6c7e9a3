/** What every job handler receives and returns, and the steps several of them share. */
import { MARKER_VERSION_1, mapLimit, type BlockMeta, type DeletionMark } from "@strata/tsdb";
import { PipelineError } from "../errors.ts";
import { jobIo, type JobIo } from "../metrics.ts";
import type { Job } from "../messages.ts";
import { jobTenant, jobVersion } from "../messages.ts";
import { sendJobs } from "../send-jobs.ts";
import type { AttemptRecord, Lease, Logger, WorkerDeps } from "../ports.ts";

export interface JobContext {
  deps: WorkerDeps;
  /** Bound to the job's id, type and tenant (and block, where there is one). */
  log: Logger;
  jobId: string;
  /** When the invocation will be killed (wall-clock ms since the epoch; Lambda's remaining time). */
  deadline?: number;
}

/** The job ran out of time and stopped itself (its partial output deleted). */
export class JobOutOfTimeError extends PipelineError {
  override readonly name = "JobOutOfTimeError";
}

/**
 * A signal that fires `stopMarginMs` before the invocation's deadline, so a writing engine
 * stops and deletes its partial output while there is time to; never fires without a deadline.
 */
export function stopSignal(ctx: JobContext): AbortSignal | undefined {
  if (ctx.deadline === undefined) return undefined;
  const margin = ctx.deps.config.stopMarginMs;
  const left = ctx.deadline - Date.now() - margin;
  const c = new AbortController();
  const fire = () =>
    c.abort(
      new JobOutOfTimeError(
        `stopped with ${Math.round(margin / 1000)} s of the invocation left (out of time); its partial output was deleted`,
      ),
    );
  if (left <= 0) fire();
  else setTimeout(fire, left).unref();
  return c.signal;
}

export interface JobResult {
  /** `deferred`: re-sent with a delay (it cannot run yet); not a failure. */
  status: "done" | "skipped" | "quarantined" | "deferred";
  /** Why a job was skipped or quarantined, for the log line. */
  reason?: string;
  /** Follow-up jobs sent to the queue. */
  enqueued?: number;
  /** What the job's engine read and wrote (compactions and downsamplings that wrote blocks). */
  io?: JobIo;
}

/** Distributes Omit over the job union, so `{type: "plan", tenant}` type-checks as a PlanJob. */
type WithoutVersion<T> = T extends unknown ? Omit<T, "version"> : never;

/** Send follow-up jobs (version stamped here, validated by the queue adapter). */
export async function enqueue(ctx: JobContext, jobs: readonly WithoutVersion<Job>[]): Promise<number> {
  // Batched (SendMessageBatch of 10, a few in flight): a plan's compactions, a re-sync's
  // verifications or a fan-out over every tenant is one call per ten jobs, not one per job.
  const { sent } = await sendJobs(
    ctx.deps.queue,
    jobs.map((j) => ({ ...j, version: jobVersion(j.type) }) as Job),
  );
  return sent;
}

/** A job that may be re-sent with a delay. */
type RetryableJob = Extract<Job, { type: "verify" | "compact" | "downsample" | "convert" }>;

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
    return {
      status: "skipped",
      reason: `${why}; gave up after ${n} delayed retries (the scheduled re-sync will find it again)`,
    };
  }
  const delaySeconds = Math.min(900, Math.ceil(Math.min(maxMs, baseMs * 2 ** n) / 1000));
  await ctx.deps.queue.send({ ...job, retry: n + 1 }, { delaySeconds });
  return { status: "deferred", reason: `${why}; again in ${delaySeconds} s`, enqueued: 1 };
}

/** What a leased job is, for its attempt record, and what to do when it has failed too often. */
export interface LeasedJob {
  /** e.g. "compact 01J…,01J…" */
  describe: string;
  blocks: string[];
  /** Mark the inputs so the job is no longer planned (no-compact / no-downsample), with `details`. */
  refuse(details: string): Promise<void>;
}

/**
 * Run `fn` under the tenant's lease `name`, counting its attempts (a record beside the lease,
 * written before the work, so a killed or timed-out attempt counts too). Once
 * `maxJobAttempts` have started without success the job is refused instead of run again:
 * `leased.refuse` marks its inputs with the collected errors, and it stops being planned.
 *
 * When another worker holds the lease, the job is re-sent with a delay (`deferJob`) rather
 * than failed: with duplicate delivery the holder may be running from a copy of this very
 * message, so the copy sent here keeps the plan alive if the holder dies; a later copy finds
 * the output made, or the lease expired.
 */
export async function withLease(
  ctx: JobContext,
  job: RetryableJob,
  name: string,
  leased: LeasedJob,
  fn: () => Promise<JobResult>,
): Promise<JobResult> {
  const tenant = jobTenant(job);
  const { leases, clock, config } = ctx.deps;
  const lease: Lease | undefined = await leases.acquire(tenant, name, config.leaseTtlMs);
  if (!lease) return deferJob(ctx, job, `lease ${name} is held by another worker`);
  // Renewed every third of its TTL while the job runs: a live holder never loses it to a
  // copy of its own message, however long the job; a dead one stops renewing and it expires.
  let renewing: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(
    () => {
      renewing = (lease.renew?.() ?? Promise.resolve(true)).then(
        (held) => held || ctx.log.warn("lease-lost", { lease: name }),
        (e: unknown) => ctx.log.warn("lease-renew-failed", { lease: name, error: String(e) }),
      );
    },
    Math.max(100, Math.floor(config.leaseTtlMs / 3)),
  );
  heartbeat.unref();
  try {
    // Started: a planning from now on may queue the job again (it finds the output, or runs it).
    await leases.clearQueued(tenant, name);
    const now = Math.floor(clock.now() / 1000);
    const prev = await leases.readAttempts(tenant, name);
    if (prev && prev.attempts >= config.maxJobAttempts) {
      const details = `${prev.attempts} attempts failed: ${attemptErrors(prev).join("; ")}`;
      await leased.refuse(details);
      await leases.writeAttempts(tenant, name, undefined);
      ctx.log.error("job-refused", { blocks: leased.blocks, attempts: prev.attempts, errors: attemptErrors(prev) });
      return { status: "quarantined", reason: `refused after ${details}` };
    }
    const record = {
      version: 1 as const,
      attempts: (prev?.attempts ?? 0) + 1,
      errors: prev?.errors ?? [],
      job: leased.describe,
      blocks: leased.blocks,
      first_time: prev?.first_time ?? now,
      last_time: now,
    };
    await leases.writeAttempts(tenant, name, record);
    let result: JobResult;
    try {
      result = await fn();
    } catch (e) {
      const msg = `attempt ${record.attempts}: ${e instanceof Error ? e.message : String(e)}`.slice(0, 2000);
      await leases
        .writeAttempts(tenant, name, { ...record, errors: [...record.errors, msg].slice(-10) })
        .catch(() => undefined);
      throw e;
    }
    await leases.writeAttempts(tenant, name, undefined);
    return result;
  } finally {
    clearInterval(heartbeat);
    await renewing; // release with the ETag of the last renewal
    // A failed release only delays the next taker until the TTL; never mask fn's error with it.
    await lease
      .release()
      .catch((e: unknown) => ctx.log.warn("lease-release-failed", { lease: name, error: String(e) }));
  }
}

/**
 * Mark blocks for deletion with one index update, together with `add` (a compaction's
 * outputs: the index never shows inputs marked without the outputs that replace them). A
 * block's existing bucket mark keeps its time (read first), so the index and the bucket
 * agree; the bucket marks are written after the index (create-if-absent). A crash between
 * the two leaves index marks without bucket marks, and nothing is deleted meanwhile (cleanup
 * works from the bucket's marks). A compaction's retry whose outputs exist writes them; where
 * a retry skips blocks the index already marks (retention, a split whose shards were all
 * empty), the hourly re-sync drops the index-only marks and the blocks are marked anew:
 * deletion waits an hour or two, and nothing is lost.
 */
export async function markDeleted(
  ctx: JobContext,
  tenant: string,
  marks: readonly { block: string; details: string }[],
  opts: { add?: readonly BlockMeta[] } = {},
): Promise<void> {
  if (marks.length === 0 && !opts.add?.length) return;
  const { storage, index, clock } = ctx.deps;
  const now = Math.floor(clock.now() / 1000);
  const stored = await mapLimit(
    marks,
    MARK_CONCURRENCY,
    async (m) => (await storage.readMarkers({ tenant, ...m })).deletion,
  );
  await index.apply(tenant, {
    add: opts.add,
    markDeleted: marks.map((m, i) => ({ block: m.block, deletionTime: stored[i]?.deletion_time ?? now })),
  });
  await mapLimit(marks, MARK_CONCURRENCY, async (m) => {
    const mark: DeletionMark = { id: m.block, version: MARKER_VERSION_1, details: m.details, deletion_time: now };
    await storage.markForDeletion({ tenant, block: m.block }, mark);
  });
  for (const [i, m] of marks.entries())
    ctx.log.info("marked-for-deletion", { block: m.block, details: stored[i]?.details ?? m.details });
}

/**
 * A compaction's or downsampling's IO for its metrics (`jobIo`); the blocks whose meta.json
 * lists no file sizes are measured by a listing of their files. Best effort: a failed
 * listing counts 0 bytes, never fails the job.
 */
export async function measureIo(
  ctx: JobContext,
  tenant: string,
  inputs: readonly BlockMeta[],
  outputs: readonly BlockMeta[],
): Promise<JobIo> {
  const listed = new Map<string, number>();
  const unsized = [...inputs, ...outputs].filter((m) => !m.thanos?.files?.length);
  await mapLimit(unsized, MARK_CONCURRENCY, async (m) => {
    const files = await ctx.deps.storage.listBlockData({ tenant, block: m.ulid }).catch(() => []);
    listed.set(
      m.ulid,
      files.reduce((n, f) => n + f.size, 0),
    );
  });
  return jobIo(inputs, outputs, listed);
}

/** Marker reads and writes in flight at once for a batch. */
const MARK_CONCURRENCY = 16;

/** One line per attempt: its error, or that it left none (killed, or out of time). */
function attemptErrors(r: AttemptRecord): string[] {
  const out: string[] = [];
  for (let i = 1; i <= r.attempts; i++)
    out.push(
      r.errors.find((e) => e.startsWith(`attempt ${i}: `)) ?? `attempt ${i}: no error recorded (killed or out of time)`,
    );
  return out;
}

/** The tenant's replica labels with its overrides; undefined: the engines' global ones. */
export async function tenantReplicaLabels(ctx: JobContext, tenant: string): Promise<readonly string[] | undefined> {
  return (await ctx.deps.tenantSettings?.(tenant))?.replicaLabels;
}

/** A block's compaction group as the tenant's plans see it (its replica labels with its overrides). */
export async function tenantGroupKey(ctx: JobContext, tenant: string, meta: BlockMeta): Promise<string> {
  return ctx.deps.engines.groupKey(meta, await tenantReplicaLabels(ctx, tenant));
}
