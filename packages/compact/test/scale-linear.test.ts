/**
 * Compaction scales linearly with the series count (issue 17): three inputs of n and of 4n
 * node-exporter-like series (a distinct instance label value per pair of series, so the
 * symbol table, postings and lookups all grow with n) compacted into a discarding sink.
 * Linear work takes ~4× as long at 4n; a quadratic step (a lookup that scans, a sort per
 * series, a postings list rebuilt per series) takes ~16×. The bound, 10×, leaves room for a
 * noisy shared CI machine: best of three runs of each size. The `npm run bench -- scale`
 * bench measures the same at 200k and 1M series per block against Prometheus.
 */
import { describe, expect, it } from "vitest";
import { MemoryBlock, type BlockSink, type ByteSink } from "@strata/tsdb";
import { compactBlocks } from "../src/index.ts";
import { writeBlock, type SeriesSpec } from "../bench/blocks.ts";

const H2 = 2 * 3600_000;
const T0 = 1_700_006_400_000;
const N = 4000;
const BOUND = 10;

class CountingSink implements BlockSink {
  bytes = 0;
  async create(): Promise<ByteSink> {
    return { write: async (b) => void (this.bytes += b.length), close: async () => {} };
  }
}

async function inputs(n: number): Promise<MemoryBlock[]> {
  const blocks: MemoryBlock[] = [];
  for (let b = 0; b < 3; b++) {
    const t0 = T0 + b * H2;
    const series: SeriesSpec[] = [];
    for (let i = 0; i < n; i++) {
      const counter = i % 2 === 0;
      const samples = Array.from({ length: 16 }, (_, k): [number, number] => [t0 + k * 450_000, counter ? i + k : k]);
      series.push({
        labels: {
          __name__: counter ? "node_cpu_seconds_total" : "node_memory_free_bytes",
          instance: `10.0.${Math.floor(i / 500)}.${(i >> 1) % 250}:9100`,
          job: "node",
        },
        samples,
      });
    }
    const block = new MemoryBlock(`in-${n}-${b}`);
    await writeBlock(block, series, { minTime: t0, maxTime: t0 + H2 });
    blocks.push(block);
  }
  return blocks;
}

async function bestSeconds(blocks: MemoryBlock[], runs: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const sink = new CountingSink();
    const t0 = performance.now();
    const res = await compactBlocks(blocks, () => sink);
    best = Math.min(best, (performance.now() - t0) / 1000);
    expect(res.counters.seriesWritten).toBeGreaterThan(0);
    expect(sink.bytes).toBeGreaterThan(0);
  }
  return best;
}

describe("compaction scales linearly (issue 17)", () => {
  it(`takes < ${BOUND}× as long for 4× the series`, async () => {
    const small = await inputs(N);
    const large = await inputs(4 * N);
    await bestSeconds(small, 1); // warm-up: JIT
    const ts = await bestSeconds(small, 3);
    const tl = await bestSeconds(large, 3);
    const ratio = tl / ts;
    if (process.env.STRATA_SCALE_REPORT === "1")
      console.log(`n=${N}: ${(ts * 1e3).toFixed(1)} ms, 4n: ${(tl * 1e3).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeLessThan(BOUND);
  }, 120_000);
});
