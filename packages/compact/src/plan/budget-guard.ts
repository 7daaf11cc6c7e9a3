/**
 * The job budget, planning side: every plan carries the cost model's estimate (../cost), and
 * with a budget the planner plans only jobs that fit it, so a job is never killed at the
 * worker's wall and retried forever.
 *
 * A draft over the budget becomes, in this order:
 * 1. merge / vertical: a prefix of its inputs (the most that fit, at least two). The output
 *    covers the start of the window; the next planning merges it with the rest, so the window
 *    still converges (each round takes what fits).
 * 2. split (and an unsharded merge no prefix of which fits): its blocks spread over more
 *    split groups (Mimir's HashBlockID, refining the draft's own groups), so that each split
 *    job fits, with enough shards that each shard's later merge of the whole input fits too.
 * 3. Otherwise refused: a block that does not fit in a job of its own, or a pair that cannot
 *    be merged in one job and cannot be re-split (a vertical run, a merge of one shard). The
 *    refusal says why and which setting would let it run; the pipeline marks its blocks
 *    no-compact, which cuts the window around them as for any no-compact block.
 */
import { formatDuration } from "@strata/tsdb";
import type { GroupBlock } from "../group/group.ts";
import { hashBlockId } from "../hash/labels-hash.ts";
import { formatShardId, parseShardId } from "../shard/shard.ts";
import {
  blockCostOf,
  describeOver,
  durationSetting,
  estimateCompaction,
  fitsBudget,
  memorySetting,
  type CostParams,
  type JobBudget,
  type JobEstimate,
} from "../cost/model.ts";
import type { Draft } from "./draft.ts";
import type { SkippedBlock } from "./schema.ts";
import { anyOverlap } from "./windows.ts";

/** The budget a planned job must fit, and what the report may suggest. */
export interface BudgetOptions extends JobBudget {
  /** The wall the budget sits under (Lambda: 900 s): a larger budget is never suggested. Default 900. */
  limitSeconds?: number;
  /**
   * The wall for memory (the function's memory minus the runtime): a larger memory is never suggested. Default none.
   */
  limitMemoryBytes?: number;
  /** The names of the settings the report suggests. Default the pipeline's environment variables. */
  settingNames?: { budget: string; memory: string; shards: string };
}

const DEFAULT_SETTING_NAMES = {
  budget: "STRATA_JOB_BUDGET",
  memory: "STRATA_JOB_MEMORY",
  shards: "STRATA_SPLIT_SHARDS",
};

/** A job the planner will not plan because it cannot fit the budget. */
export interface RefusedJob {
  /** The blocks that cannot be compacted within the budget (to be marked no-compact). */
  blocks: string[];
  /** The report: what the job needs, against which budget, and what would let it run. */
  reason: string;
  estimate: JobEstimate;
  /** The setting that would let it run, `NAME=value` (the first suggestion of the report). */
  setting: string;
}

export interface BudgetResult {
  drafts: { draft: Draft; estimate: JobEstimate }[];
  refused: RefusedJob[];
  skipped: SkippedBlock[];
}

const costCache = new WeakMap<GroupBlock, ReturnType<typeof blockCostOf>>();
function costOf(b: GroupBlock) {
  let c = costCache.get(b);
  if (!c) costCache.set(b, (c = blockCostOf(b.meta, b.indexBytes)));
  return c;
}

/** The cost model's estimate of a draft as it stands. */
export function estimateDraft(d: Pick<Draft, "blocks" | "shardCount">, params: CostParams = {}): JobEstimate {
  return estimateCompaction(d.blocks.map(costOf), { overlapping: anyOverlap(d.blocks), shards: d.shardCount }, params);
}

