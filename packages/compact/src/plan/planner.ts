/**
 * The planner: groups in, plans out, no I/O. Per group: deletion-marked blocks are left
 * alone, outdated blocks (sources covered by other blocks) are reported for deletion and
 * not planned, then the group is planned leveled (Thanos) or split-and-merge (Mimir), and
 * every plan passes the large-index guard.
 */
import { compareStrings } from "@strata/tsdb";
import { parseShardId } from "../shard/shard.ts";
import { groupBlocks, type BlockMetaWithMarks, type Group, type GroupBlock } from "../group/group.ts";
import { findOutdated, type OutdatedBlock } from "../group/outdated.ts";
import type { Draft } from "./draft.ts";
import { planId } from "./id.ts";
import { exactOutputLabels } from "./labels.ts";
import { estimateIndexBytes, guardIndexSize } from "./index-guard.ts";
import { guardBudget } from "./budget-guard.ts";
import type { JobEstimate } from "../cost/model.ts";
import { planLeveled } from "./leveled.ts";
import { resolveOptions, type PlannerOptions, type ResolvedOptions } from "./options.ts";
import type { Plan, PlanKind, RefusedPlan, SkippedBlock } from "./schema.ts";
import { planSplitMerge } from "./split-merge.ts";
import { anyOverlap, maxLevel, spanOf } from "./windows.ts";

export interface GroupPlan {
  plans: Plan[];
  /** Blocks whose sources other blocks cover: to be marked for deletion. */
  outdated: OutdatedBlock[];
  skipped: SkippedBlock[];
  /** Jobs over the job budget that cannot be cut down: their blocks are to be marked no-compact. */
  refused: RefusedPlan[];
  /** How the group was planned. */
  mode: "leveled" | "split-merge";
}

export interface PlanAllResult {
  groups: (GroupPlan & { group: Group })[];
  /** Every plan of every group, in group order. */
  plans: Plan[];
  /** Every refused job of every group, in group order. */
  refused: RefusedPlan[];
}

const KIND_ORDER: Record<PlanKind, number> = { vertical: 0, split: 1, merge: 2, tombstones: 3 };

function isResolved(o: PlannerOptions | ResolvedOptions | undefined): o is ResolvedOptions {
  return o !== undefined && "indexLimit" in o;
}

/** Plan one group. Pure; the same group and options always give the same result. */
export function planGroup(group: Group, options?: PlannerOptions | ResolvedOptions): GroupPlan {
  const opts = isResolved(options) ? options : resolveOptions(options);
  const skipped: SkippedBlock[] = [];
  const live: GroupBlock[] = [];
  for (const b of group.blocks) {
    if (b.deletionMarked) skipped.push({ ulid: b.ulid, reason: "deletion-mark.json present" });
    else live.push(b);
  }
  const outdated = findOutdated(live);
  const gone = new Set(outdated.map((o) => o.ulid));
  const blocks = gone.size ? live.filter((b) => !gone.has(b.ulid)) : live;

  const split = splitMode(blocks, opts);
  const { drafts, skipped: s2 } = split
    ? planSplitMerge(blocks, opts, split.shardCount, split.splitGroups)
    : planLeveled(blocks, opts);
  skipped.push(...s2);

  const plans: Plan[] = [];
  const refused: RefusedPlan[] = [];
  for (const d of drafts) {
    const g = guardIndexSize(d, opts.indexLimit);
    skipped.push(...g.skipped);
    if (!g.draft) continue;
    const b = guardBudget(g.draft, opts.budget, opts.cost);
    skipped.push(...b.skipped);
    for (const r of b.refused) refused.push({ tenant: group.tenant, groupKey: group.key, kind: g.draft.kind, ...r });
    for (const x of b.drafts) plans.push(toPlan(group, x.draft, g.estimatedIndexBytes, x.estimate));
  }
  plans.sort(comparePlans);
  return { plans, outdated, skipped, refused, mode: split ? "split-merge" : "leveled" };
}

