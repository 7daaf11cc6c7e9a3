// Metas for the `strata plan` tests: Go's `ulid.MustNew(n, nil)` ids and minimal Thanos metas
// (the planner's own builders stay with @strata/compact's tests; the CLI sees only meta.json).
import { newUlid, type BlockMeta } from "@strata/tsdb";

/** ulid.MustNew(n, nil): time n, zero entropy. */
export const U = (n: number): string => newUlid(n, new Uint8Array(10));

export interface MetaOpts {
  labels?: Record<string, string>;
  series?: number;
  /** Declared size of the index file (thanos.files). */
  indexBytes?: number;
}

/** A level-1 raw block `U(id)` over [minTime, maxTime) that is its own source. */
export function m(id: number, minTime: number, maxTime: number, o: MetaOpts = {}): { meta: BlockMeta } {
  const meta: BlockMeta = {
    ulid: U(id),
    minTime,
    maxTime,
    stats: { numSeries: BigInt(o.series ?? 0), numTombstones: 0n },
    compaction: { level: 1, sources: [U(id)] },
    version: 1,
    thanos: { labels: o.labels ?? {}, downsample: { resolution: 0 } },
  };
  if (o.indexBytes !== undefined) meta.thanos!.files = [{ rel_path: "index", size_bytes: o.indexBytes }];
  return { meta };
}