/** Apply the budget to one draft. Without a budget the draft passes with its estimate. */
export function guardBudget(d: Draft, budget: BudgetOptions | undefined, params: CostParams = {}): BudgetResult {
  const est = estimateDraft(d, params);
  if (!budget || fitsBudget(est, budget)) return { drafts: [{ draft: d, estimate: est }], refused: [], skipped: [] };
  const names = budget.settingNames ?? DEFAULT_SETTING_NAMES;
  const over = describeOver(est, budget);

  // 1. A prefix of a merge or vertical run.
  if ((d.kind === "merge" || d.kind === "vertical") && d.blocks.length > 2) {
    for (let k = d.blocks.length - 1; k >= 2; k--) {
      const blocks = d.blocks.slice(0, k);
      const e = estimateDraft({ blocks }, params);
      if (fitsBudget(e, budget)) {
        const rest = d.blocks.slice(k).map((b) => ({
          ulid: b.ulid,
          reason: `waits for the next round: its ${d.kind} with ${d.blocks.length - 1} other block(s) ${over}`,
        }));
        return {
          drafts: [
            {
              draft: {
                ...d,
                blocks,
                reason: `${d.reason}; the first ${k} of ${d.blocks.length} blocks only (all ${d.blocks.length} ${over})`,
              },
              estimate: e,
            },
          ],
          refused: [],
          skipped: rest,
        };
      }
    }
  }

  // Blocks that do not fit a job of their own are refused whatever else happens.
  const alone = d.blocks.map((b) => ({ b, e: estimateDraft({ blocks: [b], shardCount: d.shardCount }, params) }));
  const tooBig = alone.filter((x) => !fitsBudget(x.e, budget));
  if (tooBig.length > 0) {
    const refused = tooBig.map((x) =>
      refuse([x.b.ulid], `block ${x.b.ulid} alone ${describeOver(x.e, budget)}`, x.e, budget, names, d),
    );
    const big = new Set(tooBig.map((x) => x.b));
    const skipped = d.blocks
      .filter((b) => !big.has(b))
      .map((b) => ({
        ulid: b.ulid,
        reason: `waits: ${tooBig.map((x) => x.b.ulid).join(", ")} of its ${d.kind} plan refused as over the job budget`,
      }));
    return { drafts: [], refused, skipped };
  }

  // 2. Re-split: unsharded inputs over more split groups (a vertical run or one shard's merge cannot be).
  if (d.kind === "split" || (d.kind === "merge" && d.shardId === undefined)) {
    const r = resplit(d, est, budget, params);
    if (r) return { drafts: r, refused: [], skipped: [] };
  }

  // 3. Refused: the smallest job that does not fit (for a merge, its first two blocks; the
  // others wait for the next round, when the no-compact marks cut the window around them).
  if ((d.kind === "merge" || d.kind === "vertical") && d.blocks.length > 2) {
    const pair = d.blocks.slice(0, 2);
    const e = estimateDraft({ blocks: pair }, params);
    const skipped = d.blocks.slice(2).map((b) => ({
      ulid: b.ulid,
      reason: `waits: the first two blocks of its ${d.kind} plan were refused as over the job budget`,
    }));
    return {
      drafts: [],
      refused: [
        refuse(
          pair.map((b) => b.ulid),
          `${d.kind} of ${pair.map((b) => b.ulid).join(" and ")}${d.shardId ? ` (shard ${d.shardId})` : ""} ${describeOver(e, budget)}`,
          e,
          budget,
          names,
          d,
        ),
      ],
      skipped,
    };
  }
  const what =
    d.kind === "tombstones"
      ? `rewriting ${d.blocks[0]!.ulid} for its tombstones`
      : `${d.kind} of ${d.blocks.map((b) => b.ulid).join(" and ")}${d.shardId ? ` (shard ${d.shardId})` : ""}`;
  return {
    drafts: [],
    refused: [
      refuse(
        d.blocks.map((b) => b.ulid),
        `${what} ${over}`,
        est,
        budget,
        names,
        d,
      ),
    ],
    skipped: [],
  };
}

