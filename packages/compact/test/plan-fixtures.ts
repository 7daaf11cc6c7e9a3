// Builders for planner tests: Go's `ulid.MustNew(n, nil)` ids and minimal metas.
import { newUlid, type BlockMeta } from "@strata/tsdb";
import type { BlockMetaWithMarks } from "../src/group/group.ts";

/** ulid.MustNew(n, nil): time n, zero entropy. */
export const U = (n: number): string => newUlid(n, new Uint8Array(10));

export interface MetaOpts {
  labels?: Record<string, string>;
  resolution?: number;
  level?: number;
  sources?: number[];
  series?: number;
  tombstones?: number;
  failed?: boolean;
  noCompact?: boolean;
  deletionMarked?: boolean;
  indexBytes?: number;
  tenant?: string;
}

export function m(id: number, minTime: number, maxTime: number, o: MetaOpts = {}): BlockMetaWithMarks {
  const meta: BlockMeta = {
    ulid: U(id),
    minTime,
    maxTime,
    stats: { numSeries: BigInt(o.series ?? 0), numTombstones: BigInt(o.tombstones ?? 0) },
    compaction: { level: o.level ?? 1, sources: (o.sources ?? [id]).map(U), failed: o.failed },
    version: 1,
    thanos: { labels: o.labels ?? {}, downsample: { resolution: o.resolution ?? 0 } },
  };
  if (o.indexBytes !== undefined) meta.thanos!.files = [{ rel_path: "index", size_bytes: o.indexBytes }];
  return { meta, tenant: o.tenant, noCompact: o.noCompact, deletionMarked: o.deletionMarked };
}

/** Thanos/Prometheus planner test ranges (ExponentialBlockRanges with min 20). */
export const TEST_RANGES = [20, 60, 180, 540, 1620];
