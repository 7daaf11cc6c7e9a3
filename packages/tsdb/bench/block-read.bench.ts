/**
 * Reading a whole block from disk through the ByteSource port: every series and every chunk's
 * bytes (the path verification and compaction take), then the same plus decoding every sample.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BlockReader } from "../src/block/reader.ts";
import { BlockWriter } from "../src/block/writer.ts";
import { Encoding } from "../src/chunkenc/chunk.ts";
import { decodeXOR, encodeXOR } from "../src/chunkenc/xor.ts";
import { compareStrings } from "../src/encoding/utf8.ts";
import { newUlid } from "../src/meta/ulid.ts";
import { DirBlockSink, DirBlockSource } from "../src/node/fs.ts";
import { emit, markBaseline, type BenchResult } from "@strata/bench";

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
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
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
        chunks.push({ minTime: ts[i], maxTime: ts[end - 1], chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) } });
      }
      await w.addSeries(
        [
          { name: "__name__", value: metric },
          { name: "instance", value: names[s] },
          { name: "job", value: "node" },
        ],
        chunks,
      );
    }
  }
  await w.finish({ ulid: sink.ulid, minTime: T0, maxTime: T0 + samples * STEP, stats: {}, compaction: { level: 1, sources: [sink.ulid] }, version: 1 });
  return sink.commit();
}

export async function benchBlockRead(): Promise<BenchResult[]> {
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-"));
  try {
    // Built in a child process so this process's peak memory is the reader's alone.
    const dir = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--make", parent], { encoding: "utf8" }).trim();
    const results: BenchResult[] = [];
    for (const decode of [false, true]) {
      let best = Infinity;
      let bytes = 0;
      let samples = 0;
      for (let run = 0; run < 3; run++) {
        const t0 = performance.now();
        const r = await BlockReader.open(new DirBlockSource(dir));
        bytes = r.index.size + r.chunks.segments.reduce((a, s) => a + s.size, 0);
        samples = 0;
        let ts = new Float64Array(256);
        let vs = new Float64Array(256);
        for await (const s of r.series()) {
          for (const c of s.chunks) {
            const data = c.chunk!.data;
            if (decode) {
              const n = (data[0] << 8) | data[1];
              if (n > ts.length) (ts = new Float64Array(n)), (vs = new Float64Array(n));
              samples += decodeXOR(data, ts, vs);
            } else samples += (data[0] << 8) | data[1];
          }
        }
        await r.close();
        best = Math.min(best, (performance.now() - t0) / 1000);
      }
      results.push({
        name: decode ? "block read + decode all samples" : "block read (series + chunk bytes)",
        samples,
        bytes,
        seconds: best,
        target: decode ? undefined : "≥ 200 MB/s",
      });
    }
    return results;
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const make = process.argv.indexOf("--make");
  if (make > 0) process.stdout.write((await makeBenchBlock(process.argv[make + 1])) + "\n");
  else {
    markBaseline();
    emit(await benchBlockRead());
  }
}
