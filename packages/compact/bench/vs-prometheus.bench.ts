/**
 * Strata's compaction against Prometheus' own, on the same blocks in one run: thirteen 2h
 * blocks of 5,000 series at 15 s, aligned to 6h. Prometheus 2.42 (`/usr/bin/prometheus`,
 * 127.0.0.1 only, a copy of the blocks, ranges 2h and 6h) compacts four triples of them in
 * its first compaction cycle, about a minute after it starts (the newest block is held
 * back), logging `msg="compact blocks" … duration=` for each; we parse those and read its
 * peak RSS (VmHWM). `strata compact` then compacts the same four triples, one child
 * process each, reporting its own timings and peak RSS; the wall time (Node start-up
 * included) is taken from outside.
 *
 * Like for like: Prometheus' timer starts with its blocks already open (the server passes
 * its open blocks to the compactor), so the headline ratio sets our read + merge + write,
 * after opening, beside it; the ratio with opening included and the wall time are printed
 * too. Medians of the four, to ride out a noisy machine. Targets: ratio ≤ 1.0, our peak
 * ≤ 256 MiB.
 *
 * `--skip-prometheus` (or STRATA_BENCH_SKIP_PROMETHEUS=1) leaves the server out: it is the
 * minute-long part of the bench.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, type BenchResult } from "@strata/bench";
import { readMeta } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import { estimateCompaction, type BlockCost } from "../src/cost/model.ts";
import { writeBenchBlocks } from "./generate.ts";
import { runPrometheusCompactions } from "./prometheus-run.ts";

const SERIES = 5000;
const H2 = 2 * 3600_000;
const H6 = 3 * H2;
const T0 = 78_703 * H6; // 2023-11-14T12:00Z, a multiple of 6h
// The CLI as `npm run bench` bundled it (STRATA_CLI), else the TypeScript sources.
const STRATA = process.env.STRATA_CLI ?? fileURLToPath(new URL("../../cli/bin/strata.js", import.meta.url));
/** Triples compacted by each side; Prometheus compacts them all in its first cycle. */
const TRIPLES = 4;
const BLOCKS = 3 * TRIPLES + 1;

