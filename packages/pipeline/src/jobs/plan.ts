/**
 * plan: run the planner over a tenant's live blocks (one group or all) and enqueue one compact
 * job per independent plan and one downsample job per due downsampling.
 *
 * Before planning, blocks that another block covers (a compaction that ran twice, overlapping
 * plans) are marked for deletion: Thanos' deduplication rule, applied where Thanos' compactor
 * applies it, at sync time.
 *
 * Jobs over the job budget (STRATA_JOB_BUDGET / STRATA_JOB_MEMORY) that the planner could not
 * cut down come back refused: their blocks get a no-compact mark (reason
 * `strata-job-over-budget`, the planner's report as details: what the job needs and which
 * setting would let it run) and a `plan-refused` log line, and the group is planned again
 * with them excluded, so the rest of the window is compacted in the same round instead of a
 * job that cannot finish being retried forever.
 *
 * Idempotency: marks are create-if-absent, and otherwise planning only reads. A duplicate plan
 * job enqueues duplicate work, which the compact and downsample jobs absorb (lease, then
 * "output already exists" checks). Re-planning is also how the pipeline recovers from anything
 * that changed under a job.
 */
import type { NoCompactMark } from "@strata/tsdb";
import type { Plan } from "@strata/compact";
import type { PlanJob } from "../messages.ts";
import type { PlanOutcome } from "../ports.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue, markDeleted, tenantReplicaLabels } from "./context.ts";
import { jobLeaseName, redundantBlocks } from "../blocks.ts";
import { refuseBlocks } from "./admit.ts";

export async function planAndEnqueue(ctx: JobContext, tenant: string, groupKey?: string): Promise<number> {
  const { index, engines } = ctx.deps;
  const all = await index.blocks(tenant);
  const labels = await tenantReplicaLabels(ctx, tenant);
  const inGroup0 = groupKey === undefined ? all : all.filter((b) => engines.groupKey(b.meta, labels) === groupKey);
  // Garbage-collect first: a block another one covers must neither be planned nor kept.
  const redundant = redundantBlocks(inGroup0);
  await markDeleted(
    ctx,
    tenant,
    redundant.map((r) => ({ block: r.block.ulid, details: `covered by ${r.coveredBy.ulid}` })),
  );
  const gone = new Set(redundant.map((r) => r.block.ulid));
  // Blocks marked for deletion are already covered by another block: never plan them again.
  let inGroup = inGroup0.filter((b) => b.deletionTime === undefined && !gone.has(b.meta.ulid));
  let outcome = await engines.plan(tenant, inGroup, groupKey, all);
  // Over-budget jobs: mark their blocks no-compact, then plan again without them (a refusal
  // can only shrink what is planned, so a few rounds settle it; the next plan job does the rest).
  let refused = 0;
  for (let round = 0; round < 3 && outcome.refused?.length; round++) {
    const marked = await refuseOverBudget(ctx, tenant, outcome.refused);
    refused += outcome.refused.length;
    const withMark = <B extends { meta: { ulid: string }; noCompact?: NoCompactMark }>(b: B): B =>
      marked.has(b.meta.ulid) && !b.noCompact ? { ...b, noCompact: marked.get(b.meta.ulid) } : b;
    inGroup = inGroup.map(withMark);
    outcome = await engines.plan(tenant, inGroup, groupKey, all.map(withMark));
  }
  // The planner's own view of covered blocks (replica- and shard-aware): its covering block
  // is indexed (planning sees only indexed blocks), so marking is safe.
  const outdated = (outcome.outdated ?? []).filter((o) => !gone.has(o.block));
  await markDeleted(
    ctx,
    tenant,
    outdated.map((o) => ({ block: o.block, details: `covered by ${o.coveredBy}` })),
  );
  // Each upload re-plans its group; a plan already on the queue is not sent again (a note
  // beside its lease, cleared when the job starts, trusted for `queuedTtlMs` in case the
  // message was lost). The note is written after the send: a worker that dies between the
  // two leaves a duplicate message (absorbed by the lease), never a note for a message that
  // was not sent, which would hold the job back for the whole TTL.
  const { leases, config } = ctx.deps;
  const due = [
    ...outcome.compactions.map((c) => ({ type: "compact" as const, plan: planOf(tenant, c.plan) })),
    ...outcome.downsamples.map((d) => ({
      type: "downsample" as const,
      tenant,
      block: d.block,
      resolution: d.resolution,
    })),
  ];
  const fresh = [];
  for (const job of due) if (!(await leases.isQueued(tenant, jobLeaseName(job), config.queuedTtlMs))) fresh.push(job);
  const n = await enqueue(ctx, fresh);
  await Promise.all(fresh.map((job) => leases.noteQueued(tenant, jobLeaseName(job))));
  ctx.log.info("planned", {
    groupKey,
    blocks: inGroup.length,
    redundant: redundant.length + outdated.length,
    compactions: outcome.compactions.length,
    downsamples: outcome.downsamples.length,
    alreadyQueued: due.length - fresh.length,
    ...(refused ? { refused } : {}),
  });
  return n;
}

/** The plan as the compact job carries it: it names its tenant, which must be the one planned. */
function planOf(tenant: string, plan: Plan): Plan {
  if (plan.tenant !== tenant)
    throw new Error(
      `the planner returned plan ${plan.id} of tenant ${JSON.stringify(plan.tenant)} for tenant ${JSON.stringify(tenant)}`,
    );
  return plan;
}

/** The no-compact reason of a block whose compaction cannot fit the job budget. */
export const OVER_BUDGET_REASON = "strata-job-over-budget";

/**
 * Mark each refused job's blocks no-compact (create-if-absent) with the planner's report; returns the marks by block.
 */
/** Over-budget jobs' blocks get a no-compact mark and a report (`refuseBlocks`); returns the marks. */
async function refuseOverBudget(
  ctx: JobContext,
  tenant: string,
  refused: NonNullable<PlanOutcome["refused"]>,
): Promise<Map<string, NoCompactMark>> {
  const marks = new Map<string, NoCompactMark>();
  for (const r of refused) {
    const made = await refuseBlocks(ctx, tenant, r.blocks, OVER_BUDGET_REASON, r.reason, {
      fields: { groupKey: r.groupKey, setting: r.setting, estimate: r.estimate },
    });
    for (const [block, mark] of made) marks.set(block, mark);
  }
  return marks;
}

export async function runPlan(ctx: JobContext, job: PlanJob): Promise<JobResult> {
  const enqueued = await planAndEnqueue(ctx, job.tenant, job.groupKey);
  return { status: "done", enqueued };
}
