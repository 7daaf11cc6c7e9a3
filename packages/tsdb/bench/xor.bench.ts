import { decodeXOR, encodeXOR, XORIterator } from "../src/chunkenc/xor.ts";
import { emit, type BenchResult as HarnessResult } from "@strata/bench";
import { mulberry32 } from "@strata/testkit";

/**
 * XOR chunk codec throughput on a realistic mix of 120-sample chunks: counters scraped
 * every 15 s (integer and fractional increments, some scrape jitter), random-float
 * gauges, constant series and irregularly timed series.
 */

export interface XorBenchResult extends HarnessResult {
  samplesPerSec: number;
  mbPerSec: number;
}

const SAMPLES_PER_CHUNK = 120;

export interface XorDataSet {
  ts: Float64Array;
  vs: Float64Array;
  chunks: number;
}

/** `chunks` chunks of 120 samples, laid out back to back in ts/vs. */
export function makeXorDataSet(chunks: number, seed = 42): XorDataSet {
  const rnd = mulberry32(seed);
  const n = chunks * SAMPLES_PER_CHUNK;
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  const base = 1_700_000_000_000;
  for (let c = 0; c < chunks; c++) {
    const kind = rnd();
    const off = c * SAMPLES_PER_CHUNK;
    let t = base + Math.floor(rnd() * 15_000);
    let v = Math.floor(rnd() * 1e6);
    for (let i = 0; i < SAMPLES_PER_CHUNK; i++) {
      let step = 15_000;
      if (kind < 0.35) {
        // Integer counter, regular scrapes, 5% of scrapes a few ms late or early.
        if (rnd() < 0.05) step += Math.floor(rnd() * 40) - 20;
        v += Math.floor(rnd() * 10);
      } else if (kind < 0.45) {
        // Fractional counter (e.g. CPU seconds).
        v += rnd() * 15;
      } else if (kind < 0.7) {
        // Gauge of random floats.
        v = rnd() * 1000;
      } else if (kind < 0.85) {
        // Constant series (up/info-style metrics).
        v = 1;
      } else {
        // Irregular timestamps, slowly moving quantised gauge.
        step = 5_000 + Math.floor(rnd() * 20_000);
        if (rnd() < 0.3) v += (Math.floor(rnd() * 5) - 2) * 0.5;
      }
      t += step;
      ts[off + i] = t;
      vs[off + i] = v;
    }
  }
  return { ts, vs, chunks };
}

function now(): number {
  return performance.now() / 1000;
}

function result(name: string, samples: number, seconds: number, bytes: number, target: string): XorBenchResult {
  return { name, samples, bytes, seconds, samplesPerSec: samples / seconds, mbPerSec: bytes / seconds / 1e6, target };
}

export async function benchXor(chunks = 90_000, runs = 5): Promise<XorBenchResult[]> {
  const { ts, vs } = makeXorDataSet(chunks);
  const n = chunks * SAMPLES_PER_CHUNK;
  const encoded: Uint8Array[] = new Array(chunks);
  const tOut = new Float64Array(SAMPLES_PER_CHUNK);
  const vOut = new Float64Array(SAMPLES_PER_CHUNK);

  const encodeAll = (): number => {
    let bytes = 0;
    for (let c = 0; c < chunks; c++) {
      const b = encodeXOR(ts, vs, c * SAMPLES_PER_CHUNK, (c + 1) * SAMPLES_PER_CHUNK);
      encoded[c] = b;
      bytes += b.length;
    }
    return bytes;
  };
  const decodeAll = (): number => {
    let got = 0;
    for (let c = 0; c < chunks; c++) got += decodeXOR(encoded[c]!, tOut, vOut);
    return got;
  };
  const it = new XORIterator();
  const iterateAll = (): number => {
    let got = 0;
    for (let c = 0; c < chunks; c++) {
      it.reset(encoded[c]!);
      while (it.next()) got++;
    }
    return got;
  };

  // Warm up (lets the JIT optimise every path) before timing.
  encodeAll();
  for (let r = 0; r < 3; r++) {
    decodeAll();
    iterateAll();
  }
  await Promise.resolve();

  // Best of several timed runs: the machine is shared, and the fastest run is the one
  // least disturbed by other processes.
  const best = (f: () => number): { seconds: number; value: number } => {
    let seconds = Infinity;
    let value = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      value = f();
      seconds = Math.min(seconds, now() - t0);
    }
    return { seconds, value };
  };
  const enc = best(encodeAll);
  const dec = best(decodeAll);
  const itr = best(iterateAll);
  const bytes = enc.value;
  const out = [
    result("xor encode (120-sample chunks)", n, enc.seconds, bytes, "≥ 20 M samples/s"),
    result("xor decode (120-sample chunks)", dec.value, dec.seconds, bytes, "≥ 50 M samples/s"),
    result("xor iterate (XORIterator)", itr.value, itr.seconds, bytes, ""),
  ];
  const got = itr.value;
  if (got !== n || dec.value !== n) throw new Error(`bench decoded ${got} samples, expected ${n}`);
  return out;
}

if (import.meta.main) {
  const rows = await benchXor();
  // A table for people; JSON lines (via emit) for bench/run.ts, which ignores the rest.
  console.log(
    `${"benchmark".padEnd(32)}${"samples".padStart(11)}${"seconds".padStart(9)}${"M/s".padStart(8)}${"MB/s".padStart(8)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(32)}${String(r.samples).padStart(11)}${r.seconds.toFixed(3).padStart(9)}${(r.samplesPerSec / 1e6).toFixed(1).padStart(8)}${r.mbPerSec.toFixed(1).padStart(8)}`,
    );
  }
  emit(rows);
}
