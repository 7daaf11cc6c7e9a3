/**
 * Compacting blocks given by hand (`strata compact`, tests, benchmarks): the given blocks
 * in, one block (or one per shard) out, the output's meta.json computed from the inputs'
 * (`outputMeta`). A planner's plan runs through `executePlan` instead, which takes level,
 * window and labels from the plan. Both share the merge loop in run.ts.
 */
import {
  getLabel,
  labelsEqual,
  labelsFrom,
  METRIC_NAME,
  type BlockMeta,
  type BlockSource,
  type Labels,
} from "@strata/tsdb";
import { looksLikeCounter } from "../merge/penalty.ts";
import { COMPACTOR_SHARD_ID_LABEL } from "../shard/shard.ts";
import { checkCompatible, outputMeta } from "./meta.ts";
import type { IndexLimits } from "./guard.ts";
import {
  CompactionError,
  runCompaction,
  withReaders,
  type CompactResult,
  type DedupMode,
  type RunSettings,
  type SinkFactory,
} from "./run.ts";

export { CompactionError, type CompactOutput, type CompactResult, type DedupMode, type SinkFactory } from "./run.ts";

export interface CompactOptions {
  /** "none" and "1:1": Prometheus' merge (equal timestamps kept once). "penalty": Thanos' HA dedup. Default "1:1". */
  dedup?: DedupMode;
  /** Labels that tell replicas apart: removed from series labels and external labels before merging. */
  replicaLabels?: readonly string[];
  /** Split the output into this many blocks by series hash (Mimir's split stage). */
  shards?: number;
  /**
   * With `shards`: write only these outputs (0-based), skipping other shards' series without
   * merging them. How a retried split job redoes just the shards a crash left unwritten.
   */
  onlyShards?: ReadonlySet<number>;
  /** Output time range [minTime, maxTime); default: from the inputs' metas. Samples outside are dropped. */
  outputRange?: { minTime: number; maxTime: number };
  /** ULID of the output (shard 0 when sharding); others are generated with the same timestamp. */
  ulid?: string;
  /** Series treated as counters by penalty dedup (default: names ending _total, _count, _bucket). */
  isCounter?: (labels: Labels) => boolean;
  segmentSize?: number;
  /** Override the index format limits (tests). */
  indexLimits?: IndexLimits;
}

/** The options both entry points share, checked; the output range is the caller's. */
export function runSettings(opts: CompactOptions): Omit<RunSettings, "minTime" | "maxTime"> {
  const dedup = opts.dedup ?? "1:1";
  if (dedup !== "none" && dedup !== "1:1" && dedup !== "penalty")
    throw new CompactionError(`unknown dedup mode ${JSON.stringify(dedup)}`);
  const shards = opts.shards ?? 0;
  if (!Number.isInteger(shards) || shards < 0)
    throw new CompactionError(`shard count must be a non-negative integer, got ${shards}`);
  return {
    dedup,
    replicaLabels: [...(opts.replicaLabels ?? [])],
    shards,
    onlyShards: shards > 0 ? opts.onlyShards : undefined,
    ulid: opts.ulid,
    isCounter: opts.isCounter ?? ((ls: Labels) => looksLikeCounter(getLabel(ls, METRIC_NAME))),
    segmentSize: opts.segmentSize,
    indexLimits: opts.indexLimits,
  };
}

export async function compactBlocks(
  inputs: readonly BlockSource[],
  sinks: SinkFactory,
  opts: CompactOptions = {},
): Promise<CompactResult> {
  const s = runSettings(opts);
  return withReaders(inputs, async (readers, openMs) => {
    const metas = readers.map((r) => r.meta);
    const problem = checkCompatible(metas) ?? checkExternalLabels(metas, s.replicaLabels);
    if (problem) throw new CompactionError(problem);
    const minTime = opts.outputRange?.minTime ?? Math.min(...metas.map((m) => m.minTime));
    const maxTime = opts.outputRange?.maxTime ?? Math.max(...metas.map((m) => m.maxTime));
    if (!(maxTime > minTime)) throw new CompactionError(`empty output range [${minTime}, ${maxTime})`);
    const shards = s.shards;
    const metaFor = (ulid: string, shard: number) =>
      outputMeta(metas, {
        ulid,
        minTime,
        maxTime,
        replicaLabels: s.replicaLabels,
        shard: shards > 0 ? { index: shard, count: shards } : undefined,
      });
    return runCompaction(readers, sinks, { ...s, minTime, maxTime }, metaFor, openMs);
  });
}

/** Inputs must share external labels once replica and shard labels are set aside. */
function checkExternalLabels(metas: readonly BlockMeta[], replicaLabels: readonly string[]): string | undefined {
  const strip = (m: BlockMeta) => {
    const l: Record<string, string> = { ...(m.thanos?.labels ?? {}) };
    for (const r of replicaLabels) delete l[r];
    delete l[COMPACTOR_SHARD_ID_LABEL];
    return labelsFrom(l);
  };
  const first = strip(metas[0]!);
  for (const m of metas.slice(1)) {
    if (!labelsEqual(first, strip(m))) {
      return `blocks ${metas[0]!.ulid} and ${m.ulid} belong to different streams (external labels differ beyond the replica labels)`;
    }
  }
  return undefined;
}