/** Group the metas and plan every group. */
export function planAll(metas: readonly BlockMetaWithMarks[], options: PlannerOptions = {}): PlanAllResult {
  const opts = resolveOptions(options);
  const groups = groupBlocks(metas, { replicaLabels: opts.replicaLabels });
  const out: PlanAllResult = { groups: [], plans: [], refused: [] };
  for (const group of groups) {
    const r = planGroup(group, opts);
    out.groups.push({ group, ...r });
    out.plans.push(...r.plans);
    out.refused.push(...r.refused);
  }
  return out;
}

/** Split-and-merge settings for the group, or undefined to plan it leveled. */
function splitMode(
  blocks: readonly GroupBlock[],
  opts: ResolvedOptions,
): { shardCount: number; splitGroups: number } | undefined {
  let maxSeries = 0;
  let maxIndex = 0;
  let existingShards = 0;
  for (const b of blocks) {
    if (b.numSeries > maxSeries) maxSeries = b.numSeries;
    if ((b.indexBytes ?? 0) > maxIndex) maxIndex = b.indexBytes!;
    if (b.shardId) existingShards = Math.max(existingShards, parseShardId(b.shardId)?.shards ?? 0);
  }
  const s = opts.split;
  if (s) {
    const noThreshold = s.minSeries === undefined && s.minIndexBytes === undefined;
    const crossed =
      (s.minSeries !== undefined && maxSeries >= s.minSeries) ||
      (s.minIndexBytes !== undefined && maxIndex >= s.minIndexBytes);
    if (noThreshold || crossed || existingShards > 0)
      return { shardCount: s.shardCount, splitGroups: s.splitGroups ?? 1 };
    return undefined;
  }
  // Sharded blocks (from Mimir, or from the index guard) must keep merging shard by shard.
  return existingShards > 0 ? { shardCount: existingShards, splitGroups: 1 } : undefined;
}

function toPlan(group: Group, d: Draft, est: number | undefined, cost: JobEstimate | undefined): Plan {
  const window = spanOf(d.blocks);
  const plan: Plan = {
    id: "",
    tenant: group.tenant,
    groupKey: group.key,
    kind: d.kind,
    window,
    range: d.range,
    level: maxLevel(d.blocks) + 1,
    inputs: d.blocks.map((b) => b.ulid),
    overlapping: anyOverlap(d.blocks),
    labels: exactOutputLabels(
      group.labels,
      d.blocks.map((b) => b.meta),
    ),
    resolution: group.resolution,
    reason: d.reason,
  };
  if (d.shardCount !== undefined) plan.shardCount = d.shardCount;
  if (d.splitGroup !== undefined) plan.splitGroup = d.splitGroup;
  if (d.shardId !== undefined) plan.shardId = d.shardId;
  plan.id = planId(plan);
  // The guard's figure, for the blocks the budget left in the plan.
  if (est !== undefined) plan.estimatedIndexBytes = estimateIndexBytes(d.blocks) ?? est;
  if (cost !== undefined) plan.estimate = roundEstimate(cost);
  return plan;
}

/** Whole bytes and counts, seconds to the millisecond: the estimate reads (and serialises) as it should. */
function roundEstimate(e: JobEstimate): JobEstimate {
  return {
    seconds: Math.round(e.seconds * 1000) / 1000,
    transferSeconds: Math.round(e.transferSeconds * 1000) / 1000,
    peakBytes: Math.round(e.peakBytes),
    readBytes: Math.round(e.readBytes),
    writeBytes: Math.round(e.writeBytes),
    series: Math.round(e.series),
    samples: Math.round(e.samples),
    chunks: Math.round(e.chunks),
  };
}

function comparePlans(a: Plan, b: Plan): number {
  return (
    a.range - b.range ||
    a.window.minTime - b.window.minTime ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    compareStrings(a.shardId ?? a.splitGroup ?? "", b.shardId ?? b.splitGroup ?? "")
  );
}
