/**
 * Shared bench plumbing: each benchmark runs in its own child process so that its peak
 * memory (maxRSS) is its own, and prints one JSON line of results that the runner tabulates.
 */
export interface BenchResult {
  name: string;
  /** Samples processed (0 when not applicable). */
  samples: number;
  bytes: number;
  seconds: number;
  /** Peak resident memory of the benchmark's process, MiB (filled in by the child). */
  peakMiB?: number;
  /** Resident memory once modules were loaded, before the work (see markBaseline). */
  baseMiB?: number;
  target?: string;
  /** The cost model's estimate of the measured work (packages/compact/src/cost), seconds. */
  estimateSeconds?: number;
  /** The measured seconds the estimate is set beside, when not `seconds` (e.g. a whole job, opening included). */
  measuredSeconds?: number;
}

/** The band the cost model's estimate must stay in, as a ratio to the measured time. */
export const ESTIMATE_BAND = [0.5, 2] as const;

let baseline: number | undefined;

/**
 * Record the process's resident memory before the measured work. Under Node's type
 * stripping the runtime alone is ~95 MiB (Node ~41, the TypeScript stripper's WASM ~18,
 * zod ~19), which a bundled Lambda does not pay; peak minus this is the work's own memory.
 */
export function markBaseline(): void {
  baseline = process.memoryUsage().rss / 2 ** 20;
}

export function peakRssMiB(): number {
  // resourceUsage().maxRSS is in KiB on Linux.
  return process.resourceUsage().maxRSS / 1024;
}

/** Run fn a few times after a warm-up and keep the best time (least disturbed by the other core's work). */
export async function best<T>(runs: number, fn: () => Promise<T> | T): Promise<{ seconds: number; result: T }> {
  let result = await fn();
  let bestS = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await fn();
    const s = (performance.now() - t0) / 1000;
    if (s < bestS) bestS = s;
  }
  return { seconds: bestS, result };
}

export function emit(results: BenchResult[]): void {
  const peak = peakRssMiB();
  for (const r of results)
    process.stdout.write(JSON.stringify({ ...r, peakMiB: r.peakMiB ?? peak, baseMiB: r.baseMiB ?? baseline }) + "\n");
}
