/**
 * Strata's compaction against Prometheus' own, on the same blocks in one run: six 2h
 * blocks of 5,000 series at 15 s, aligned to 6h. Prometheus 2.42 (`/usr/bin/prometheus`,
 * 127.0.0.1 only, a copy of the blocks, ranges 2h and 6h) compacts the first three about
 * a minute after it starts and logs `msg="compact blocks" … duration=`; we parse that and
 * read its peak RSS (VmHWM). `strata compact` compacts the same three blocks in a child
 * process, best of three, timed from outside (Node start-up included) and peak RSS from
 * the child. The ratio is ours / Prometheus' (target ≤ 1.0), our peak target ≤ 256 MiB.
 *
 * `--skip-prometheus` (or STRATA_BENCH_SKIP_PROMETHEUS=1) leaves the server out: it is the
 * minute-long part of the bench.
 */
import { spawn, execFileSync } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emit, type BenchResult } from "@strata/bench";
import { writeBenchBlocks } from "./generate.ts";

const SERIES = 5000;
const H2 = 2 * 3600_000;
const H6 = 3 * H2;
const T0 = 78_703 * H6; // 2023-11-14T12:00Z, a multiple of 6h
const PROMETHEUS = process.env.PROMETHEUS ?? "/usr/bin/prometheus";
// The CLI as `npm run bench` bundled it (STRATA_CLI), else the TypeScript sources.
const STRATA = process.env.STRATA_CLI ?? fileURLToPath(new URL("../../cli/bin/strata.js", import.meta.url));
const RUNS = 3;

interface Ours {
  wallS: number;
  inProcessS: number;
  peakMiB: number;
  timings: { readMs: number; mergeMs: number; writeMs: number };
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

async function runOurs(inputs: string[], parent: string): Promise<Ours> {
  let best: Ours | undefined;
  for (let i = 0; i < RUNS; i++) {
    const out = join(parent, `strata-out-${i}`);
    const t0 = performance.now();
    const stdout = execFileSync(process.execPath, [STRATA, "compact", ...inputs, "--out", out, "--json"], { encoding: "utf8" });
    const wallS = (performance.now() - t0) / 1000;
    const j = JSON.parse(stdout) as { timings: Ours["timings"] & { totalMs: number }; peakRssBytes: number };
    const r: Ours = { wallS, inProcessS: j.timings.totalMs / 1000, peakMiB: j.peakRssBytes / 2 ** 20, timings: j.timings };
    if (!best || r.wallS < best.wallS) best = r;
    await rm(out, { recursive: true, force: true });
  }
  return best!;
}

/** Go duration text ("1.234s", "812.5ms", "1m2.5s") to seconds. */
function goDuration(s: string): number {
  let total = 0;
  for (const m of s.matchAll(/([0-9.]+)(h|m(?!s)|s|ms|µs|us|ns)/g)) {
    const v = Number(m[1]);
    total += v * ({ h: 3600, m: 60, s: 1, ms: 1e-3, µs: 1e-6, us: 1e-6, ns: 1e-9 } as Record<string, number>)[m[2]];
  }
  return total;
}

async function runPrometheus(blocksDir: string, parent: string): Promise<{ seconds: number; peakMiB: number; line: string }> {
  const data = join(parent, "prom-data");
  await cp(blocksDir, data, { recursive: true });
  const config = join(parent, "prometheus.yml");
  await writeFile(config, "global:\n  scrape_interval: 1h\nscrape_configs: []\n");
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${data}`,
      "--web.listen-address=127.0.0.1:0",
      "--storage.tsdb.retention.time=100y",
      "--storage.tsdb.min-block-duration=2h",
      "--storage.tsdb.max-block-duration=6h",
      "--log.level=info",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const hwm = async (): Promise<number> => {
    const st = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
    const m = /VmHWM:\s+(\d+) kB/.exec(st);
    return m ? Number(m[1]) / 1024 : 0;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`prometheus did not compact within 150 s:\n${log.slice(-3000)}`)), 150_000);
      const onData = (b: Buffer) => {
        log += b.toString("utf8");
        const m = /^.*msg="compact blocks".*$/m.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`prometheus exited (${code}) before compacting:\n${log.slice(-3000)}`));
      });
    });
    const d = /duration=(\S+)/.exec(line);
    if (!d) throw new Error(`no duration in: ${line}`);
    if (!/count=3\b/.test(line)) throw new Error(`expected Prometheus to compact 3 blocks first: ${line}`);
    return { seconds: goDuration(d[1]), peakMiB: await hwm(), line };
  } finally {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function main(): Promise<void> {
  const skipProm = process.argv.includes("--skip-prometheus") || process.env.STRATA_BENCH_SKIP_PROMETHEUS === "1";
  const parent = await mkdtemp(join(tmpdir(), "strata-bench-compact-"));
  try {
    const blocksDir = join(parent, "blocks");
    const dirs = await writeBenchBlocks({ dir: blocksDir, series: SERIES, blocks: 6, t0: T0 });
    const inputs = dirs.slice(0, 3);
    const bytes = (await Promise.all(inputs.map((d) => du(d)))).reduce((a, b) => a + b, 0);
    const samples = 3 * SERIES * (H2 / 15_000);
    const prom = skipProm ? undefined : await runPrometheus(blocksDir, parent);
    const ours = await runOurs(inputs, parent);
    const results: BenchResult[] = [];
    const ratio = prom ? ours.wallS / prom.seconds : NaN;
    results.push({
      name: "compact 3×2h, 5k series (strata)",
      samples,
      bytes,
      seconds: ours.wallS,
      peakMiB: ours.peakMiB,
      target: prom ? `ratio ${ratio.toFixed(2)} vs prometheus (≤ 1.0); ≤ 256 MiB` : "≤ 256 MiB (prometheus skipped)",
    });
    if (prom) {
      results.push({ name: "compact 3×2h, 5k series (prometheus)", samples, bytes, seconds: prom.seconds, peakMiB: prom.peakMiB, target: "reference (Prometheus 2.42)" });
    }
    process.stderr.write(
      `strata: wall ${ours.wallS.toFixed(3)} s (in-process ${ours.inProcessS.toFixed(3)} s: read ${ours.timings.readMs} ms, merge ${ours.timings.mergeMs} ms, write ${ours.timings.writeMs} ms), peak ${ours.peakMiB.toFixed(0)} MiB\n` +
        (prom ? `prometheus: ${prom.seconds.toFixed(3)} s, peak ${prom.peakMiB.toFixed(0)} MiB (server total); ratio ${ratio.toFixed(2)} (in-process ${(ours.inProcessS / prom.seconds).toFixed(2)})\n  ${prom.line}\n` : ""),
    );
    emit(results);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
