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
import { compareUlids, type BlockMeta, type ThanosMeta } from "@strata/tsdb";
import { COMPACTOR_SHARD_ID_LABEL, formatShardId } from "../shard/shard.ts";

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
  const res = inputs[0]!.thanos?.downsample?.resolution ?? 0;
  for (const m of inputs) {
    const r = m.thanos?.downsample?.resolution ?? 0;
    if (r !== res) return `blocks of different resolutions cannot be compacted together (${inputs[0]!.ulid}: ${res} ms, ${m.ulid}: ${r} ms)`;
  }
  return undefined;
}

export function outputMeta(inputs: readonly BlockMeta[], o: OutputMetaOptions): BlockMeta {
  const sources = new Set<string>();
  let level = 0;
  for (const m of inputs) {
    for (const s of m.compaction.sources ?? [m.ulid]) sources.add(s);
    if (m.compaction.level > level) level = m.compaction.level;
  }
  const hints = new Set<string>();
  for (const m of inputs) for (const h of m.compaction.hints ?? []) if (h !== HINT_OOO) hints.add(h);
  if (inputs.every((m) => m.compaction.hints?.includes(HINT_OOO))) hints.add(HINT_OOO);

  const meta: BlockMeta = {
    ulid: o.ulid,
    minTime: o.minTime,
    maxTime: o.maxTime,
    stats: {},
    compaction: {
      level: level + 1,
      sources: [...sources].sort(compareUlids),
      parents: inputs.map((m) => ({ ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime })),
    },
    version: 1,
  };
  if (hints.size) meta.compaction.hints = [...hints].sort();
  const withThanos = inputs.find((m) => m.thanos);
  if (withThanos || o.shard) meta.thanos = thanosSection(withThanos?.thanos, o);
  return meta;
}

function thanosSection(first: ThanosMeta | undefined, o: OutputMetaOptions): ThanosMeta {
  const labels: Record<string, string> = { ...(first?.labels ?? {}) };
  const had = Object.keys(labels).length > 0;
  for (const r of o.replicaLabels) delete labels[r];
  // Thanos' replica label remover: a stream left without labels is marked as deduplicated.
  if (had && Object.keys(labels).length === 0 && o.replicaLabels.length > 0) labels[o.replicaLabels[0]!] = "deduped";
  if (o.shard) labels[COMPACTOR_SHARD_ID_LABEL] = formatShardId(o.shard.index, o.shard.count);
  const t: ThanosMeta = { version: 1, labels, downsample: { resolution: first?.downsample?.resolution ?? 0 }, source: "compactor" };
  if (first?.extensions !== undefined) t.extensions = first.extensions;
  return t;
}
