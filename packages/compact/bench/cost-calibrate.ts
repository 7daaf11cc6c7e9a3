/**
 * Where the cost model's compaction throughputs come from (src/cost/constants.ts): compacts
 * blocks of different shapes — many short series, few long ones, overlapping (vertical)
 * inputs, a split into shards — each in a fresh child process, and prints one JSON line per
 * shape with the inputs' sizes, the best of three times and the peak RSS above the child's
 * baseline. Not part of `npm run bench` (no `.bench.ts`): run it by hand when the engine
 * changes, `node packages/compact/bench/cost-calibrate.ts`, and refit the constants.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { readMeta } from "@strata/tsdb";
import { compactBlocks } from "../src/execute/compact.ts";
import { writeBenchBlocks } from "./generate.ts";

interface Shape {
  name: string;
  series: number;
  blocks: number;
  blockMs: number;
  /** Give every block the same time range (vertical merge). */
  overlap?: boolean;
  shards?: number;
}

const H = 3_600_000;
const SHAPES: Shape[] = [
  { name: "3×2h 5k series", series: 5000, blocks: 3, blockMs: 2 * H },
  { name: "3×30m 40k series", series: 40_000, blocks: 3, blockMs: H / 2 },
  { name: "2×8h 2k series", series: 2000, blocks: 2, blockMs: 8 * H },
  { name: "6×2h 5k series", series: 5000, blocks: 6, blockMs: 2 * H },
  { name: "3×2h 5k series, 4 shards", series: 5000, blocks: 3, blockMs: 2 * H, shards: 4 },
  { name: "3×2h 5k series overlapping", series: 5000, blocks: 3, blockMs: 2 * H, overlap: true },
];

async function du(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? await du(p) : (await stat(p)).size;
  }
  return n;
}

/** Child: compact `dirs` three times (after one warm-up), print best seconds and peak RSS. */
async function child(out: string, shards: number, dirs: string[]): Promise<void> {
  const base = process.memoryUsage().rss;
  let best = Infinity;
  for (let i = 0; i < 4; i++) {
    const dir = join(out, `run-${i}`);
    const t0 = performance.now();
    const r = await compactBlocks(
      dirs.map((d) => new DirBlockSource(d)),
      (_s, ulid) => new DirBlockSink(dir, ulid),
      { shards: shards || undefined },
    );
    for (const o of r.outputs) await (o.sink as DirBlockSink).commit();
    const s = (performance.now() - t0) / 1000;
    if (i > 0) best = Math.min(best, s);
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    JSON.stringify({ seconds: best, peakBytes: process.resourceUsage().maxRSS * 1024 - base }) + "\n",
  );
}

async function main(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  for (const shape of SHAPES) {
    const parent = await mkdtemp(join(tmpdir(), "strata-cost-"));
    try {
      const step = 15_000;
      let dirs: string[];
      if (shape.overlap) {
        dirs = [];
        for (let b = 0; b < shape.blocks; b++)
          dirs.push(
            ...(await writeBenchBlocks({
              dir: join(parent, `in-${b}`),
              series: shape.series,
              blocks: 1,
              t0: 1_700_000_000_000 - (1_700_000_000_000 % H) + b * 7,
              stepMs: step,
              blockMs: shape.blockMs,
            })),
          );
      } else {
        dirs = await writeBenchBlocks({
          dir: join(parent, "in"),
          series: shape.series,
          blocks: shape.blocks,
          t0: 1_700_006_400_000,
          stepMs: step,
          blockMs: shape.blockMs,
        });
      }
      let bytes = 0;
      let indexBytes = 0;
      let series = 0;
      let samples = 0;
      let chunks = 0;
      for (const d of dirs) {
        bytes += await du(d);
        indexBytes += (await stat(join(d, "index"))).size;
        const meta = await readMeta(new DirBlockSource(d));
        series += Number(meta.stats.numSeries ?? 0n);
        samples += Number(meta.stats.numSamples ?? 0n);
        chunks += Number(meta.stats.numChunks ?? 0n);
      }
      const r = JSON.parse(
        execFileSync(process.execPath, [self, "--child", join(parent, "out"), String(shape.shards ?? 0), ...dirs], {
          encoding: "utf8",
        }),
      ) as { seconds: number; peakBytes: number };
      process.stdout.write(
        JSON.stringify({ ...shape, bytes, indexBytes, inSeries: series, samples, chunks, ...r }) + "\n",
      );
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }
}

if (import.meta.main) {
  const c = process.argv.indexOf("--child");
  if (c > 0) await child(process.argv[c + 1]!, Number(process.argv[c + 2]), process.argv.slice(c + 3));
  else await main();
}
