/**
 * The scale bench (`npm run bench -- scale`, opt-in: never in CI nor a plain `npm run bench`):
 * three 2h blocks of node-exporter-like series at 15 s, compacted by `strata compact` (the
 * bundled CLI, one process) and by Prometheus 2.42 in the same run, then the output
 * verified (`strata verify`) and downsampled to 5m (`strata downsample`).
 *
 *   npm run bench -- scale                              # 200k and 1M series per block
 *   npm run bench -- scale --series 200000              # one size (repeat or comma-separate)
 *   npm run bench -- scale --skip-prometheus
 *   npm run bench -- scale --series 1m --runs 3         # strata's figures: median of three
 *
 * Like for like: before each side runs, `sync` flushes the dirty pages the previous one left
 * (else a compactor pays for the other's writeback), Prometheus gets hard links to the
 * cached blocks (no 7 GB copy evicting them from the page cache) and its output is deleted
 * before ours runs. Prometheus' figure is its logged `compact blocks … duration=` (blocks
 * already open), ours the whole process (Node start-up, opening, read, merge, write);
 * peak memory is VmHWM for Prometheus (the whole server) and /usr/bin/time's max RSS for
 * ours (`--runs N`: N compactions, the median's times and the largest peak). Targets: whole process ≤ 0.5× Prometheus' time and peak ≤ 25% of its peak; memory
 * per series is printed (peak / series, and the slope between two sizes).
 *
 * Inputs are cached on disk (scale-blocks.ts); the first 1M run writes ~6.8 GB.
 * `--store disk` is the only store here: `storeFor` is the hook where the shaped-S3 mode
 * (emulator with latency and bandwidth) maps block directories to URLs.
 */
import { execFileSync, spawn } from "node:child_process";
import { link, mkdir, mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, type BenchResult } from "@strata/bench";
import { runPrometheusCompactions } from "./prometheus-run.ts";
import { scaleBlocks } from "./scale-blocks.ts";

const LAUNCHER = fileURLToPath(new URL("../../cli/bin/strata.js", import.meta.url));
const STRATA = process.env.STRATA_CLI ?? LAUNCHER;
const SAMPLES_PER_SERIES = (3 * 2 * 3600) / 15;
/** Targets of issue 17. */
const TIME_RATIO = 0.5;
const MEMORY_RATIO = 0.25;

const log = (s: string) => process.stderr.write(`scale: ${s}\n`);

interface Args {
  series: number[];
  skipProm: boolean;
  /** Strata compactions per size (the median is reported; Prometheus runs once). */
  runs: number;
  store: string;
}

function parseArgs(argv: readonly string[]): Args {
  const series: number[] = [];
  let runs = 1;
  let store = process.env.STRATA_BENCH_STORE ?? "disk";
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--series")
      for (const v of value().split(",")) {
        const n = Number(v.replace(/k$/i, "000").replace(/m$/i, "000000"));
        if (!Number.isSafeInteger(n) || n < 2) throw new Error(`--series: expected a count ≥ 2, got ${v}`);
        series.push(n);
      }
    else if (flag === "--store") store = value();
    else if (flag === "--runs") runs = Math.max(1, Number.parseInt(value(), 10) || 1);
  }
  const skipProm = argv.includes("--skip-prometheus") || process.env.STRATA_BENCH_SKIP_PROMETHEUS === "1";
  return { series: series.length ? series : [200_000, 1_000_000], skipProm, store, runs };
}

/** How the CLI reaches the blocks and where it writes: the hook for the shaped-S3 mode. */
interface Store {
  blockArg(dir: string): Promise<string>;
  outArg(dir: string): Promise<string>;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

async function storeFor(kind: string): Promise<Store> {
  if (kind === "disk")
    return { blockArg: async (d) => d, outArg: async (d) => d, env: process.env, close: async () => {} };
  throw new Error(`--store ${kind}: only "disk" is implemented here (emulator and shaped S3 plug into storeFor)`);
}

interface Measured {
  wallS: number;
  peakMiB: number;
  stdout: string;
}

/** Run the CLI under /usr/bin/time: wall time and the child's own max RSS. */
function strata(args: string[], env: NodeJS.ProcessEnv, tmp: string, cli = STRATA): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const timeFile = join(tmp, "time.txt");
    const t0 = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "%M", "-o", timeFile, process.execPath, cli, ...args], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    child.on("error", reject);
    child.on("exit", async (code) => {
      const wallS = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`strata ${args[0]} exited ${code}:\n${stdout.slice(-2000)}`));
      const kb = Number((await readFile(timeFile, "utf8")).trim().split("\n").at(-1));
      resolve({ wallS, peakMiB: kb / 1024, stdout });
    });
  });
}

