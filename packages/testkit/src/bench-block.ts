/**
 * node-exporter-like blocks for benchmarks and tests (no side effects on import): per
 * instance a counter (`node_cpu_seconds_total`) and a gauge (`node_memory_free_bytes`),
 * 120-sample XOR chunks, labels `{__name__, instance, job="node"}`. One writer serves every
 * bench; each says how its data differs (gauges random or a walk, counter resets, jitter).
 */
import { BlockWriter, Encoding, compareStrings, encodeXOR, newUlid } from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";

const METRICS = ["node_cpu_seconds_total", "node_memory_free_bytes"] as const;

/** The benches' PRNG (a 32-bit LCG): cheap, and a stream can run across several blocks. */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

export interface NodeBlockSpec {
  /** The `instance` values; each gets both metrics (written in sorted order). */
  instances: readonly string[];
  samples: number;
  stepMs: number;
  t0: number;
  level: number;
  /** Gauge values: independent random ones, or a walk in 4 KiB steps (compresses like real memory gauges). */
  gauges: "random" | "walk";
  /** Probability per sample that a counter resets to 0. */
  counterResetRate?: number;
  /** Timestamp jitter: "sparse" (5% of samples, up to 50 ms) or "always" (every sample, up to 20 ms). */
  jitter?: "sparse" | "always";
  rnd: () => number;
  /** Default: a new ULID (now: blocks made one after the other sort in that order). */
  ulid?: string;
}

/** Write one block under `parent`; returns its directory. */
export async function writeNodeBlock(parent: string, spec: NodeBlockSpec): Promise<string> {
  const { samples, stepMs, t0, rnd } = spec;
  const sink = new DirBlockSink(parent, spec.ulid ?? newUlid());
  const w = new BlockWriter(sink);
  const instances = [...spec.instances].sort(compareStrings);
  await w.addSymbols(
    [...new Set(["__name__", "instance", "job", "node", ...METRICS, ...instances])].sort(compareStrings),
  );
  const ts = new Float64Array(samples);
  const vs = new Float64Array(samples);
  const resets = spec.counterResetRate ?? 0;
  for (const metric of METRICS) {
    const counter = metric.endsWith("_total");
    for (const instance of instances) {
      let v = counter ? Math.floor(rnd() * 1e6) : spec.gauges === "walk" ? 8e9 : rnd() * 1e9;
      for (let i = 0; i < samples; i++) {
        ts[i] =
          t0 +
          i * stepMs +
          (spec.jitter === "always" ? Math.floor(rnd() * 20) : rnd() < 0.05 ? Math.floor(rnd() * 50) : 0);
        if (counter) v = resets > 0 && rnd() < resets ? 0 : v + Math.floor(rnd() * 100) / 4;
        else v = spec.gauges === "random" ? rnd() * 1e9 : v + Math.floor(rnd() * 2001 - 1000) * 4096;
        vs[i] = v;
      }
      const chunks = [];
      for (let i = 0; i < samples; i += 120) {
        const end = Math.min(samples, i + 120);
        chunks.push({
          minTime: ts[i]!,
          maxTime: ts[end - 1]!,
          chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) },
        });
      }
      await w.addSeries(
        [
          { name: "__name__", value: metric },
          { name: "instance", value: instance },
          { name: "job", value: "node" },
        ],
        chunks,
      );
    }
  }
  await w.finish({
    ulid: sink.ulid,
    minTime: t0,
    maxTime: t0 + samples * stepMs,
    stats: {},
    compaction: { level: spec.level, sources: [sink.ulid] },
    version: 1,
  });
  return sink.commit();
}

/** The read and verify benchmarks' block: `series` instances (two series each) of 6h at 15 s. */
export function makeBenchBlock(parent: string, series = 10_000, samples = 1_440): Promise<string> {
  return writeNodeBlock(parent, {
    instances: Array.from({ length: series }, (_, i) => `instance-${String(i).padStart(6, "0")}`),
    samples,
    stepMs: 15_000,
    t0: 1_700_000_000_000,
    level: 1,
    gauges: "random",
    rnd: lcg(42),
  });
}
