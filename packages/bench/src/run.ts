/**
 * `npm run bench`: runs each benchmark in its own process (so peak memory is per benchmark)
 * and prints throughput and peak RSS in one table.
 *
 * By default every benchmark (and the `strata` CLI the compaction bench spawns) is first
 * bundled with esbuild, as SST bundles the Lambda functions: that is the code that runs in
 * production, and it does not pay Node's TypeScript stripping (~20 MiB of WASM and ~0.3 s of
 * start-up). `--no-bundle` runs the TypeScript sources directly instead.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ESTIMATE_BAND, type BenchResult } from "./harness.ts";

const BANNER =
  'import { createRequire as __strataRequire } from "node:module"; const require = __strataRequire(import.meta.url);';

/** Bundle `entry` next to itself (relative paths inside the bench keep working). */
async function bundle(entry: string, outfile: string): Promise<string> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    banner: { js: BANNER },
    external: ["fauxqs", "esbuild"],
    logLevel: "error",
  });
  return outfile;
}

// Opt-in benches (minutes, gigabytes: the scale bench) run only when named by a file-name prefix.
const OPT_IN = ".scale.ts";
// Every packages/<pkg>/bench/<name>.bench.ts; `npm run bench -- xor block` (file name prefixes)
// or `npm run bench -- compact` (a package's benchmarks) runs a subset.
const packagesDir = fileURLToPath(new URL("../../", import.meta.url));
const benches: string[] = [];
for (const pkg of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, pkg, "bench");
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).sort())
    if (f.endsWith(".bench.ts") || f.endsWith(OPT_IN)) benches.push(join(dir, f));
}
const args = process.argv.slice(2);
const bundled = !args.includes("--no-bundle");
// Names select benches; `--flag value` pairs (other than the runner's own switches) go to each bench.
const SWITCHES = new Set(["--no-bundle", "--skip-prometheus"]);
const only = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && isValued(args[i - 1]!)));
const passed = args.filter((a, i) => a !== "--no-bundle" && (a.startsWith("--") || (i > 0 && isValued(args[i - 1]!))));
function isValued(a: string): boolean {
  return a.startsWith("--") && !a.includes("=") && !SWITCHES.has(a);
}
const env = { ...process.env };
if (bundled) {
  const cliMain = join(packagesDir, "cli", "src", "main.ts");
  const cliEntry = join(packagesDir, "cli", "bin", "strata.bundle-entry.ts");
  const { writeFile, rm } = await import("node:fs/promises");
  await writeFile(
    cliEntry,
    `import { isMainThread } from "node:worker_threads";\nimport { main } from ${JSON.stringify(cliMain)};\n// Downsampling workers load this bundle too: they must not run the command again.\nif (isMainThread) process.exitCode = await main(process.argv.slice(2));\n`,
  );
  try {
    env.STRATA_CLI = await bundle(cliEntry, join(packagesDir, "cli", "bin", "strata.bundle.mjs"));
  } finally {
    await rm(cliEntry, { force: true });
  }
}
const rows: BenchResult[] = [];
for (const path of benches) {
  const file = path.slice(path.lastIndexOf("/") + 1);
  const pkg = path.split("/").at(-3)!;
  // A name selects the benchmarks whose file starts with it, or every benchmark of a package (`compact`).
  if (
    file.endsWith(OPT_IN)
      ? !only.some((o) => file.startsWith(o))
      : only.length && !only.some((o) => file.startsWith(o) || pkg === o)
  )
    continue;
  const target = bundled ? await bundle(path, path.replace(/\.ts$/, ".bundle.mjs")) : path;
  const out = execFileSync(process.execPath, [target, ...passed], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 24,
    env,
  });
  for (const line of out.split("\n")) if (line.startsWith("{")) rows.push(JSON.parse(line) as BenchResult);
}

const fmt = (n: number, d = 1) => (n >= 100 ? n.toFixed(0) : n.toFixed(d));
console.log(
  `node ${process.version}, ${process.arch}, one process per benchmark, ${bundled ? "bundled with esbuild (as deployed)" : "TypeScript sources via type stripping"}; base = RSS after loading modules, before the work`,
);
console.log(
  `${"benchmark".padEnd(38)}${"M samples/s".padStart(13)}${"MB/s".padStart(10)}${"seconds".padStart(10)}${"peak MiB".padStart(10)}${"base MiB".padStart(10)}${"est s".padStart(9)}${"est/meas".padStart(10)}  target`,
);
const outside: string[] = [];
for (const r of rows) {
  const msps = r.samples ? fmt(r.samples / r.seconds / 1e6) : "-";
  const mbs = r.bytes ? fmt(r.bytes / r.seconds / 1e6) : "-";
  let est = "-";
  let ratio = "-";
  if (r.estimateSeconds !== undefined) {
    const measured = r.measuredSeconds ?? r.seconds;
    const q = r.estimateSeconds / measured;
    est = r.estimateSeconds.toFixed(3);
    ratio = `${q.toFixed(2)}${q < ESTIMATE_BAND[0] || q > ESTIMATE_BAND[1] ? " !" : ""}`;
    if (q < ESTIMATE_BAND[0] || q > ESTIMATE_BAND[1])
      outside.push(
        `${r.name.trim()}: estimate ${r.estimateSeconds.toFixed(3)} s, measured ${measured.toFixed(3)} s (${q.toFixed(2)}×)`,
      );
  }
  console.log(
    `${r.name.padEnd(38)}${msps.padStart(13)}${mbs.padStart(10)}${r.seconds.toFixed(3).padStart(10)}${fmt(r.peakMiB ?? 0).padStart(10)}${(r.baseMiB === undefined ? "-" : fmt(r.baseMiB)).padStart(10)}${est.padStart(9)}${ratio.padStart(10)}  ${r.target ?? ""}`,
  );
}
// The cost model (packages/compact/src/cost) plans jobs against the 15-minute wall: its
// estimates must stay within [0.5, 2] of what the engines measure here.
const checked = rows.filter((r) => r.estimateSeconds !== undefined).length;
if (outside.length) {
  console.log(
    `WARNING: the cost model's estimate is outside [${ESTIMATE_BAND.join(", ")}]× the measured time for ${outside.length} of ${checked} benchmark(s) (refit packages/compact/src/cost/constants.ts):`,
  );
  for (const o of outside) console.log(`  ${o}`);
} else if (checked) {
  console.log(
    `cost model: est/measured within [${ESTIMATE_BAND.join(", ")}] for all ${checked} estimated benchmark(s) (est = packages/compact/src/cost; measured = seconds, or the whole job where the bench says so)`,
  );
}