/** A tree of hard links: Prometheus deletes its inputs after compacting, never edits them in place. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isDirectory()) await linkTree(join(from, e.name), join(to, e.name));
    else await link(join(from, e.name), join(to, e.name));
  }
}

/** Prometheus compacts the triple in its first cycle (~1 min after start); its logged duration and VmHWM. */
async function runPrometheus(blocksDir: string, tmp: string): Promise<{ seconds: number; peakMiB: number }> {
  const data = join(tmp, "prom-data");
  await linkTree(blocksDir, data);
  try {
    const r = await runPrometheusCompactions(data, tmp, { count: 1, timeoutMs: 900_000 });
    return { seconds: r.seconds[0]!, peakMiB: r.peakMiB };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

async function du(p: string): Promise<number> {
  const s = await stat(p);
  if (!s.isDirectory()) return s.size;
  let n = 0;
  for (const e of await readdir(p)) n += await du(join(p, e));
  return n;
}

interface Row {
  series: number;
  inputBytes: number;
  compact: Measured & { timings: Record<string, number> };
  prom: { seconds: number; peakMiB: number } | undefined;
  verify: Measured;
  downsample: Measured;
}

async function runSize(series: number, a: Args, store: Store): Promise<Row> {
  const blocks = await scaleBlocks(series, log);
  const inputBytes = (await Promise.all(blocks.triple.map(du))).reduce((x, y) => x + y, 0);
  const tmp = await mkdtemp(join(tmpdir(), "strata-scale-run-"));
  const sync = () => execFileSync("sync");
  try {
    sync();
    let prom: Row["prom"];
    if (!a.skipProm) {
      log(`${series} series: prometheus (waits for its first compaction cycle, ~1 min)`);
      prom = await runPrometheus(blocks.dir, tmp);
      sync();
    }
    const inputs = await Promise.all(blocks.triple.map((d) => store.blockArg(d)));
    const all: { m: Measured; timings: Record<string, number>; out: string }[] = [];
    for (let i = 0; i < a.runs; i++) {
      // Only the last output stays (verified below): input plus two 7 GB outputs would push
      // the input out of the page cache and the run would read from disk.
      if (i > 0) await rm(all[i - 1]!.out, { recursive: true, force: true });
      sync();
      log(`${series} series: strata compact${a.runs > 1 ? ` (${i + 1}/${a.runs})` : ""}`);
      const out = join(tmp, `strata-out-${i}`);
      const m = await strata(["compact", ...inputs, "--out", await store.outArg(out), "--json"], store.env, tmp);
      const report = JSON.parse(m.stdout) as { outputs: { dir: string }[]; timings: Record<string, number> };
      all.push({ m, timings: report.timings, out: report.outputs[0]!.dir });
    }
    sync();
    // The median run by wall time, with the largest peak of all.
    const med = [...all].sort((x, y) => x.m.wallS - y.m.wallS)[(all.length - 1) >> 1]!;
    const c = { ...med.m, peakMiB: Math.max(...all.map((x) => x.m.peakMiB)) };
    const report = { timings: med.timings };
    if (a.runs > 1)
      log(
        `${series} series: strata runs ${all.map((x) => `${x.m.wallS.toFixed(1)} s/${x.m.peakMiB.toFixed(0)} MiB`).join(", ")}`,
      );
    const outBlock = all.at(-1)!.out;
    log(`${series} series: strata verify`);
    const verify = await strata(["verify", outBlock], store.env, tmp);
    log(`${series} series: strata downsample 5m`);
    const downsample = await strata(
      ["downsample", outBlock, "--resolution", "5m", "--out", await store.outArg(join(tmp, "ds"))],
      store.env,
      tmp,
      // The runner's one-file CLI bundle does not serve downsampling worker threads (they
      // load it and exit); the installed launcher's per-command bundle does.
      LAUNCHER,
    );
    return { series, inputBytes, compact: { ...c, timings: report.timings }, prom, verify, downsample };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const store = await storeFor(a.store);
  const rows: Row[] = [];
  try {
    for (const n of a.series) rows.push(await runSize(n, a, store));
  } finally {
    await store.close();
  }
  const results: BenchResult[] = [];
  const k = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`);
  const s1 = (x: number) => x.toFixed(1);
  process.stderr.write(
    `\nstore: ${a.store}; strata: median of ${a.runs} run(s) per size, Prometheus: one; the machine is shared (load average ${(await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ")})\n` +
      "| series | input | strata whole process (open, read, merge, write) | Prometheus logged | ratio | strata peak | Prometheus peak | ratio | B/series | verify | downsample 5m |\n" +
      "|---|---|---|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of rows) {
    const t = r.compact.timings;
    const ratio = r.prom ? r.compact.wallS / r.prom.seconds : Number.NaN;
    const mem = r.prom ? r.compact.peakMiB / r.prom.peakMiB : Number.NaN;
    const perSeries = (r.compact.peakMiB * 2 ** 20) / r.series;
    process.stderr.write(
      `| ${k(r.series)} | ${(r.inputBytes / 1e9).toFixed(2)} GB | ${s1(r.compact.wallS)} s (${s1(t.openMs! / 1e3)}, ${s1(t.readMs! / 1e3)}, ${s1(t.mergeMs! / 1e3)}, ${s1(t.writeMs! / 1e3)}) | ${r.prom ? `${s1(r.prom.seconds)} s` : "-"} | ${ratio.toFixed(2)} (≤ ${TIME_RATIO}) | ${r.compact.peakMiB.toFixed(0)} MiB | ${r.prom ? `${r.prom.peakMiB.toFixed(0)} MiB` : "-"} | ${mem.toFixed(2)} (≤ ${MEMORY_RATIO}) | ${perSeries.toFixed(0)} | ${s1(r.verify.wallS)} s, ${r.verify.peakMiB.toFixed(0)} MiB | ${s1(r.downsample.wallS)} s, ${r.downsample.peakMiB.toFixed(0)} MiB |\n`,
    );
    const samples = 3 * r.series * SAMPLES_PER_SERIES;
    results.push({
      name: `scale compact ${k(r.series)} series (strata)`,
      samples,
      bytes: r.inputBytes,
      seconds: r.compact.wallS,
      peakMiB: r.compact.peakMiB,
      target: r.prom
        ? `time ${ratio.toFixed(2)}× prometheus (≤ ${TIME_RATIO})${ratio > TIME_RATIO ? " MISSED" : ""}; memory ${mem.toFixed(2)}× (≤ ${MEMORY_RATIO})${mem > MEMORY_RATIO ? " MISSED" : ""}`
        : "prometheus skipped",
    });
    if (r.prom)
      results.push({
        name: `scale compact ${k(r.series)} series (prometheus)`,
        samples,
        bytes: r.inputBytes,
        seconds: r.prom.seconds,
        peakMiB: r.prom.peakMiB,
        target: "reference (Prometheus 2.42, logged duration)",
      });
    results.push({
      name: `scale verify ${k(r.series)} series`,
      samples,
      bytes: r.inputBytes,
      seconds: r.verify.wallS,
      peakMiB: r.verify.peakMiB,
    });
    results.push({
      name: `scale downsample 5m ${k(r.series)} series`,
      samples,
      bytes: r.inputBytes,
      seconds: r.downsample.wallS,
      peakMiB: r.downsample.peakMiB,
    });
  }
  // Memory that grows with the series count: the slope between the smallest and largest size.
  if (rows.length >= 2) {
    const lo = rows[0]!;
    const hi = rows.at(-1)!;
    const slope = ((hi.compact.peakMiB - lo.compact.peakMiB) * 2 ** 20) / (hi.series - lo.series);
    process.stderr.write(
      `compaction memory grows ${slope.toFixed(0)} bytes per series per block from ${k(lo.series)} to ${k(hi.series)} (symbols, postings and the readers' tables)\n`,
    );
  }
  for (const r of rows) {
    if (!r.prom) continue;
    if (r.compact.wallS > TIME_RATIO * r.prom.seconds)
      process.stderr.write(
        `WARNING: ${k(r.series)} series: strata ${s1(r.compact.wallS)} s > ${TIME_RATIO}× prometheus' ${s1(r.prom.seconds)} s\n`,
      );
    if (r.compact.peakMiB > MEMORY_RATIO * r.prom.peakMiB)
      process.stderr.write(
        `WARNING: ${k(r.series)} series: strata peak ${r.compact.peakMiB.toFixed(0)} MiB > ${MEMORY_RATIO}× prometheus' ${r.prom.peakMiB.toFixed(0)} MiB\n`,
      );
  }
  emit(results);
}

if (import.meta.main) await main();
