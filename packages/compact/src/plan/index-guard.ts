/**
 * The large-index guard, planning side: estimate each plan's output index from its
 * inputs and, where it would pass the limit, plan more shards instead of failing at the
 * end of a long merge (thanos#1424). The estimate is Thanos' worst case, the sum of the
 * inputs' index sizes (no sharing of symbols or series); the limit keeps Thanos' 15%
 * headroom under min(configured maximum, 64 GiB).
 */
import type { GroupBlock } from "../group/group.ts";
import type { Draft } from "./draft.ts";
import type { SkippedBlock } from "./schema.ts";

const fmtBytes = (n: number): string =>
  n >= 2 ** 30
    ? `${(n / 2 ** 30).toFixed(1)} GiB`
    : n >= 2 ** 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : `${Math.round(n)} B`;

/**
 * Sum of the inputs' index sizes; inputs of unknown size count as the mean of the known
 * ones. Undefined when no size is known.
 */
export function estimateIndexBytes(blocks: readonly GroupBlock[]): number | undefined {
  let sum = 0;
  let known = 0;
  for (const b of blocks) {
    if (b.indexBytes !== undefined) {
      sum += b.indexBytes;
      known++;
    }
  }
  if (known === 0) return undefined;
  return Math.round((sum * blocks.length) / known);
}

export interface GuardResult {
  draft?: Draft;
  estimatedIndexBytes?: number;
  skipped: SkippedBlock[];
}

/** Apply the guard to one draft: unchanged, re-sharded, or dropped with reasons. */
export function guardIndexSize(d: Draft, limit: number): GuardResult {
  const est = d.kind === "tombstones" ? undefined : estimateIndexBytes(d.blocks);
  if (est === undefined || d.kind === "tombstones") return { draft: d, estimatedIndexBytes: est, skipped: [] };
  const need = Math.ceil(est / limit);
  if (d.kind === "split") {
    if (est / d.shardCount! <= limit) return { draft: d, estimatedIndexBytes: est, skipped: [] };
    return {
      draft: {
        ...d,
        shardCount: need,
        reason: `${d.reason}; shards raised from ${d.shardCount} to ${need}: estimated index ${fmtBytes(est)} over the ${fmtBytes(limit)} limit`,
      },
      estimatedIndexBytes: est,
      skipped: [],
    };
  }
  if (est <= limit) return { draft: d, estimatedIndexBytes: est, skipped: [] };
  if (d.shardId !== undefined) {
    // Already-sharded blocks cannot be re-split without breaking the shard layout: leave them.
    const reason = `index-size-exceeding: merging shard ${d.shardId} in the window would make an index of about ${fmtBytes(est)}, over the ${fmtBytes(limit)} limit`;
    return { skipped: d.blocks.map((b) => ({ ulid: b.ulid, reason })) };
  }
  const shardCount = Math.max(2, need);
  return {
    draft: {
      ...d,
      kind: "split",
      shardCount,
      splitGroup: "1_of_1",
      reason: `${d.reason}; split into ${shardCount} shards: estimated index ${fmtBytes(est)} over the ${fmtBytes(limit)} limit`,
    },
    estimatedIndexBytes: est,
    skipped: [],
  };
}
