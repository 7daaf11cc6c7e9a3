/**
 * What `executePlan` relies on, checked before anything is written: the plan is one the
 * planner could have made (PlanSchema, distinct inputs, a sane shard count), the sources are
 * its inputs in its order, and the inputs' metas agree with what the plan says about them
 * (resolution, external labels, shard, window, level). The output's meta.json is built from
 * the plan, so a plan its inputs contradict would write a block that lies about its data.
 */
import type { BlockMeta } from "@strata/tsdb";
import { removeReplicaLabels } from "../group/group.ts";
import { COMPACTOR_SHARD_ID_LABEL } from "../shard/shard.ts";
import { PlanSchema, type Plan } from "../plan/schema.ts";
import { CompactionError } from "./run.ts";

/**
 * More outputs than this is no plan the planner makes (Mimir's shard counts are in the tens):
 * each output holds its own writer buffers, so a corrupt or hand-made shard count of
 * thousands would exhaust the worker instead of compacting.
 */
export const MAX_PLAN_SHARDS = 1024;

/** The plan and the I/O it is given, before any input is opened. */
export function checkPlan(plan: Plan, sources: number, shards: readonly number[] | undefined): void {
  const parsed = PlanSchema.safeParse(plan);
  const name = `plan ${typeof plan?.id === "string" ? plan.id : JSON.stringify(plan?.id)}`;
  if (!parsed.success) {
    throw new CompactionError(
      `${name}: not a valid plan: ${parsed.error.issues.map((i) => `${i.path.join(".") || "plan"}: ${i.message}`).join("; ")}`,
    );
  }
  const dup = plan.inputs.find((u, i) => plan.inputs.indexOf(u) !== i);
  if (dup !== undefined) throw new CompactionError(`${name}: block ${dup} is an input twice`);
  if (sources !== plan.inputs.length)
    throw new CompactionError(`${name}: ${sources} block source(s) given for its ${plan.inputs.length} input(s)`);
  const count = plan.shardCount;
  if (count !== undefined && count > MAX_PLAN_SHARDS)
    throw new CompactionError(`${name}: ${count} shards, more than the ${MAX_PLAN_SHARDS} a plan may have`);
  if (shards !== undefined) {
    if (count === undefined)
      throw new CompactionError(`${name}: only some shards asked for, but it is a ${plan.kind} plan, not a split`);
    const bad = shards.find((s) => !Number.isInteger(s) || s < 0 || s >= count);
    if (bad !== undefined)
      throw new CompactionError(`${name}: shard ${bad} asked for, but its outputs are 0..${count - 1}`);
  }
}

/** The opened inputs' metas against the plan; `replicaLabels` are the ones the plan was made with. */
export function checkPlanInputs(plan: Plan, metas: readonly BlockMeta[], replicaLabels: readonly string[]): void {
  const name = `plan ${plan.id}`;
  const want = canonical(plan.labels, replicaLabels);
  const shardIsReplica = replicaLabels.includes(COMPACTOR_SHARD_ID_LABEL);
  metas.forEach((m, i) => {
    if (m.ulid !== plan.inputs[i])
      throw new CompactionError(
        `${name}: input ${i + 1} opened as block ${m.ulid}, but the plan names ${plan.inputs[i]} there (sources must follow plan.inputs)`,
      );
    const res = m.thanos?.downsample?.resolution ?? 0;
    if (res !== plan.resolution)
      throw new CompactionError(
        `${name}: block ${m.ulid} is at resolution ${res} ms, the plan at ${plan.resolution} ms`,
      );
    const have = canonical(m.thanos?.labels ?? {}, replicaLabels);
    if (have !== want) {
      throw new CompactionError(
        `${name}: block ${m.ulid}'s external labels ${have} are not the plan's ${want} once replica labels [${replicaLabels.join(", ")}] are removed (was it planned with other replica labels?)`,
      );
    }
    const shard = shardIsReplica ? "" : (m.thanos?.labels?.[COMPACTOR_SHARD_ID_LABEL] ?? "");
    const planned = plan.kind === "split" ? "" : (plan.shardId ?? "");
    if (shard !== planned) {
      const what = (s: string) => (s ? `shard ${s}` : "no shard");
      throw new CompactionError(
        `${name}: block ${m.ulid} carries ${what(shard)}, but the ${plan.kind} plan's inputs carry ${what(planned)}`,
      );
    }
    if (m.minTime < plan.window.minTime || m.maxTime > plan.window.maxTime) {
      throw new CompactionError(
        `${name}: block ${m.ulid} spans [${m.minTime}, ${m.maxTime}), outside the plan's window [${plan.window.minTime}, ${plan.window.maxTime})`,
      );
    }
    if (m.compaction.level >= plan.level)
      throw new CompactionError(
        `${name}: block ${m.ulid} is at level ${m.compaction.level}, not below the plan's output level ${plan.level}`,
      );
  });
}

/** Labels as grouping compares them (replica labels removed as Thanos does, no shard label), as text. */
function canonical(labels: Readonly<Record<string, string>>, replicaLabels: readonly string[]): string {
  const l = removeReplicaLabels(labels, replicaLabels);
  delete l[COMPACTOR_SHARD_ID_LABEL];
  const names = Object.keys(l).sort();
  return `{${names.map((n) => `${n}=${JSON.stringify(l[n])}`).join(", ")}}`;
}
