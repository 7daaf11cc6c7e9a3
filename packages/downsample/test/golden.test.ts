/**
 * Byte-for-byte regression check of the one-thread path on blocks shaped like the bench's
 * (40h at 30 s, counters with resets, random and page-walk gauges) plus the series the fast
 * paths must leave to the general one (NaN, stale markers, ±Inf, -0, steps back, gaps,
 * duplicate times). The hashes are of what the downsampler wrote before its one-thread
 * work was optimised (issue 17); every block written also passes @strata/verify, and the
 * worker path writes the same bytes.
 */
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  BlockWriter,
  Encoding,
  MemoryBlock,
  RESOLUTION_1H,
  RESOLUTION_5M,
  STALE_NAN,
  compareStrings,
  encodeXOR,
  type ChunkToWrite,
} from "@strata/tsdb";
import { verifyBlock } from "@strata/verify";
import { closeWorkers, downsampleBlock } from "../src/index.ts";

const T0 = 1_700_000_000_000;
const STEP = 30_000;
const SAMPLES = (40 * 3_600_000) / STEP;
const IN = "01HZZZZZZZZZZZZZZZZZZZZZZ0";

type Kind = "counter" | "random" | "pages" | "edge";

/** One series' samples; `edge` series mix in what forces the general path. */
function fill(kind: Kind, s: number, rnd: () => number, ts: Float64Array, vs: Float64Array): number {
  let v = kind === "counter" ? Math.floor(rnd() * 1e6) : 8e9;
  let t = T0 + s * 1_000;
  let n = 0;
  for (let i = 0; i < SAMPLES; i++) {
    // Jitter as in the bench; edge series also skip windows and repeat times.
    t = T0 + i * STEP + (rnd() < 0.05 ? Math.floor(rnd() * 50) : 0);
    if (kind === "edge" && i % 997 > 900) continue;
    if (kind === "counter") v = rnd() < 0.001 ? 0 : v + Math.floor(rnd() * 100) / 4;
    else if (kind === "random") v = rnd() * 1e9;
    else if (kind === "pages") v = v + Math.floor(rnd() * 2001 - 1000) * 4096;
    else {
      v = rnd() < 0.5 ? v + rnd() : rnd() * 100;
      const r = rnd();
      if (s % 5 === 0 && r < 0.01) v = NaN;
      else if (s % 5 === 1 && r < 0.01) v = STALE_NAN;
      else if (s % 5 === 2 && r < 0.002) v = r < 0.001 ? Infinity : -Infinity;
      else if (s % 5 === 3 && r < 0.02) v = -0;
      else if (s % 5 === 4 && r < 0.01 && n > 0) t = ts[n - 1]! - (r < 0.005 ? 0 : 7_000);
    }
    ts[n] = t;
    vs[n] = v;
    n++;
  }
  return n;
}

async function benchLikeBlock(perKind: number): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const kinds: Kind[] = ["counter", "random", "pages", "edge"];
  const names = Array.from({ length: perKind }, (_, i) => `i${String(i).padStart(4, "0")}`);
  await w.addSymbols(["__name__", "instance", ...kinds, ...names].sort(compareStrings));
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const ts = new Float64Array(SAMPLES);
  const vs = new Float64Array(SAMPLES);
  const series: { kind: Kind; name: string; chunks: ChunkToWrite[] }[] = [];
  for (const kind of kinds) {
    for (let s = 0; s < perKind; s++) {
      const n = fill(kind, s, rnd, ts, vs);
      const chunks: ChunkToWrite[] = [];
      for (let i = 0; i < n; i += 120) {
        const end = Math.min(n, i + 120);
        chunks.push({
          minTime: ts[i]!,
          maxTime: Math.max(ts[i]!, ts[end - 1]!),
          chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, i, end) },
        });
      }
      // The writer wants chunks that do not overlap: steps back may end a chunk early.
      for (let i = 1; i < chunks.length; i++) {
        const p = chunks[i - 1]!;
        const c = chunks[i]!;
        if (c.minTime <= p.maxTime) c.minTime = p.maxTime + 1;
        if (c.maxTime < c.minTime) c.maxTime = c.minTime;
      }
      series.push({ kind, name: names[s]!, chunks });
    }
  }
  series.sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.name, b.name));
  for (const s of series) {
    await w.addSeries(
      [
        { name: "__name__", value: s.kind },
        { name: "instance", value: s.name },
      ],
      s.chunks,
    );
  }
  await w.finish({
    ulid: IN,
    minTime: T0,
    maxTime: T0 + SAMPLES * STEP + 1_000,
    stats: {},
    compaction: { level: 3, sources: [IN] },
    version: 1,
  });
  return b;
}

async function downsample(input: MemoryBlock, resolution: 300_000 | 3_600_000, workers: number): Promise<MemoryBlock> {
  const out = new MemoryBlock("out");
  const ulid = resolution === RESOLUTION_5M ? "01HZZZZZZZZZZZZZZZZZZZZZZ1" : "01HZZZZZZZZZZZZZZZZZZZZZZ2";
  await downsampleBlock(input, out, { resolution, ulid, workers });
  return out;
}

/** SHA-256 of every file but meta.json (which carries the writer's version and time-free stats). */
function digest(b: MemoryBlock): string {
  const h = createHash("sha256");
  for (const [name, bytes] of [...b.files].sort(([x], [y]) => compareStrings(x, y))) {
    if (name === "meta.json") continue;
    h.update(name);
    h.update(bytes);
  }
  return h.digest("hex");
}

afterAll(closeWorkers);

describe("one-thread downsampling writes the bytes it always wrote", () => {
  it("raw → 5m → 1h on bench-like blocks: golden hashes, verified, same bytes with a worker", async () => {
    const input = await benchLikeBlock(6);
    const m5 = await downsample(input, RESOLUTION_5M, 0);
    const h1 = await downsample(m5, RESOLUTION_1H, 0);
    for (const b of [m5, h1]) {
      const report = await verifyBlock(b);
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    }
    expect(digest(m5)).toBe("aa85dc3f6d6a956c308d1fe4035c23ca61a0f1d49beaba76921fdbc4f8eae56d");
    expect(digest(h1)).toBe("4aa7e0e3cafc1b90bac11857f33a79c2944e2177ebbd92106caf9d1f67c984dd");
    expect(digest(await downsample(input, RESOLUTION_5M, 1))).toBe(digest(m5));
    expect(digest(await downsample(m5, RESOLUTION_1H, 1))).toBe(digest(h1));
  }, 60_000);
});
