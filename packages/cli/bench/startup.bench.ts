/**
 * Start-up of the CLI as a user runs it: `node bin/strata.js <command> --help`, timed from
 * spawn to exit, for `strata --help` and every command's `--help` (which loads that command's
 * module and the libraries it imports, and nothing else). The launcher runs the bundle
 * bin/bundle.js builds at install while it is fresh, else the TypeScript sources; the sources
 * are timed too, for comparison. Target: median ≤ 100 ms on this 2-core machine. Peak memory
 * is one more, untimed run's (the child reports its own maxRSS as it exits).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { emit, type BenchResult } from "@strata/bench";
import { freshBundle } from "../bin/fresh.js";

export const STRATA_BIN = fileURLToPath(new URL("../bin/strata.js", import.meta.url));
export const BUNDLE_DIR = join(STRATA_BIN, "..", "bundle");
export const TARGET_MS = 100;

/** Milliseconds from spawning `strata <args…>` to its exit (output discarded); rejects on a non-zero exit. */
export function timeStrata(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [STRATA_BIN, ...args], { stdio: "ignore", env });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`strata ${args.join(" ")} exited with ${code}`));
    });
  });
}

export interface Startup {
  median: number;
  p90: number;
  runs: number[];
}

/**
 * `runs` timings of `strata <args…>` after one untimed run (the first run after a change
 * fills Node's compile cache), one after another.
 */
export async function startup(args: readonly string[], runs: number, env?: NodeJS.ProcessEnv): Promise<Startup> {
  await timeStrata(args, env);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeStrata(args, env));
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p90: at(0.9), runs: times };
}

/** Peak resident memory of one `strata <args…>` run, MiB (reported by the child as it exits; not timed). */
export async function peakMiB(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const hook = 'process.on("exit", () => process.stderr.write("MAXRSS " + process.resourceUsage().maxRSS + "\\n"));';
  const stderr = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", `data:text/javascript,${encodeURIComponent(hook)}`, STRATA_BIN, ...args],
      { stdio: ["ignore", "ignore", "pipe"], env },
    );
    let text = "";
    child.stderr.on("data", (b: Buffer) => (text += b.toString("utf8")));
    child.on("error", reject);
    child.on("close", () => resolve(text));
  });
  const kib = /MAXRSS (\d+)/.exec(stderr)?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}

/** The command names `strata --help` lists. */
async function commandNames(): Promise<string[]> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [STRATA_BIN, "--help"], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (b: Buffer) => (text += b.toString("utf8")));
    child.on("error", reject);
    child.on("close", () => resolve(text));
  });
  return [...out.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1]!);
}

if (import.meta.main) {
  const RUNS = 15;
  const bundled = freshBundle(BUNDLE_DIR) !== undefined;
  const path = bundled ? "bundle" : "sources (no fresh bundle: npm run bundle -w @strata/cli)";
  const row = async (args: string[], s: Startup, how: string, env?: NodeJS.ProcessEnv): Promise<BenchResult> => ({
    name: `strata ${args.join(" ")}${how === "sources" ? " (sources)" : ""}`,
    samples: 0,
    bytes: 0,
    seconds: s.median / 1000,
    peakMiB: await peakMiB(args, env),
    target: `median ≤ ${TARGET_MS} ms: ${s.median <= TARGET_MS ? "ok" : "OVER"} (${s.median.toFixed(0)} ms, p90 ${s.p90.toFixed(0)} ms, ${how})`,
  });
  const rows: BenchResult[] = [];
  for (const args of [["--help"], ...(await commandNames()).map((name) => [name, "--help"])])
    rows.push(await row(args, await startup(args, RUNS), path));
  if (bundled) {
    const sources = { ...process.env, STRATA_CLI_BUNDLE: "" };
    for (const args of [["--help"], ["verify", "--help"]])
      rows.push(await row(args, await startup(args, RUNS, sources), "sources", sources));
  }
  emit(rows);
}
