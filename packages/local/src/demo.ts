/**
 * `npm start -- --demo`: a few hours of realistic blocks for a demo tenant, written with
 * @strata/tsdb's BlockWriter straight into the bucket through the proxy (meta.json last), so
 * their upload events set the pipeline going exactly as a sidecar's uploads would.
 */
import {
  BlockWriter,
  Encoding,
  compareLabels,
  compareStrings,
  encodeXOR,
  mulberry32,
  newUlid,
  type BlockMeta,
  type Label,
} from "@strata/tsdb";
import { StoreBlockSink } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import { pipelineLayout } from "@strata/pipeline";

const HOUR = 3_600_000;

export interface DemoOptions {
  tenant?: string;
  /**
   * 2h blocks to write (default 5: a full 8h window, which the planner compacts, and one more,
   * because the planner always holds the newest block back, as Thanos does).
   */
  blocks?: number;
  /** Series per block (default 300). */
  series?: number;
  /** Scrape interval, ms (default 15 s). */
  intervalMs?: number;
  /** Clock (ms); the first block starts 8h before the last 8h boundary that leaves room for one more 2h block. */
  now?: number;
}

/** Writes the demo blocks oldest first; returns their metas. */
export async function uploadDemoBlocks(store: ObjectStore, opts: DemoOptions = {}): Promise<BlockMeta[]> {
  const tenant = opts.tenant ?? "demo";
  const n = opts.blocks ?? 5;
  const interval = opts.intervalMs ?? 15_000;
  const boundary = Math.floor(((opts.now ?? Date.now()) - 2 * HOUR) / (8 * HOUR)) * 8 * HOUR;
  const start = boundary - 8 * HOUR;
  const layout = pipelineLayout();
  const out: BlockMeta[] = [];
  for (let b = 0; b < n; b++) {
    const minT = start + b * 2 * HOUR;
    const ulid = newUlid(minT + 2 * HOUR);
    const sink = new StoreBlockSink(store, layout.blockPrefix(tenant, ulid));
    out.push(await writeDemoBlock(sink, ulid, minT, minT + 2 * HOUR, opts.series ?? 300, interval, b + 1));
    await sink.commit();
  }
  return out;
}

/** Request counters, latencies and memory gauges of a few jobs and instances. */
async function writeDemoBlock(
  sink: StoreBlockSink,
  ulid: string,
  minT: number,
  maxT: number,
  nSeries: number,
  interval: number,
  seed: number,
): Promise<BlockMeta> {
  const random = mulberry32(seed);
  const series: Label[][] = [];
  const kinds = ["http_requests_total", "process_resident_memory_bytes", "http_request_duration_seconds_sum"];
  for (let i = 0; series.length < nSeries; i++) {
    const name = kinds[i % kinds.length]!;
    series.push([
      { name: "__name__", value: name },
      { name: "instance", value: `10.0.${Math.floor(i / 30)}.${i % 30}:9090` },
      { name: "job", value: ["api", "web", "worker"][Math.floor(i / 3) % 3]! },
    ]);
  }
  series.sort(compareLabels);
  const w = new BlockWriter(sink);
  const symbols = new Set<string>();
  for (const s of series) for (const l of s) symbols.add(l.name).add(l.value);
  await w.addSymbols([...symbols].sort(compareStrings));
  const len = Math.floor((maxT - minT) / interval);
  const ts = new Float64Array(len);
  const vs = new Float64Array(len);
  for (const labels of series) {
    const counter = labels[0]!.value.endsWith("_total") || labels[0]!.value.endsWith("_sum");
    let v = counter ? Math.floor(random() * 1e4) : 5e8 * (0.5 + random());
    for (let j = 0; j < len; j++) {
      ts[j] = minT + j * interval + Math.floor(random() * 50);
      v = counter ? v + Math.floor(random() * 20) : v * (0.995 + random() * 0.01);
      vs[j] = counter ? v : Math.round(v);
    }
    const chunks = [];
    for (let i = 0; i < len; i += 120) {
      const e = Math.min(len, i + 120);
      chunks.push({
        minTime: ts[i]!,
        maxTime: ts[e - 1]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, e) },
      });
    }
    await w.addSeries(labels, chunks);
  }
  const written = await w.finish({
    ulid,
    minTime: minT,
    maxTime: maxT,
    stats: {},
    compaction: { level: 1, sources: [ulid] },
    version: 1,
    thanos: { labels: { cluster: "demo" }, source: "sidecar", downsample: { resolution: 0 } },
  });
  return written.meta;
}
