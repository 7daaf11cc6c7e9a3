/**
 * Compaction groups: blocks that may be merged together share a tenant, external labels
 * (after removing the replica labels configured for deduplication, and Mimir's shard
 * label) and a resolution. The key is Thanos' `"<resolution>@<labels hash>"`, so a group
 * here names the same stream as a Thanos compactor's group. Pure: metas in, groups out.
 */
import { COMPACTOR_SHARD_ID_LABEL as SHARD_ID_LABEL } from "../shard/shard.ts";
import { blockResolution, compareStrings, compareUlids, type BlockMeta } from "@strata/tsdb";
import { thanosGroupKey } from "../hash/labels-hash.ts";

/** External label Mimir's split stage writes on its outputs ("<i>_of_<n>", 1-based). */
export { SHARD_ID_LABEL };

/** Thanos sets this value on the first replica label when removing replicas leaves no labels. */
export const DEDUPED_LABEL_VALUE = "deduped";

/** A block as the planner sees it: its meta plus what the bucket says about it. */
export interface BlockMetaWithMarks {
  meta: BlockMeta;
  /** Tenant (the bucket prefix in a multi-tenant bucket); "" or absent for a single-tenant bucket. */
  tenant?: string;
  /** `no-compact-mark.json` is present. */
  noCompact?: boolean;
  /** `deletion-mark.json` is present. */
  deletionMarked?: boolean;
  /** Size of the `index` file when known from elsewhere (bucket index, HEAD); `thanos.files` wins. */
  indexBytes?: number;
}

export interface GroupOptions {
  /** Replica labels removed before grouping (Thanos `--deduplication.replica-label`). */
  replicaLabels?: readonly string[];
}

/** One block of a group, with the fields the planner reads pulled out of the meta. */
export interface GroupBlock {
  ulid: string;
  minTime: number;
  /** Exclusive. */
  maxTime: number;
  level: number;
  /** Sorted level-1 ancestors; a block without sources is its own source. */
  sources: readonly string[];
  /** `__compactor_shard_id__` value, "" when the block is not sharded. */
  shardId: string;
  noCompact: boolean;
  deletionMarked: boolean;
  failed: boolean;
  numSeries: number;
  numTombstones: number;
  /** Index file size if known. */
  indexBytes: number | undefined;
  meta: BlockMeta;
}

export interface Group {
  /** Thanos group key of the labels without replica and shard labels. */
  key: string;
  tenant: string;
  resolution: number;
  /** External labels after replica (and shard) label removal: what compacted outputs carry. */
  labels: Record<string, string>;
  /** Sorted by minTime, then ULID. */
  blocks: GroupBlock[];
}

/** Unique id of a group across tenants: `<tenant>/<key>`, or the key alone without a tenant. */
export function groupId(g: Pick<Group, "tenant" | "key">): string {
  return g.tenant ? `${g.tenant}/${g.key}` : g.key;
}

/** External labels as Thanos' ReplicaLabelRemover leaves them. */
export function removeReplicaLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  replicaLabels: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = { ...(labels ?? {}) };
  if (replicaLabels.length === 0) return out;
  for (const r of replicaLabels) delete out[r];
  if (Object.keys(out).length === 0) out[replicaLabels[0]!] = DEDUPED_LABEL_VALUE;
  return out;
}

/** Index size from `thanos.files` (rel_path "index"), else the caller's figure. */
export function indexBytesOf(b: BlockMetaWithMarks): number | undefined {
  const f = b.meta.thanos?.files?.find((x) => x.rel_path === "index");
  if (f?.size_bytes !== undefined && f.size_bytes > 0) return f.size_bytes;
  return b.indexBytes;
}

function toNumber(v: bigint | number | undefined): number {
  return v === undefined ? 0 : Number(v);
}

/** Group blocks by tenant, external labels (minus replica and shard labels) and resolution. */
export function groupBlocks(metas: readonly BlockMetaWithMarks[], opts: GroupOptions = {}): Group[] {
  const replicaLabels = opts.replicaLabels ?? [];
  const groups = new Map<string, Group>();
  // Label sets repeat across thousands of blocks: clean and hash each distinct one once,
  // keyed by its raw text (a different key order only costs a cache miss).
  const cache = new Map<string, { key: string; labels: Record<string, string> }>();
  for (const b of metas) {
    const m = b.meta;
    const tenant = b.tenant ?? "";
    const resolution = blockResolution(m);
    const raw = m.thanos?.labels ?? {};
    let canon = `${resolution}`;
    for (const k in raw) canon += `\u0000${k}\u0000${raw[k]}`;
    let c = cache.get(canon);
    if (c === undefined) {
      const cleaned = removeReplicaLabels(raw, replicaLabels);
      delete cleaned[SHARD_ID_LABEL];
      const labels: Record<string, string> = {};
      for (const n of Object.keys(cleaned).sort(compareStrings)) labels[n] = cleaned[n]!;
      cache.set(canon, (c = { key: thanosGroupKey(resolution, labels), labels }));
    }
    const shardId = replicaLabels.includes(SHARD_ID_LABEL) ? "" : (raw[SHARD_ID_LABEL] ?? "");
    const id = `${tenant}\u0000${c.key}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key: c.key, tenant, resolution, labels: { ...c.labels }, blocks: [] }));
    const sources = m.compaction.sources?.length ? m.compaction.sources : [m.ulid];
    g.blocks.push({
      ulid: m.ulid,
      minTime: m.minTime,
      maxTime: m.maxTime,
      level: m.compaction.level,
      sources,
      shardId,
      noCompact: b.noCompact === true,
      deletionMarked: b.deletionMarked === true,
      failed: m.compaction.failed === true,
      numSeries: toNumber(m.stats.numSeries),
      numTombstones: toNumber(m.stats.numTombstones),
      indexBytes: indexBytesOf(b),
      meta: m,
    });
  }
  const out = [...groups.values()];
  for (const g of out) g.blocks.sort(compareBlocks);
  out.sort((a, b) => compareStrings(a.tenant, b.tenant) || compareStrings(a.key, b.key));
  return out;
}

/** Order by minTime, then ULID, so plans do not depend on listing order. */
export function compareBlocks(a: { minTime: number; ulid: string }, b: { minTime: number; ulid: string }): number {
  return a.minTime - b.minTime || compareUlids(a.ulid, b.ulid);
}
