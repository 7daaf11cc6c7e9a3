/** Planner configuration and its defaults (Thanos' and Mimir's where they exist). */
import type { CostParams } from "../cost/model.ts";
import type { BudgetOptions } from "./budget-guard.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const GiB = 2 ** 30;

/**
 * Thanos' compaction set: 1h, 2h, 8h, 2d, 14d. As in Thanos and Prometheus, `ranges[0]`
 * is the base block range and the planner fills windows of `ranges[1:]` (2h, 8h, 2d,
 * 14d); `ranges[len/2]` (8h) is the smallest block considered for tombstone cleanup.
 */
export const DEFAULT_RANGES: readonly number[] = [HOUR, 2 * HOUR, 8 * HOUR, 2 * DAY, 14 * DAY];

/** The TSDB index format's hard limit (Prometheus' "exceeding max size of 64GiB"). */
export const INDEX_FORMAT_LIMIT = 64 * GiB;
/** Each index section is addressed with 32-bit offsets in places (symbols, postings offset table). */
export const INDEX_SECTION_LIMIT = 4 * GiB;
/** Thanos leaves 15% headroom under the limit: the estimate sums input indexes but merging can bloat. */
export const INDEX_HEADROOM = 0.85;

export interface SplitOptions {
  /** Output shards of a split job (Mimir `-compactor.split-and-merge-shards`). */
  shardCount: number;
  /** Jobs a window's unsplit blocks are spread over, by ULID hash (Mimir `-compactor.split-groups`, default 1). */
  splitGroups?: number;
  /** Split a group once one of its blocks has this many series (absent: no series trigger). */
  minSeries?: number;
  /** Split a group once one of its blocks' index is this large (absent: no size trigger). */
  minIndexBytes?: number;
}

export interface PlannerOptions {
  /** Base range then target ranges, ascending, each dividing the next. Default {@link DEFAULT_RANGES}. */
  ranges?: readonly number[];
  /** Replica labels removed before grouping (vertical deduplication of HA replicas). */
  replicaLabels?: readonly string[];
  /**
   * A block of at least ranges[len/2] whose numTombstones/(numSeries+1) exceeds this is rewritten alone. Default 0.05.
   */
  tombstoneRatio?: number;
  /**
   * Split-and-merge. Without thresholds, every group is split at the first level (Mimir
   * with shards > 0); with thresholds, only groups that cross one. Groups that already
   * hold sharded blocks stay in split-and-merge mode either way.
   */
  split?: SplitOptions;
  /** Largest output index allowed, before headroom; capped at 64 GiB. Default 64 GiB. */
  maxIndexBytes?: number;
  /**
   * The time and memory one job may take: plans over it are cut down (a prefix of a window,
   * more split groups and shards) or refused with a report. Absent: every plan is kept (each
   * still carries its estimate).
   */
  budget?: BudgetOptions;
  /** The cost model's parameters (S3 throughput) for every plan's estimate. */
  cost?: CostParams;
}

export interface ResolvedOptions {
  ranges: readonly number[];
  replicaLabels: readonly string[];
  tombstoneRatio: number;
  split: SplitOptions | undefined;
  /** After headroom. */
  indexLimit: number;
  budget: BudgetOptions | undefined;
  cost: CostParams;
}

/** Validate and fill in defaults; throws RangeError naming the bad option. */
export function resolveOptions(opts: PlannerOptions = {}): ResolvedOptions {
  const ranges = opts.ranges ?? DEFAULT_RANGES;
  if (ranges.length < 2) throw new RangeError("ranges: need a base range and at least one target range");
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (!Number.isSafeInteger(r) || r <= 0)
      throw new RangeError(`ranges[${i}]: ${r} is not a positive integer of milliseconds`);
    if (i > 0 && r % ranges[i - 1]! !== 0)
      throw new RangeError(`ranges[${i}]: ${r} is not a multiple of ${ranges[i - 1]}`);
    if (i > 0 && r <= ranges[i - 1]!) throw new RangeError(`ranges[${i}]: ${r} must exceed ${ranges[i - 1]}`);
  }
  const s = opts.split;
  if (s) {
    if (!Number.isInteger(s.shardCount) || s.shardCount < 1)
      throw new RangeError(`split.shardCount: ${s.shardCount} must be an integer ≥ 1`);
    if (s.splitGroups !== undefined && (!Number.isInteger(s.splitGroups) || s.splitGroups < 1))
      throw new RangeError(`split.splitGroups: ${s.splitGroups} must be an integer ≥ 1`);
  }
  const max = Math.min(opts.maxIndexBytes ?? INDEX_FORMAT_LIMIT, INDEX_FORMAT_LIMIT);
  if (!(max > 0)) throw new RangeError(`maxIndexBytes: ${opts.maxIndexBytes} must be positive`);
  const ratio = opts.tombstoneRatio ?? 0.05;
  if (!(ratio >= 0)) throw new RangeError(`tombstoneRatio: ${ratio} must be ≥ 0`);
  const b = opts.budget;
  if (b) {
    if (!(b.seconds > 0)) throw new RangeError(`budget.seconds: ${b.seconds} must be positive`);
    if (!(b.memoryBytes > 0)) throw new RangeError(`budget.memoryBytes: ${b.memoryBytes} must be positive`);
  }
  const c = opts.cost ?? {};
  for (const k of ["s3ReadBytesPerSecond", "s3WriteBytesPerSecond"] as const) {
    if (c[k] !== undefined && !(c[k]! > 0)) throw new RangeError(`cost.${k}: ${c[k]} must be positive`);
  }
  for (const k of ["cacheBytes", "cacheBytesPerInput"] as const) {
    if (c[k] !== undefined && !(c[k]! >= 0)) throw new RangeError(`cost.${k}: ${c[k]} must be ≥ 0`);
  }
  return {
    ranges,
    replicaLabels: opts.replicaLabels ?? [],
    tombstoneRatio: ratio,
    split: s,
    indexLimit: Math.floor(max * INDEX_HEADROOM),
    budget: b,
    cost: c,
  };
}
