/**
 * The meta.json of a compaction's output, as Prometheus' CompactBlockMetas and Thanos'
 * InjectThanos write it: new ULID, time range of the inputs (or the requested window),
 * level = max + 1, sources = sorted union of the inputs' sources, parents = the inputs in
 * input order, hints merged (from-out-of-order only when every input has it, the others
 * when any has it), stats left for the writer, and when the inputs carry a `thanos`
 * section: their external labels (replica labels removed, `__compactor_shard_id__` set
 * when sharding), their resolution and `source: "compactor"`; `files`, `segment_files`
 * and `index_stats` are filled in by the writer.
 */
import { blockResolution, compareUlids, type BlockMeta, type ThanosMeta } from "@strata/tsdb";
import { COMPACTOR_SHARD_ID_LABEL, formatShardId } from "../shard/shard.ts";
import type { Plan } from "../plan/schema.ts";

const HINT_OOO = "from-out-of-order";

export interface OutputMetaOptions {
  ulid: string;
  minTime: number;
  maxTime: number;
  replicaLabels: readonly string[];
  /** Set for split outputs: the output's index and the shard count. */
  shard?: { index: number; count: number };
}

/** Why a set of inputs cannot be compacted together, or undefined. */
export function checkCompatible(inputs: readonly BlockMeta[]): string | undefined {
  if (inputs.length === 0) return "no input blocks";
  const seen = new Set<string>();
  for (const m of inputs) {
    if (seen.has(m.ulid)) return `block ${m.ulid} is given twice`;
    seen.add(m.ulid);
  }
  const res = blockResolution(inputs[0]!);
  for (const m of inputs) {
    const r = blockResolution(m);
    if (r !== res)
      return `blocks of different resolutions cannot be compacted together (${inputs[0]!.ulid}: ${res} ms, ${m.ulid}: ${r} ms)`;
  }
  return undefined;
}

export function outputMeta(inputs: readonly BlockMeta[], o: OutputMetaOptions): BlockMeta {
  let level = 0;
  for (const m of inputs) if (m.compaction.level > level) level = m.compaction.level;
  const meta = lineage(inputs, o.ulid, o.minTime, o.maxTime, level + 1);
  const withThanos = inputs.find((m) => m.thanos);
  if (withThanos || o.shard) meta.thanos = thanosSection(withThanos?.thanos, o);
  return meta;
}

/**
 * The meta.json of a plan's output (`executePlan`): window, level, external labels and
 * resolution are the plan's, as the planner decided them; only what a plan cannot carry
 * comes from the inputs (sources, parents, hints, Thanos extensions, and whether there is a
 * `thanos` section at all: Prometheus' blocks have none, and their output gets none unless
 * it is a shard). `shard` is the output's index in a split plan.
 */
export function planOutputMeta(plan: Plan, inputs: readonly BlockMeta[], ulid: string, shard: number): BlockMeta {
  const meta = lineage(inputs, ulid, plan.window.minTime, plan.window.maxTime, plan.level);
  const first = inputs.find((m) => m.thanos)?.thanos;
  if (first === undefined && plan.kind !== "split") return meta;
  const labels: Record<string, string> = { ...plan.labels };
  if (plan.kind === "split") labels[COMPACTOR_SHARD_ID_LABEL] = formatShardId(shard, plan.shardCount!);
  else if (plan.shardId !== undefined) labels[COMPACTOR_SHARD_ID_LABEL] = plan.shardId;
  const t: ThanosMeta = { version: 1, labels, downsample: { resolution: plan.resolution }, source: "compactor" };
  if (first?.extensions !== undefined) t.extensions = first.extensions;
  meta.thanos = t;
  return meta;
}

/** What every output inherits from its inputs: sources, parents and hints, as Prometheus' CompactBlockMetas. */
function lineage(
  inputs: readonly BlockMeta[],
  ulid: string,
  minTime: number,
  maxTime: number,
  level: number,
): BlockMeta {
  const sources = new Set<string>();
  for (const m of inputs) for (const s of m.compaction.sources ?? [m.ulid]) sources.add(s);
  const hints = new Set<string>();
  for (const m of inputs) for (const h of m.compaction.hints ?? []) if (h !== HINT_OOO) hints.add(h);
  if (inputs.every((m) => m.compaction.hints?.includes(HINT_OOO))) hints.add(HINT_OOO);

  const meta: BlockMeta = {
    ulid,
    minTime,
    maxTime,
    stats: {},
    compaction: {
      level,
      sources: [...sources].sort(compareUlids),
      parents: inputs.map((m) => ({ ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime })),
    },
    version: 1,
  };
  if (hints.size) meta.compaction.hints = [...hints].sort();
  return meta;
}

function thanosSection(first: ThanosMeta | undefined, o: OutputMetaOptions): ThanosMeta {
  const labels: Record<string, string> = { ...(first?.labels ?? {}) };
  const had = Object.keys(labels).length > 0;
  for (const r of o.replicaLabels) delete labels[r];
  // Thanos' replica label remover: a stream left without labels is marked as deduplicated.
  if (had && Object.keys(labels).length === 0 && o.replicaLabels.length > 0) labels[o.replicaLabels[0]!] = "deduped";
  if (o.shard) labels[COMPACTOR_SHARD_ID_LABEL] = formatShardId(o.shard.index, o.shard.count);
  const t: ThanosMeta = {
    version: 1,
    labels,
    downsample: { resolution: blockResolution({ thanos: first }) },
    source: "compactor",
  };
  if (first?.extensions !== undefined) t.extensions = first.extensions;
  return t;
}