interface Ours {
  wallS: number;
  /** read + merge + write: the scope of Prometheus' timer. */
  openedS: number;
  /** The same with opening the inputs. */
  withOpenS: number;
  peakMiB: number;
  timings: { openMs: number; readMs: number; mergeMs: number; writeMs: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A block's weight for the cost model, from its files and meta (local disk: no S3 transfer). */
async function blockCost(dir: string): Promise<BlockCost> {
  const meta = await readMeta(new DirBlockSource(dir));
  const indexBytes = (await stat(join(dir, "index"))).size;
  return {
    indexBytes,
    chunkBytes: await du(join(dir, "chunks")),
    series: Number(meta.stats.numSeries ?? 0n),
    samples: Number(meta.stats.numSamples ?? 0n),
    chunks: Number(meta.stats.numChunks ?? 0n),
  };
}

/** Bytes under a directory. */
async function du(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? await du(p) : (await stat(p)).size;
  }
  return n;
}

async function runOurs(inputs: string[], out: string): Promise<Ours> {
  const t0 = performance.now();
  const stdout = execFileSync(process.execPath, [STRATA, "compact", ...inputs, "--out", out, "--json"], {
    encoding: "utf8",
  });
  const wallS = (performance.now() - t0) / 1000;
  const j = JSON.parse(stdout) as { timings: Ours["timings"] & { totalMs: number }; peakRssBytes: number };
  const t = j.timings;
  await rm(out, { recursive: true, force: true });
  return {
    wallS,
    openedS: (t.readMs + t.mergeMs + t.writeMs) / 1000,
    withOpenS: (t.openMs + t.readMs + t.mergeMs + t.writeMs) / 1000,
    peakMiB: j.peakRssBytes / 2 ** 20,
    timings: t,
  };
}

async function runPrometheus(
  blocksDir: string,
  parent: string,
): Promise<{ seconds: number[]; peakMiB: number; lines: string[] }> {
  const data = join(parent, "prom-data");
  await cp(blocksDir, data, { recursive: true });
  return runPrometheusCompactions(data, parent, { count: TRIPLES, timeoutMs: 180_000 });
}

async function main(): Promise<void> {
  const skipProm = process.argv.includes("--skip-prometheus") || process.env.STRATA_BENCH_SKIP_PROMETHEUS === "1";
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-compact-"));
  try {
    const blocksDir = join(parent, "blocks");
    const dirs = await writeBenchBlocks({ dir: blocksDir, series: SERIES, blocks: BLOCKS, t0: T0 });
    const triples = Array.from({ length: TRIPLES }, (_, i) => dirs.slice(3 * i, 3 * i + 3));
    const bytes = (await Promise.all(triples[0]!.map((d) => du(d)))).reduce((a, b) => a + b, 0);
    const samples = 3 * SERIES * (H2 / 15_000);
    const prom = skipProm ? undefined : await runPrometheus(blocksDir, parent);
    const ours: Ours[] = [];
    for (let i = 0; i < TRIPLES; i++) ours.push(await runOurs(triples[i]!, join(parent, `strata-out-${i}`)));
    const opened = median(ours.map((o) => o.openedS));
    const withOpen = median(ours.map((o) => o.withOpenS));
    const wall = median(ours.map((o) => o.wallS));
    const peak = Math.max(...ours.map((o) => o.peakMiB));
    const promS = prom ? median(prom.seconds) : NaN;
    // The cost model's estimate of one triple as a job (opening included), against the median with opening.
    const local = { s3ReadBytesPerSecond: Infinity, s3WriteBytesPerSecond: Infinity };
    const estimate = estimateCompaction(await Promise.all(triples[0]!.map(blockCost)), {}, local);
    const results: BenchResult[] = [];
    results.push({
      name: "compact 3×2h, 5k series (strata)",
      samples,
      bytes,
      seconds: opened,
      peakMiB: peak,
      estimateSeconds: estimate.seconds,
      measuredSeconds: withOpen,
      target: prom
        ? `ratio ${(opened / promS).toFixed(2)} vs prometheus (≤ 1.0; ${(withOpen / promS).toFixed(2)} with opening); ≤ 256 MiB`
        : "≤ 256 MiB (prometheus skipped)",
    });
    if (prom) {
      results.push({
        name: "compact 3×2h, 5k series (prometheus)",
        samples,
        bytes,
        seconds: promS,
        peakMiB: prom.peakMiB,
        target: "reference (Prometheus 2.42)",
      });
    }
    const ms = (s: number) => (s * 1000).toFixed(0);
    process.stderr.write(
      ours
        .map((o, i) => {
          const t = o.timings;
          return `strata triple ${i + 1}: ${ms(o.openedS)} ms after opening (read ${t.readMs}, merge ${t.mergeMs}, write ${t.writeMs}), open ${t.openMs} ms, wall ${ms(o.wallS)} ms, peak ${o.peakMiB.toFixed(0)} MiB`;
        })
        .join("\n") +
        `\nstrata medians: ${ms(opened)} ms after opening, ${ms(withOpen)} ms with opening, wall ${ms(wall)} ms incl. Node start-up\n` +
        `cost model: ${ms(estimate.seconds)} ms estimated for a triple (with opening), ${(estimate.seconds / withOpen).toFixed(2)}× the measured; peak ${(estimate.peakBytes / 2 ** 20).toFixed(0)} MiB above the runtime estimated\n` +
        (prom
          ? `prometheus: ${prom.seconds.map(ms).join(", ")} ms (median ${ms(promS)}), peak ${prom.peakMiB.toFixed(0)} MiB (server total)\n` +
            `ratios (median / median): ${(opened / promS).toFixed(2)} like for like, ${(withOpen / promS).toFixed(2)} with opening, ${(wall / promS).toFixed(2)} wall\n` +
            prom.lines.map((l) => `  ${l}`).join("\n") +
            "\n"
          : ""),
    );
    emit(results);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
