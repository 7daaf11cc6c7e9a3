/**
 * compact: run one plan under its lease, index the output, then mark the inputs for deletion.
 * The output's own upload event (its meta.json) verifies and indexes it again and re-plans its
 * group, which is how the next level happens without any polling.
 *
 * Idempotency (at-least-once delivery, retries after a crash at any step, duplicate plans):
 *  - Two workers on one plan: the lease (keyed by the plan's id, which names its inputs and
 *    output) admits one; the other re-sends its job with a delay (`deferJob`), and that copy
 *    finds the output made (or, if the holder died, an expired lease: a live holder renews it).
 *  - Crash after the output was uploaded: the retry finds a live block whose sources include
 *    every input's sources ("covering" block) and skips straight to the deletion marks, so
 *    no second output is written and no sample is lost (the inputs stay until marked).
 *  - Split plans (Mimir's split stage) write one block per shard, each live once its
 *    meta.json lands: a retry looks for each shard's covering block and compacts only the
 *    shards still missing; the inputs are marked once every shard is uploaded and indexed.
 *  - Crash mid-upload: the output has no meta.json, so it is not live; the retry compacts
 *    again under a new ULID and the cleanup job removes the partial directory later.
 *  - Inputs changed since planning (one deleted or marked, none covering): the plan is stale;
 *    re-plan the group instead of compacting a subset.
 *  - Two overlapping plans that both ran (lease expired, or successive plannings): the larger
 *    output covers the smaller one, which the next planning marks like any covered block.
 *  - Marks are create-if-absent and index updates idempotent, so repeating them converges.
 */
import { exactOutputLabels } from "@strata/compact";
import { findCoveringBlock, jobLeaseName, shardOutputTarget } from "../blocks.ts";
import type { BlockMeta } from "@strata/tsdb";
import type { CompactJob } from "../messages.ts";
import type { JobIo } from "../metrics.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue, markDeleted, measureIo, stopSignal, tenantReplicaLabels, withLease } from "./context.ts";
import {
  JOB_FAILED_REASON,
  OutputRejectedError,
  logIndexed,
  outputCheck,
  refuseBlocks,
  refuseInputs,
} from "./admit.ts";

export async function runCompact(ctx: JobContext, job: CompactJob): Promise<JobResult> {
  const { plan } = job;
  const leased = {
    describe: `compact ${plan.kind} ${plan.inputs.join(",")}`,
    blocks: plan.inputs,
    refuse: async (details: string) =>
      void (await refuseBlocks(ctx, plan.tenant, plan.inputs, JOB_FAILED_REASON, details)),
  };
  return withLease(ctx, job, jobLeaseName(job), leased, () => compactUnderLease(ctx, job));
}

async function compactUnderLease(ctx: JobContext, job: CompactJob): Promise<JobResult> {
  const { engines, index } = ctx.deps;
  const { plan } = job;
  const tenant = plan.tenant;
  const live = await index.blocks(tenant);
  const byId = new Map(live.map((b) => [b.meta.ulid, b]));
  const inputs = plan.inputs.map((id) => byId.get(id));
  const present = inputs.filter((b) => b !== undefined);
  const presentMetas = present.map((b) => b.meta);

  // One expected output, or one per shard of a split; each may already exist from an
  // earlier attempt that crashed before the deletion marks.
  const shardCount = plan.shardCount;
  const targets =
    shardCount === undefined || presentMetas.length === 0
      ? [presentMetas[0]]
      : Array.from({ length: shardCount }, (_, i) => shardOutputTarget(presentMetas[0]!, i, shardCount));
  // The tenant's replica labels (its overrides) decide which blocks are one group, as its plans did.
  const labels = await tenantReplicaLabels(ctx, job.plan.tenant);
  const sameGroup = labels
    ? (a: BlockMeta, b: BlockMeta) => engines.groupKey(a, labels) === engines.groupKey(b, labels)
    : engines.sameGroup?.bind(engines);
  const found = targets.map((t) => findCoveringBlock(live, presentMetas, sameGroup, t));
  const outputs = found.filter((m) => m !== undefined);
  const missing = found.flatMap((m, i) => (m === undefined ? [i] : []));
  if (outputs.length > 0) {
    const split = shardCount === undefined ? {} : { outputs: outputs.map((o) => o.ulid), missingShards: missing };
    ctx.log.info("compact-output-exists", { output: outputs[0]!.ulid, ...split });
  }
  // A single-output plan is done once its output exists. A split's shards that got no
  // series have no output, so a retry recomputes those (writing nothing) and moves on.
  let io: JobIo | undefined;
  let written: BlockMeta[] = [];
  if (missing.length > 0 && (shardCount !== undefined || outputs.length === 0)) {
    if (present.length !== inputs.length || present.some((b) => b.deletionTime !== undefined)) {
      const enqueued = await enqueue(ctx, [{ type: "plan", tenant, groupKey: plan.groupKey }]);
      return { status: "skipped", reason: "inputs changed since planning; re-planning the group", enqueued };
    }
    ctx.log.info("compaction-started", {
      inputs: plan.inputs,
      plan: plan.id,
      shards: shardCount === undefined ? undefined : missing,
    });
    // A plan from a version-1 message may name `<replica>="deduped"` for inputs without
    // labels; the output keeps none, as it always did (a no-op for plans made now).
    const exact = { ...job, plan: { ...plan, labels: exactOutputLabels(plan.labels, presentMetas) } };
    try {
      // Each output is verified by the upload checks before its meta.json lands (outputCheck).
      written = await engines.compact(tenant, exact, {
        shards: shardCount === undefined || outputs.length === 0 ? undefined : missing,
        check: outputCheck(ctx),
        signal: stopSignal(ctx),
      });
    } catch (e) {
      if (!(e instanceof OutputRejectedError)) throw e;
      // The broken output was abandoned; the inputs stay live and indexed, and are not planned again.
      await refuseInputs(
        ctx,
        tenant,
        present.map((b) => b.meta.ulid),
        e,
      );
      return { status: "quarantined", reason: e.message };
    }
    ctx.log.info("compacted", {
      output: written[0]?.ulid ?? null,
      outputs: shardCount === undefined ? undefined : written.map((o) => o.ulid),
      inputs: plan.inputs.length,
    });
    outputs.push(...written);
    io = await measureIo(ctx, tenant, presentMetas, written);
  }

  // The outputs (verified before their meta.json landed) are indexed and the inputs marked in
  // one index update, so the index never shows an input marked without its output. Inputs
  // already marked in the index are passed again: a retry after a crash between that update
  // and the bucket marks writes the bucket marks it missed.
  const details =
    outputs.length > 0
      ? `compacted into ${outputs.map((o) => o.ulid).join(", ")}`
      : "compacted to nothing (every sample deleted)";
  await markDeleted(
    ctx,
    tenant,
    present.map((b) => ({ block: b.meta.ulid, details })),
    { add: written },
  );
  for (const o of written) logIndexed(ctx, o);
  return io ? { status: "done", io } : { status: "done" };
}
