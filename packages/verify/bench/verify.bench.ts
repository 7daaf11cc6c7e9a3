/**
 * Verifying a healthy block from disk: every index section, every chunk read, CRC-checked
 * and decoded, postings cross-checked. The block (~50 MB) is built in a child process so
 * this process's peak memory is the verifier's alone.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirBlockSource } from "@strata/tsdb/node";
import { emit, markBaseline, type BenchResult } from "@strata/bench";
import { makeBenchBlock } from "@strata/testkit";
import { verifyBlock } from "../src/verify.ts";
import { estimateVerification } from "@strata/compact";

const SERIES = 3_600; // × 2 metrics × 1440 samples ≈ 50 MB of index + chunks

export async function benchVerify(): Promise<BenchResult[]> {
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-"));
  try {
    const dir = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--make", parent], {
      encoding: "utf8",
    }).trim();
    let best = Infinity;
    let bytes = 0;
    let samples = 0;
    let estimate = 0;
    for (let run = 0; run < 4; run++) {
      const t0 = performance.now();
      const r = await verifyBlock(new DirBlockSource(dir));
      const s = (performance.now() - t0) / 1000;
      if (!r.ok || r.problems.length)
        throw new Error(`bench block did not verify: ${JSON.stringify(r.problems.slice(0, 3))}`);
      bytes = r.stats.indexBytes + r.stats.chunkBytes;
      samples = r.stats.samples;
      estimate = estimateVerification(
        {
          indexBytes: r.stats.indexBytes,
          chunkBytes: r.stats.chunkBytes,
          series: 2 * SERIES,
          samples: r.stats.samples,
          chunks: 0,
        },
        { s3ReadBytesPerSecond: Infinity },
      ).seconds;
      best = Math.min(best, s);
    }
    // Peak memory of one verification in a fresh process (the timed runs above share a heap,
    // so their peak would include earlier runs' garbage).
    // It is also what a verify job is (a fresh process, opening included): the cost model's estimate is set beside its
    // time.
    const once = JSON.parse(
      execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--once", dir], { encoding: "utf8" }),
    ) as { peakMiB: number; baseMiB: number; seconds: number };
    const peakMB = (once.peakMiB * 2 ** 20) / 1e6;
    return [
      {
        name: "verify healthy block (all checks)",
        samples,
        bytes,
        seconds: best,
        peakMiB: once.peakMiB,
        baseMiB: once.baseMiB,
        estimateSeconds: estimate,
        measuredSeconds: once.seconds,
        target: `≥ 100 MB/s, < 100 MB peak (one verification: ${peakMB.toFixed(1)} MB, ${once.seconds.toFixed(3)} s in a fresh process: est/meas against that)`,
      },
    ];
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const make = process.argv.indexOf("--make");
  const once = process.argv.indexOf("--once");
  if (make > 0) process.stdout.write((await makeBenchBlock(process.argv[make + 1]!, SERIES)) + "\n");
  else if (once > 0) {
    const baseMiB = process.memoryUsage().rss / 2 ** 20;
    const t0 = performance.now();
    const r = await verifyBlock(new DirBlockSource(process.argv[once + 1]!));
    const seconds = (performance.now() - t0) / 1000;
    if (!r.ok) throw new Error("bench block did not verify");
    process.stdout.write(JSON.stringify({ peakMiB: process.resourceUsage().maxRSS / 1024, baseMiB, seconds }) + "\n");
  } else {
    markBaseline();
    emit(await benchVerify());
  }
}
