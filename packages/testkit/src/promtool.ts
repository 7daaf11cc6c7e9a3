// Thin wrappers around the real `promtool` (Debian prometheus 2.42) used as
// the oracle in the interop tests. Every wrapper throws with the tool's stderr
// when it fails, and the binaries must exist: a missing tool is a failure,
// never a skip, so CI cannot go green without actually running the oracle.
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { assertExecutable, runProcess, type ProcessResult } from "./process.ts";
import { writeOpenMetrics, type GeneratedOpenMetrics, type OpenMetricsOptions } from "./openmetrics.ts";
import { TempDirs, hardLinkTree } from "./tmp.ts";

export const PROMTOOL = process.env.PROMTOOL ?? "/usr/bin/promtool";

export function assertPromtool(): void {
  assertExecutable(PROMTOOL);
}

async function promtool(args: readonly string[]): Promise<ProcessResult> {
  assertPromtool();
  const r = await runProcess(PROMTOOL, args);
  if (r.code !== 0) {
    throw new Error(
      `promtool ${args.join(" ")} failed (exit ${r.code ?? r.signal}):\n${r.stderr.trim() || r.stdout.trim()}`,
    );
  }
  return r;
}

/** The Prometheus part of meta.json (stats are uint64 in Go; test data stays far below 2^53). */
export interface BlockMeta {
  ulid: string;
  minTime: number;
  maxTime: number;
  stats: { numSamples?: number; numSeries?: number; numChunks?: number; numTombstones?: number };
  compaction: { level: number; sources?: string[]; parents?: { ulid: string; minTime: number; maxTime: number }[] };
  version: number;
}

export interface BlockInfo {
  ulid: string;
  /** Absolute path of the block directory. */
  dir: string;
  meta: BlockMeta;
}

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export async function readMeta(blockDir: string): Promise<BlockMeta> {
  return JSON.parse(await readFile(join(blockDir, "meta.json"), "utf8")) as BlockMeta;
}

/** Blocks (ULID-named directories holding a meta.json) directly under `dir`, sorted by minTime. */
export async function listBlocks(dir: string): Promise<BlockInfo[]> {
  const blocks: BlockInfo[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !ULID_RE.test(e.name)) continue;
    const blockDir = join(dir, e.name);
    try {
      await stat(join(blockDir, "meta.json"));
    } catch {
      continue;
    }
    blocks.push({ ulid: e.name, dir: blockDir, meta: await readMeta(blockDir) });
  }
  blocks.sort((a, b) => a.meta.minTime - b.meta.minTime || (a.ulid < b.ulid ? -1 : 1));
  return blocks;
}

export interface CreateBlocksOptions {
  /** Hidden promtool flag `--max-block-duration` (e.g. "6h"); below 2h it is ignored by promtool. */
  maxBlockDuration?: string;
}

/**
 * `promtool tsdb create-blocks-from openmetrics`. Blocks are cut at multiples
 * of 2h (or the chosen duration) in epoch ms; each block's minTime is its
 * first sample and maxTime its last sample + 1.
 */
export async function createBlocksFromOpenMetrics(
  omFile: string,
  outDir: string,
  opts: CreateBlocksOptions = {},
): Promise<BlockInfo[]> {
  const args = ["tsdb", "create-blocks-from", "--quiet"];
  if (opts.maxBlockDuration) args.push(`--max-block-duration=${opts.maxBlockDuration}`);
  args.push("openmetrics", omFile, outDir);
  await promtool(args);
  return listBlocks(outDir);
}

/**
 * Runs `fn` on a throwaway db directory that holds exactly the given block
 * (hard-linked, because promtool ignores symlinked block dirs) and an empty
 * `wal/` (dump fails with "read WAL: find last checkpoint" without one).
 * promtool also creates `chunks_head/` there, which is why the original
 * directory is never used.
 */
async function withSingleBlockDb<T>(blockDir: string, fn: (db: string, meta: BlockMeta) => Promise<T>): Promise<T> {
  const meta = await readMeta(blockDir);
  const tmp = new TempDirs();
  try {
    const db = await tmp.make("db");
    await hardLinkTree(blockDir, join(db, meta.ulid));
    await mkdir(join(db, "wal"));
    return await fn(db, meta);
  } finally {
    await tmp.cleanup();
  }
}

export interface DumpOptions {
  minTime?: number;
  maxTime?: number;
  /** PromQL series selector, e.g. `{__name__="up"}`. */
  match?: string;
}

/**
 * `promtool tsdb dump` of one block, as lines `{labels} value timestamp`.
 * For a single block promtool prints series in index (label-sorted) order and
 * samples in time order, so the output is deterministic and needs no sorting.
 */
export async function promtoolDump(blockDir: string, opts: DumpOptions = {}): Promise<string[]> {
  return withSingleBlockDb(blockDir, async (db, meta) => {
    const args = ["tsdb", "dump"];
    if (opts.minTime !== undefined) args.push(`--min-time=${opts.minTime}`);
    if (opts.maxTime !== undefined) args.push(`--max-time=${opts.maxTime}`);
    if (opts.match !== undefined) args.push(`--match=${opts.match}`);
    args.push(db);
    const r = await promtool(args);
    const lines = splitLines(r.stdout);
    // promtool exits 0 with no output when it does not recognise the block
    // directory; never let that pass as "both sides empty".
    if (
      lines.length === 0 &&
      (meta.stats.numSamples ?? 0) > 0 &&
      opts.match === undefined &&
      opts.minTime === undefined &&
      opts.maxTime === undefined
    ) {
      throw new Error(
        `promtool tsdb dump printed nothing for ${blockDir} (meta says ${meta.stats.numSamples} samples)\n${r.stderr}`,
      );
    }
    return lines;
  });
}

