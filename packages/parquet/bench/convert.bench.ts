/**
 * Conversion to parquet-common's Parquet beside compaction, on the same data: three 8h blocks
 * of node-exporter-like series (counters with resets and gauges, 30 s scrapes) are compacted
 * into one 24h block (Strata's compactor), and that 24h block is converted (8h data columns,
 * Cortex's defaults). Each run is its own child process, so its peak memory is its own; the
 * two modes alternate for ROUNDS rounds and the medians are reported, wall and process CPU,
 * with the ratio convert / compact (issue 18's target: ≤ 2×, warned about on stderr), and the
 * conversion again with column chunks in scratch files (spillDir) for its peak memory.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";
import { type BenchResult, emit } from "@strata/bench";
import { compactBlocks } from "@strata/compact";
import { lcg, writeNodeBlock } from "@strata/testkit";
import { DirBlockSink, DirBlockSource, FileSink } from "@strata/tsdb/node";
import { convertBlock } from "../src/index.ts";

const SERIES = 6_000;
const STEP = 30_000;
const BLOCK_MS = 8 * 3600_000;
const T0 = 1_700_006_400_000; // a multiple of 24h
const ROUNDS = 3;
const self = fileURLToPath(import.meta.url);

export async function makeInputs(parent: string): Promise<string[]> {
  const instances = Array.from({ length: SERIES / 2 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}:9100`);
  const rnd = lcg(11); // one stream across the three blocks
  const dirs: string[] = [];
  for (let b = 0; b < 3; b++) {
    const t0 = T0 + b * BLOCK_MS;
    dirs.push(
      await writeNodeBlock(parent, {
        instances,
        samples: BLOCK_MS / STEP,
        stepMs: STEP,
        t0,
        level: 1,
        gauges: "walk",
        counterResetRate: 0.001,
        jitter: "always",
        rnd,
      }),
    );
  }
  return dirs;
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  }
  return total;
}

interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  peakMiB: number;
  samples: number;
  outBytes: number;
  out: string;
}

/** One measured run in this (child) process. */
async function child(mode: string, out: string, inputs: string[]): Promise<ChildResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let samples = 0;
  let dir = out;
  if (mode === "compact") {
    const r = await compactBlocks(
      inputs.map((d) => new DirBlockSource(d)),
      (_s, ulid) => new DirBlockSink(out, ulid),
    );
    for (const o of r.outputs) {
      dir = await (o.sink as DirBlockSink).commit();
      samples += Number(o.meta.stats.numSamples ?? 0);
    }
  } else {
    // convert-spill: column chunks wait in scratch files instead of memory.
    const spillDir = mode === "convert-spill" ? await mkdtemp(join(tmpdir(), "strata-convert-spill-")) : undefined;
    await convertBlock(
      new DirBlockSource(inputs[0]!),
      { create: (name) => FileSink.create(join(out, name)) },
      { spillDir },
    );
    if (spillDir) await rm(spillDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  return {
    seconds,
    cpuSeconds: (c.user + c.system) / 1e6,
    peakMiB: process.resourceUsage().maxRSS / 1024,
    samples,
    outBytes: await dirBytes(out),
    out: dir,
  };
}

function run(mode: string, out: string, inputs: string[]): ChildResult {
  const text = execFileSync(process.execPath, [self, "--child", mode, out, ...inputs], { encoding: "utf8" });
  return JSON.parse(text.trim().split("\n").pop()!) as ChildResult;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), "strata-convert-bench-"));
  try {
    const inputs = await makeInputs(parent);
    const compacted: ChildResult[] = [];
    const converted: ChildResult[] = [];
    const spilled: ChildResult[] = [];
    let block = "";
    for (let round = 0; round < ROUNDS; round++) {
      const cOut = await mkdtemp(join(parent, "compact-"));
      const c = run("compact", cOut, inputs);
      compacted.push(c);
      block = c.out;
      const pOut = await mkdtemp(join(parent, "parquet-"));
      converted.push(run("convert", pOut, [block]));
      spilled.push(run("convert-spill", await mkdtemp(join(parent, "spill-")), [block]));
    }
    const samples = compacted[0]!.samples;
    const inBytes = await dirBytes(block);
    const cWall = median(compacted.map((r) => r.seconds));
    const pWall = median(converted.map((r) => r.seconds));
    const cCpu = median(compacted.map((r) => r.cpuSeconds));
    const pCpu = median(converted.map((r) => r.cpuSeconds));
    const results: BenchResult[] = [
      {
        name: `compact 3x8h -> 24h, ${SERIES} series (median of ${ROUNDS}; cpu ${cCpu.toFixed(2)} s)`,
        samples,
        bytes: inBytes,
        seconds: cWall,
        peakMiB: median(compacted.map((r) => r.peakMiB)),
      },
      {
        name: `convert 24h -> parquet (median of ${ROUNDS}; cpu ${pCpu.toFixed(2)} s; ${converted[0]!.outBytes} bytes out)`,
        samples,
        bytes: inBytes,
        seconds: pWall,
        peakMiB: median(converted.map((r) => r.peakMiB)),
        target: `<= 2x compaction: wall ${(pWall / cWall).toFixed(2)}x, cpu ${(pCpu / cCpu).toFixed(2)}x`,
      },
      {
        name: `convert 24h -> parquet, spillDir (median of ${ROUNDS}; cpu ${median(spilled.map((r) => r.cpuSeconds)).toFixed(2)} s)`,
        samples,
        bytes: inBytes,
        seconds: median(spilled.map((r) => r.seconds)),
        peakMiB: median(spilled.map((r) => r.peakMiB)),
      },
    ];
    emit(results);
    if (pCpu / cCpu > 2)
      process.stderr.write(`convert bench: conversion CPU ${(pCpu / cCpu).toFixed(2)}x compaction's (target <= 2x)\n`);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main && isMainThread) {
  const at = process.argv.indexOf("--child");
  if (at >= 0) {
    const [mode, out, ...inputs] = process.argv.slice(at + 1);
    process.stdout.write(`${JSON.stringify(await child(mode!, out!, inputs))}\n`);
  } else {
    await main();
  }
}
