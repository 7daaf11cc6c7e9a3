/** Builds the realistic block the read and verify benchmarks use (no side effects on import). */
import { BlockWriter, Encoding, compareStrings, encodeXOR, newUlid } from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";

const SERIES = 10_000;
const SAMPLES = 1_440; // 6h at 15s
const STEP = 15_000;
const T0 = 1_700_000_000_000;

/** Write a realistic block (counters and gauges, 120-sample chunks) and return its directory. */
export async function makeBenchBlock(parent: string, series = SERIES, samples = SAMPLES): Promise<string> {
  const sink = new DirBlockSink(parent, newUlid());
  const w = new BlockWriter(sink);
  const names = Array.from({ length: series }, (_, i) => `instance-${String(i).padStart(6, "0")}`);
  const metrics = ["node_cpu_seconds_total", "node_memory_free_bytes"];
  const symbols = new Set<string>(["__name__", "instance", "job", "node", ...metrics, ...names]);
  await w.addSymbols([...symbols].sort(compareStrings));
  const ts = new Float64Array(samples);
  const vs = new Float64Array(samples);
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (const metric of metrics) {
    for (let s = 0; s < series; s++) {
      let v = metric.endsWith("_total") ? Math.floor(rnd() * 1e6) : rnd() * 1e9;
      for (let i = 0; i < samples; i++) {
        ts[i] = T0 + i * STEP + (rnd() < 0.05 ? Math.floor(rnd() * 50) : 0);
        v = metric.endsWith("_total") ? v + Math.floor(rnd() * 100) / 4 : rnd() * 1e9;
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
          { name: "instance", value: names[s]! },
          { name: "job", value: "node" },
        ],
        chunks,
      );
    }
  }
  await w.finish({
    ulid: sink.ulid,
    minTime: T0,
    maxTime: T0 + samples * STEP,
    stats: {},
    compaction: { level: 1, sources: [sink.ulid] },
    version: 1,
  });
  return sink.commit();
}
