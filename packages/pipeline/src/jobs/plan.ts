/**
 * plan: run the planner over a tenant's live blocks (one group or all) and enqueue one compact
 * job per independent plan and one downsample job per due downsampling.
 *
 * Before planning, blocks that another block covers (a compaction that ran twice, overlapping
 * plans) are marked for deletion: Thanos' deduplication rule, applied where Thanos' compactor
 * applies it, at sync time.
 *
 * Idempotency: marks are create-if-absent, and otherwise planning only reads. A duplicate plan
 * job enqueues duplicate work, which the compact and downsample jobs absorb (lease, then
 * "output already exists" checks). Re-planning is also how the pipeline recovers from anything
 * that changed under a job.
 */
import type { PlanJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue, markDeleted } from "./context.ts";
import { redundantBlocks } from "../blocks.ts";

export async function planAndEnqueue(ctx: JobContext, tenant: string, groupKey?: string): Promise<number> {
  const { index, engines } = ctx.deps;
  const all = await index.blocks(tenant);
  const inGroup0 = groupKey === undefined ? all : all.filter((b) => engines.groupKey(b.meta) === groupKey);
  // Garbage-collect first: a block another one covers must neither be planned nor kept.
  const redundant = redundantBlocks(inGroup0);
  for (const r of redundant) await markDeleted(ctx, { tenant, block: r.block.ulid }, `covered by ${r.coveredBy.ulid}`);
  const gone = new Set(redundant.map((r) => r.block.ulid));
  // Blocks marked for deletion are already covered by another block: never plan them again.
  const inGroup = inGroup0.filter((b) => b.deletionTime === undefined && !gone.has(b.meta.ulid));
  const outcome = await engines.plan(tenant, inGroup, groupKey, all);
  // The planner's own view of covered blocks (replica- and shard-aware): its covering block
  // is indexed (planning sees only indexed blocks), so marking is safe.
  const outdated = (outcome.outdated ?? []).filter((o) => !gone.has(o.block));
  for (const o of outdated) await markDeleted(ctx, { tenant, block: o.block }, `covered by ${o.coveredBy}`);
  const n = await enqueue(ctx, [
    ...outcome.compactions.map((c) => ({ type: "compact" as const, tenant, groupKey: c.groupKey, blocks: c.blocks, plan: c.plan })),
    ...outcome.downsamples.map((d) => ({ type: "downsample" as const, tenant, block: d.block, resolution: d.resolution })),
  ]);
  ctx.log.info("planned", {
    groupKey,
    blocks: inGroup.length,
    redundant: redundant.length + outdated.length,
    compactions: outcome.compactions.length,
    downsamples: outcome.downsamples.length,
  });
  return n;
}

export async function runPlan(ctx: JobContext, job: PlanJob): Promise<JobResult> {
  const enqueued = await planAndEnqueue(ctx, job.tenant, job.groupKey);
  return { status: "done", enqueued };
}
