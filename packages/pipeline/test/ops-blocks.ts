// Real blocks for the operator operations' tests (ls, mark, upload): three `up` series at 15 s
// over `hours` from `minT`, with the level, sources and labels a test states, written into any
// BlockSink (a directory, or a store as an upload leaves it).
import { BlockWriter, compareLabels, newUlid, type BlockMeta, type BlockSink, type Label } from "@strata/tsdb";
import { addXorSeries } from "@strata/testkit";

export const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 1);

export interface BlockSpec {
  minT: number;
  hours?: number;
  seed?: number;
  level?: number;
  sources?: string[];
  labels?: Record<string, string>;
}

/** A ULID for a block starting at `minT` (distinct per seed). */
export function blockUlid(minT: number, seed: number): string {
  return newUlid(minT + 2 * HOUR, new Uint8Array(10).fill(seed));
}

export async function writeBlock(sink: BlockSink, ulid: string, spec: BlockSpec): Promise<BlockMeta> {
  const hours = spec.hours ?? 2;
  const n = (hours * HOUR) / 15_000;
  const series = [0, 1, 2].map((i) => {
    const labels: Label[] = [
      { name: "__name__", value: "up" },
      { name: "i", value: String(i) },
    ];
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let j = 0; j < n; j++) (ts[j] = spec.minT + j * 15_000), (vs[j] = j * (spec.seed ?? 1));
    return { labels, ts, vs };
  });
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const w = new BlockWriter(sink);
  const { minTime, maxTime } = await addXorSeries(w, series);
  const written = await w.finish({
    ulid,
    minTime,
    maxTime,
    stats: {},
    compaction: { level: spec.level ?? 1, sources: spec.sources ?? [ulid] },
    version: 1,
    thanos: { labels: spec.labels ?? { cluster: "a" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  return written.meta;
}
