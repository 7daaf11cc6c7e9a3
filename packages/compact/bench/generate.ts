/**
 * Benchmark data: consecutive 2h blocks of node-exporter-like series (counters and
 * gauges, 15 s scrapes with a little jitter), written with our writer in 120-sample
 * chunks as a Prometheus head would cut them.
 */
import {
  BlockWriter,
  Encoding,
  compareLabels,
  compareStrings,
  encodeXOR,
  newUlid,
  type ChunkToWrite,
} from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";

export interface BenchBlocksOptions {
  dir: string;
  /** Series per block (half counters, half gauges). */
  series: number;
  blocks: number;
  /** Start of the first block, ms; align to the compaction range under test. */
  t0: number;
  stepMs?: number;
  blockMs?: number;
}

/** Write `blocks` consecutive blocks under `dir`; returns their directories in time order. */
export async function writeBenchBlocks(o: BenchBlocksOptions): Promise<string[]> {
  const step = o.stepMs ?? 15_000;
  const span = o.blockMs ?? 2 * 3600_000;
  const perBlock = Math.floor(span / step);
  const half = Math.ceil(o.series / 2);
  const instances = Array.from({ length: half }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}:9100`);
  const metrics = ["node_cpu_seconds_total", "node_memory_free_bytes"];
  const symbols = [...new Set(["__name__", "instance", "job", "node", ...metrics, ...instances])].sort(compareStrings);
  const rows = metrics
    .flatMap((m) => instances.map((inst) => ({ m, inst })))
    .slice(0, o.series)
    .map(({ m, inst }) => [
      { name: "__name__", value: m },
      { name: "instance", value: inst },
      { name: "job", value: "node" },
    ])
    .sort(compareLabels);
  const ts = new Float64Array(perBlock);
  const vs = new Float64Array(perBlock);
  const last = new Float64Array(rows.length);
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const dirs: string[] = [];
  const chunks: ChunkToWrite[] = [];
  for (let b = 0; b < o.blocks; b++) {
    const minTime = o.t0 + b * span;
    const sink = new DirBlockSink(o.dir, newUlid(minTime + span));
    const w = new BlockWriter(sink);
    await w.addSymbols(symbols);
    for (let s = 0; s < rows.length; s++) {
      const counter = rows[s]![0]!.value.endsWith("_total");
      let v = last[s] || (counter ? Math.floor(rnd() * 1e6) : rnd() * 1e9);
      for (let i = 0; i < perBlock; i++) {
        ts[i] = minTime + i * step + Math.floor(rnd() * 20);
        v = counter ? v + Math.floor(rnd() * 400) / 4 : Math.round(rnd() * 1e6) * 4096;
        vs[i] = v;
      }
      last[s] = v;
      chunks.length = 0;
      for (let i = 0; i < perBlock; i += 120) {
        const end = Math.min(perBlock, i + 120);
        chunks.push({
          minTime: ts[i]!,
          maxTime: ts[end - 1]!,
          chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) },
        });
      }
      await w.addSeries(rows[s]!, chunks);
    }
    await w.finish({
      ulid: sink.ulid,
      minTime,
      maxTime: minTime + span,
      stats: {},
      compaction: { level: 1, sources: [sink.ulid] },
      version: 1,
    });
    dirs.push(await sink.commit());
  }
  return dirs;
}
