import type { BlockReader } from "@strata/tsdb";
import { SYSTEM_COLUMNS } from "./schema.ts";

/** A series to convert: its id in the index, its sort key and its position in index order. */
export interface SeriesKey {
  id: number;
  key: string[];
  pos: number;
}

export interface ShardPlan {
  labelNames: string[];
  series: SeriesKey[];
}

export interface ShardLimits {
  rowGroupSize: number;
  /** 0: unlimited (no row-based sharding). */
  numRowGroups: number;
  maxColumns: number;
  indexLabelNames: readonly string[];
}

/**
 * parquet-common's sharding (convert/convert.go, shardSeries as vendored by Cortex): one
 * shard with every label name of the index unless the names overflow the column limit or
 * a row limit is set; otherwise series in sorted order fill a shard until it holds
 * ceil(series / shards) rows (shards = ceil(series / (numRowGroups * rowGroupSize))) or the
 * next series' new label names would pass `maxColumns` (two system columns included).
 */
export async function planShards(
  block: BlockReader,
  keys: readonly SeriesKey[],
  inIndexOrder: boolean,
  l: ShardLimits,
): Promise<ShardPlan[]> {
  if (l.numRowGroups <= 0 && l.indexLabelNames.length + SYSTEM_COLUMNS <= l.maxColumns) {
    return [{ labelNames: [...l.indexLabelNames], series: [...keys] }];
  }
  let rowsPerShard = Number.POSITIVE_INFINITY;
  if (l.numRowGroups > 0 && keys.length > 0) {
    const perShard = l.numRowGroups * l.rowGroupSize;
    const total = Math.ceil(keys.length / perShard);
    rowsPerShard = Math.ceil(keys.length / total);
  }
  const shards: ShardPlan[] = [];
  let cur: ShardPlan = { labelNames: [], series: [] };
  let names = new Set<string>();
  const visit = (k: SeriesKey, labelNames: string[]): void => {
    let fresh = 0;
    for (const n of labelNames) if (!names.has(n)) fresh++;
    const full = cur.series.length >= rowsPerShard || names.size + fresh + SYSTEM_COLUMNS > l.maxColumns;
    if (full && cur.series.length > 0) {
      cur.labelNames = [...names];
      shards.push(cur);
      cur = { labelNames: [], series: [] };
      names = new Set();
    }
    for (const n of labelNames) names.add(n);
    cur.series.push(k);
  };
  if (inIndexOrder) {
    const want = new Map(keys.map((k) => [k.id, k]));
    const c = block.index.seriesCursor();
    for (;;) {
      const s = c.tryNext() ?? (await c.next());
      if (s === null) break;
      const k = want.get(s.id);
      if (k !== undefined)
        visit(
          k,
          s.labels.map((x) => x.name),
        );
    }
  } else {
    for (const k of keys) {
      const s = await block.index.series(k.id);
      visit(
        k,
        s.labels.map((x) => x.name),
      );
    }
  }
  cur.labelNames = [...names];
  shards.push(cur);
  return shards;
}