/** Spread a draft's blocks over more split groups so that every job fits; undefined when none does. */
function resplit(
  d: Draft,
  est: JobEstimate,
  budget: BudgetOptions,
  params: CostParams,
): { draft: Draft; estimate: JobEstimate }[] | undefined {
  const base = d.splitGroup ? parseShardId(d.splitGroup) : { index: 0, shards: 1 };
  if (!base) return undefined;
  // Enough shards that one shard of all these inputs, merged later, fits: estimate / shards.
  const need = Math.max(Math.ceil(est.seconds / budget.seconds), Math.ceil(est.peakBytes / budget.memoryBytes), 2);
  const shardCount = Math.max(d.shardCount ?? 0, need);
  for (let m = 2; m <= 4 * d.blocks.length; m++) {
    const groups = base.shards * m;
    const parts = new Map<number, GroupBlock[]>();
    for (const b of d.blocks) {
      const g = hashBlockId(b.ulid) % groups;
      let l = parts.get(g);
      if (!l) parts.set(g, (l = []));
      l.push(b);
    }
    const out: { draft: Draft; estimate: JobEstimate }[] = [];
    let ok = true;
    for (const g of [...parts.keys()].sort((a, b) => a - b)) {
      const blocks = parts.get(g)!;
      const e = estimateDraft({ blocks, shardCount }, params);
      if (!fitsBudget(e, budget)) {
        ok = false;
        break;
      }
      const was = d.kind === "split" ? `split into ${d.shardCount} shards` : `${d.kind} of ${d.blocks.length} blocks`;
      out.push({
        draft: {
          ...d,
          kind: "split",
          blocks,
          shardCount,
          shardId: undefined,
          splitGroup: formatShardId(g, groups),
          reason: `${d.reason}; over the job budget as one ${was} (${describeOver(est, budget)}): split group ${formatShardId(g, groups)} of its blocks, into ${shardCount} shards`,
        },
        estimate: e,
      });
    }
    if (ok) return out;
  }
  return undefined;
}

function refuse(
  blocks: string[],
  what: string,
  e: JobEstimate,
  budget: BudgetOptions,
  names: NonNullable<BudgetOptions["settingNames"]>,
  d: Draft,
): RefusedJob {
  const suggestions: string[] = [];
  const limit = budget.limitSeconds ?? 900;
  if (e.seconds > budget.seconds) {
    const want = durationSetting(e.seconds);
    const wantS = e.seconds * 1.1 <= 60 ? Math.ceil(e.seconds * 1.1) : Math.ceil((e.seconds * 1.1) / 300) * 300;
    if (wantS <= limit) suggestions.push(`raise ${names.budget} to ${want}`);
    else
      suggestions.push(
        `${names.budget}=${want} would be past the worker's ${formatDuration(Math.round(limit) * 1000)} limit`,
      );
  }
  if (e.peakBytes > budget.memoryBytes) {
    const want = memorySetting(e.peakBytes);
    if (budget.limitMemoryBytes === undefined || e.peakBytes * 1.1 <= budget.limitMemoryBytes)
      suggestions.push(`raise ${names.memory} to ${want}`);
    else suggestions.push(`${names.memory}=${want} would be past the function's memory`);
  }
  // More shards make every later job smaller: the split stage's outputs, and each shard's merges.
  const ratio = Math.max(e.seconds / budget.seconds, e.peakBytes / budget.memoryBytes);
  const current = d.shardCount ?? (d.shardId ? (parseShardId(d.shardId)?.shards ?? 1) : 1);
  const shards = Math.max(2, Math.ceil(current * ratio * 1.1));
  suggestions.push(
    `split with ${names.shards}=${shards}${d.shardId || d.kind === "split" || blocks.length === 1 ? " (for blocks not yet compacted this far)" : ""}`,
  );
  const usable = suggestions.filter((s) => s.startsWith("raise ") || s.startsWith("split "));
  const first = usable[0] ?? suggestions[0]!; // never empty: the split suggestion is always pushed
  const setting = first.startsWith("raise ")
    ? first.replace(/^raise (\S+) to (\S+)$/, "$1=$2")
    : first.replace(/^split with (\S+?)(?: \(.*)?$/, "$1");
  return { blocks, reason: `${what}; ${suggestions.join(" or ")}`, estimate: e, setting };
}