export interface AnalyzeResult extends ProcessResult {
  /** Values parsed from the header lines ("Block ID:", "Series:", ...). */
  blockId: string;
  series: number;
  labelNames: number;
}

/**
 * `promtool tsdb analyze [--extended]` of one block. `extended` also loads
 * every chunk through the chunk reader (it panics on a chunk with 0 samples
 * and on a series without chunks), so it is the stricter check.
 */
export async function promtoolAnalyze(
  blockDir: string,
  opts: { extended?: boolean; limit?: number } = {},
): Promise<AnalyzeResult> {
  return withSingleBlockDb(blockDir, async (db, meta) => {
    const args = ["tsdb", "analyze"];
    if (opts.extended) args.push("--extended");
    if (opts.limit !== undefined) args.push(`--limit=${opts.limit}`);
    args.push(db, meta.ulid);
    const r = await promtool(args);
    const field = (name: string): string => {
      const m = new RegExp(`^${name}: (.*)$`, "m").exec(r.stdout);
      if (!m) throw new Error(`promtool tsdb analyze output lacks "${name}:"\n${r.stdout}\n${r.stderr}`);
      return m[1]!;
    };
    return {
      ...r,
      blockId: field("Block ID"),
      series: Number(field("Series")),
      labelNames: Number(field("Label names")),
    };
  });
}

/**
 * Splits tool output into lines, dropping the final newline. Label values never contain raw newlines (Go quotes them).
 */
export function splitLines(s: string): string[] {
  if (s.length === 0) return [];
  const lines = s.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Compares two dumps as multisets; returns a short human-readable diff, or "" when equal. */
export function diffLineMultisets(expected: readonly string[], actual: readonly string[], max = 10): string {
  const counts = new Map<string, number>();
  for (const l of expected) counts.set(l, (counts.get(l) ?? 0) + 1);
  const extra: string[] = [];
  for (const l of actual) {
    const c = counts.get(l);
    if (c) counts.set(l, c - 1);
    else extra.push(l);
  }
  const missing: string[] = [];
  for (const [l, c] of counts) for (let i = 0; i < c; i++) missing.push(l);
  if (missing.length === 0 && extra.length === 0) return "";
  return [
    `expected ${expected.length} lines, got ${actual.length}`,
    `missing (${missing.length}):`,
    ...missing.slice(0, max).map((l) => `  - ${l}`),
    `unexpected (${extra.length}):`,
    ...extra.slice(0, max).map((l) => `  + ${l}`),
  ].join("\n");
}

/** First differing line of two ordered dumps, or "" when they are identical. */
export function diffLinesOrdered(expected: readonly string[], actual: readonly string[]): string {
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    if (expected[i] !== actual[i]) {
      return `line ${i + 1} differs:\n  expected: ${expected[i]}\n  actual:   ${actual[i]}`;
    }
  }
  if (expected.length !== actual.length) {
    return `expected ${expected.length} lines, got ${actual.length}; first extra: ${expected[n] ?? actual[n]}`;
  }
  return "";
}

export interface PromtoolFixture {
  /** Directory holding the OpenMetrics file and the `blocks/` output. */
  dir: string;
  omFile: string;
  blocksDir: string;
  blocks: BlockInfo[];
  gen: GeneratedOpenMetrics;
}

/**
 * Generates OpenMetrics text and turns it into blocks with promtool, in a
 * directory owned by `tmp`. Checks that the importer kept every generated
 * sample (it drops out-of-order and duplicate samples silently).
 */
export async function makePromtoolFixture(
  tmp: TempDirs,
  opts: OpenMetricsOptions & CreateBlocksOptions & { label?: string } = {},
): Promise<PromtoolFixture> {
  const dir = await tmp.make(opts.label ?? "fixture");
  const omFile = join(dir, "input.om");
  const blocksDir = join(dir, "blocks");
  const gen = await writeOpenMetrics(omFile, opts);
  const blocks = await createBlocksFromOpenMetrics(omFile, blocksDir, opts);
  const stored = blocks.reduce((s, b) => s + (b.meta.stats.numSamples ?? 0), 0);
  if (stored !== gen.sampleCount) {
    throw new Error(
      `promtool stored ${stored} samples but the generator wrote ${gen.sampleCount} (silently dropped samples?)`,
    );
  }
  return { dir, omFile, blocksDir, blocks, gen };
}

/**
 * The three data sets the read and write interop tests share, with `seed`, `seed + 1`,
 * `seed + 2` and labels prefixed by `prefix`: every feature on (special and extreme floats,
 * escapes, non-BMP unicode, gaps, jitter; 3 blocks), a 6h block with many chunks per series
 * (promtool's hidden --max-block-duration), and thousands of sparse series.
 */
export function makeStandardFixtures(
  tmp: TempDirs,
  prefix: string,
  seed: number,
): Promise<[varied: PromtoolFixture, sixHour: PromtoolFixture, large: PromtoolFixture]> {
  return Promise.all([
    makePromtoolFixture(tmp, {
      label: `${prefix}varied`,
      seed,
      series: 200,
      durationMs: 5 * 3_600_000,
      intervalMs: 60_000,
    }),
    makePromtoolFixture(tmp, {
      label: `${prefix}six-hour`,
      seed: seed + 1,
      series: 60,
      durationMs: 5 * 3_600_000,
      intervalMs: 30_000,
      maxBlockDuration: "6h",
    }),
    makePromtoolFixture(tmp, {
      label: `${prefix}large`,
      seed: seed + 2,
      series: 3000,
      durationMs: 3 * 3_600_000,
      intervalMs: 300_000,
    }),
  ]);
}
