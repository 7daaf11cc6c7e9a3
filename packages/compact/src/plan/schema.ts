/**
 * A compaction plan: one job's worth of work, self-contained so it can travel in an SQS
 * message and be executed by a worker that knows nothing of the rest of the bucket.
 */
import { z } from "zod";
import { isUlid } from "@strata/tsdb";

export const PLAN_KINDS = ["vertical", "split", "merge", "tombstones"] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

const Ulid = z.string().refine(isUlid, { message: "not a ULID" });
const ShardId = z.string().regex(/^[1-9][0-9]*_of_[1-9][0-9]*$/, { message: 'expected "<i>_of_<n>"' });

const Count = z.number().nonnegative();
export const JobEstimateSchema = z.object({
  /** Wall-clock seconds of the whole job. */
  seconds: Count,
  /** The part of `seconds` spent moving bytes to and from the store. */
  transferSeconds: Count,
  /** Peak memory of the job's own work, above the runtime. */
  peakBytes: Count,
  readBytes: Count,
  writeBytes: Count,
  series: Count,
  samples: Count,
  chunks: Count,
});

export const PlanSchema = z
  .object({
    /**
     * `planId(plan)` (plan/id.ts): names the output and the input set, so the same blocks
     * always plan the same id and a redelivered or re-sent job shares its lease.
     */
    id: z.string().min(1),
    tenant: z.string(),
    /** Thanos group key `"<resolution>@<labels hash>"`. */
    groupKey: z.string().regex(/^[0-9]+@[0-9]+$/, { message: 'expected "<resolution>@<hash>"' }),
    /**
     * vertical: overlapping blocks merged (deduplicated); merge: adjacent blocks of one
     * range window; split: inputs merged and their series spread over `shardCount`
     * outputs by label hash; tombstones: one block rewritten to apply its deletions.
     */
    kind: z.enum(PLAN_KINDS),
    /** [minTime, maxTime) of the output: min and max of the inputs. */
    window: z.object({ minTime: z.int(), maxTime: z.int() }),
    /** The target range (ms) whose aligned window this plan fills; for vertical plans the smallest target. */
    range: z.int().positive(),
    /** Output compaction level: max input level + 1. */
    level: z.int().min(1),
    /** Input ULIDs, by minTime then ULID. */
    inputs: z.array(Ulid).min(1),
    /** Whether inputs overlap in time (the merge must deduplicate). */
    overlapping: z.boolean(),
    /**
     * Output external labels, without replica labels and without the shard label (the
     * executor adds `shardId`, or each split output's own), exactly as the output carries
     * them: `{}` when the inputs have no external labels.
     */
    labels: z.record(z.string(), z.string()),
    resolution: z.int().min(0),
    /** split: number of output shards; outputs get `__compactor_shard_id__="<i+1>_of_<shardCount>"`. */
    shardCount: z.int().min(1).optional(),
    /** split: which of the window's split groups (Mimir `-compactor.split-groups`) this job takes. */
    splitGroup: ShardId.optional(),
    /** merge of sharded blocks: the shard they (and the output) carry. */
    shardId: ShardId.optional(),
    /** Worst-case output index size (sum of the inputs' index sizes), when known. */
    estimatedIndexBytes: z.number().nonnegative().optional(),
    /** The cost model's estimate of the job (packages/compact/src/cost), from the inputs' metas. */
    estimate: JobEstimateSchema.optional(),
    /** Why the planner chose this work, for people reading `strata plan`. */
    reason: z.string(),
  })
  .refine((p) => p.window.maxTime > p.window.minTime, {
    message: "window.maxTime must exceed window.minTime",
    path: ["window"],
  })
  .refine((p) => (p.kind === "split") === (p.shardCount !== undefined), {
    message: "shardCount is required for split plans and only for them",
    path: ["shardCount"],
  })
  .refine((p) => p.kind === "tombstones" || p.kind === "split" || p.inputs.length >= 2, {
    message: "merge and vertical plans need two or more inputs",
    path: ["inputs"],
  });

export type Plan = z.output<typeof PlanSchema>;

/** A job the planner refused as over the job budget (see plan/budget-guard.ts). */
export interface RefusedPlan {
  tenant: string;
  groupKey: string;
  kind: PlanKind;
  /** The blocks to mark no-compact. */
  blocks: string[];
  /** The report: what the job needs, against which budget, and which setting would let it run. */
  reason: string;
  estimate: z.output<typeof JobEstimateSchema>;
  /** `NAME=value`: the setting that would let it run. */
  setting: string;
}

/** A block the planner left out, and why. */
export interface SkippedBlock {
  ulid: string;
  reason: string;
}
