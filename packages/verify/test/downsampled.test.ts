/**
 * Downsampled (aggregate, encoding 255) chunks as Thanos writes them: the counter
 * aggregate opens with the first raw value and closes with the last raw value under the
 * repeated last timestamp. Real 5m and 1h blocks must verify; any other repeat or
 * decrease must still be ChunkSamplesOutOfOrder.
 */
import { describe, expect, it } from "vitest";
import {
  AggrType,
  BlockWriter,
  CounterResetHint,
  encodeFloatHistogramChunk,
  Encoding,
  MemoryBlock,
  RESOLUTION_1H,
  RESOLUTION_5M,
  compareStrings,
  encodeAggrChunk,
  encodeXOR,
  newUlid,
  type Chunk,
  type ChunkToWrite,
  type Labels,
} from "@strata/tsdb";
import { downsampleBlock } from "@strata/downsample";
import { Code, verifyBlock, type VerifyReport } from "../src/index.ts";
import { rawBlock } from "./raw-block.ts";

const HOUR = 3_600_000;
/** Window aligned on purpose, plus 7 s, so raw samples never sit on a window end by accident. */
const T0 = 1_699_999_200_000 + 7_000;
const STEP = 15_000;

function xor(ts: number[], vs: number[]): Chunk {
  return { encoding: Encoding.XOR, data: encodeXOR(Float64Array.from(ts), Float64Array.from(vs), 0, ts.length) };
}

/**
 * A raw level-2 block spanning `hours` hours: counters that reset every 7 minutes (so
 * inside 5m and 1h windows), a gauge, a series with a single sample, and a counter with
 * a sample exactly on a 5m window end (Thanos then stamps the first raw value and the first
 * window with the same time).
 */
async function rawCounterBlock(hours: number): Promise<{ block: MemoryBlock; ulid: string }> {
  const series: { labels: Labels; chunks: ChunkToWrite[] }[] = [];
  const n = (hours * HOUR) / STEP;
  const mk = (name: string, value: (i: number, t: number) => number, t0 = T0, count = n): ChunkToWrite[] => {
    const out: ChunkToWrite[] = [];
    for (let c = 0; c < count; c += 120) {
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = c; i < Math.min(count, c + 120); i++) {
        ts.push(t0 + i * STEP);
        vs.push(value(i, t0 + i * STEP));
      }
      out.push({ minTime: ts[0]!, maxTime: ts[ts.length - 1]!, chunk: xor(ts, vs) });
    }
    void name;
    return out;
  };
  const resetEvery = (7 * 60_000) / STEP;
  series.push({
    labels: [
      { name: "__name__", value: "c_total" },
      { name: "i", value: "1" },
    ],
    chunks: mk("c", (i) => (i % resetEvery) * 3 + 1),
  });
  series.push({
    labels: [
      { name: "__name__", value: "c_total" },
      { name: "i", value: "2" },
    ],
    chunks: mk("c2", (i) => (i % (resetEvery + 3)) * 0.5, 1_699_999_200_000 + 299_999, n - 40),
  });
  series.push({ labels: [{ name: "__name__", value: "g" }], chunks: mk("g", (i) => Math.sin(i / 10) * 100) });
  series.push({ labels: [{ name: "__name__", value: "one" }], chunks: mk("one", () => 42, T0 + 5 * STEP, 1) });
  const ulid = newUlid();
  const block = new MemoryBlock(ulid);
  const w = new BlockWriter(block);
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) syms.add(l.name).add(l.value);
  await w.addSymbols([...syms].sort(compareStrings));
  series.sort((a, b) =>
    compareStrings(
      a.labels.map((l) => `${l.name}\0${l.value}`).join("\0"),
      b.labels.map((l) => `${l.name}\0${l.value}`).join("\0"),
    ),
  );
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  const src = [newUlid(), newUlid()].sort();
  await w.finish({
    ulid,
    minTime: 1_699_999_200_000,
    maxTime: 1_699_999_200_000 + hours * HOUR,
    stats: {},
    compaction: { level: 2, sources: src },
    version: 1,
    thanos: { labels: { replica: "a" }, downsample: { resolution: 0 }, source: "compactor" },
  });
  return { block, ulid };
}

async function downsample(
  input: MemoryBlock,
  resolution: typeof RESOLUTION_5M | typeof RESOLUTION_1H,
): Promise<{ block: MemoryBlock; ulid: string }> {
  const ulid = newUlid();
  const out = new MemoryBlock(ulid);
  await downsampleBlock(input, out, { resolution, ulid, workers: 0 });
  return { block: out, ulid };
}

function serious(r: VerifyReport) {
  return r.problems.filter((p) => p.severity !== "warn");
}
/** The hand-built blocks below carry the test builder's sample counts; only the chunk verdicts matter. */
function rejects(r: VerifyReport) {
  return r.problems.filter((p) => p.severity === "reject");
}

describe("downsampled blocks verify", () => {
  it("a 5m block and a 1h block of it, counters resetting inside windows", async () => {
    const raw = await rawCounterBlock(30);
    const rr = await verifyBlock(raw.block, { expectedUlid: raw.ulid });
    expect(serious(rr)).toEqual([]);
    const m5 = await downsample(raw.block, RESOLUTION_5M);
    const r5 = await verifyBlock(m5.block, { expectedUlid: m5.ulid });
    expect(serious(r5)).toEqual([]);
    expect(r5.ok).toBe(true);
    expect(r5.stats.chunks).toBeGreaterThan(4);
    const h1 = await downsample(m5.block, RESOLUTION_1H);
    const r1 = await verifyBlock(h1.block, { expectedUlid: h1.ulid });
    expect(serious(r1)).toEqual([]);
    expect(r1.ok).toBe(true);
  });
});

describe("aggregate chunks out of order are rejected", () => {
  const W = 300_000;
  const base = 1_700_000_000_000 - (1_700_000_000_000 % W) - 1; // a window end
  const wt = [base + W, base + 2 * W, base + 3 * W, base + 4 * W];
  const good = {
    count: xor(wt, [20, 20, 20, 20]),
    sum: xor(wt, [1, 2, 3, 4]),
    min: xor(wt, [0, 0, 0, 0]),
    max: xor(wt, [9, 9, 9, 9]),
    // first raw value, one per window, last raw value under the repeated last time
    counter: xor([wt[0]! - 200_000, ...wt, wt[3]!], [5, 10, 20, 30, 40, 2]),
  };
  const aggr = (parts: Partial<typeof good>): ChunkToWrite => {
    const p = { ...good, ...parts };
    const arr: (Chunk | undefined)[] = [];
    arr[AggrType.Count] = p.count;
    arr[AggrType.Sum] = p.sum;
    arr[AggrType.Min] = p.min;
    arr[AggrType.Max] = p.max;
    arr[AggrType.Counter] = p.counter;
    return { minTime: wt[0]!, maxTime: wt[3]!, chunk: { encoding: Encoding.Aggr, data: encodeAggrChunk(arr) } };
  };
  const verifyAggr = async (c: ChunkToWrite): Promise<VerifyReport> => {
    const { block, ulid } = rawBlock({
      series: [{ labels: [["__name__", "m"]], chunks: [{ minT: c.minTime, maxT: c.maxTime, chunk: c.chunk }] }],
      minTime: base + 1,
      maxTime: base + 1 + 2 * HOUR,
      meta: {
        compaction: { level: 2, sources: [newUlid()] },
        thanos: { labels: {}, downsample: { resolution: W }, source: "compactor" },
      },
    });
    return verifyBlock(block, { expectedUlid: ulid });
  };
  const outOfOrder = (r: VerifyReport) => r.problems.filter((p) => p.code === Code.ChunkSamplesOutOfOrder);

  it("accepts Thanos' layout, including a first raw value on the first window's end", async () => {
    expect(rejects(await verifyAggr(aggr({})))).toEqual([]);
    const firstOnWindow = xor([wt[0]!, ...wt, wt[3]!], [5, 10, 20, 30, 40, 2]);
    expect(rejects(await verifyAggr(aggr({ counter: firstOnWindow })))).toEqual([]);
    // A series with one raw sample in the batch: three counter samples at one time.
    const single = aggr({
      count: xor([wt[0]!], [1]),
      sum: xor([wt[0]!], [4]),
      min: xor([wt[0]!], [4]),
      max: xor([wt[0]!], [4]),
      counter: xor([wt[0]!, wt[0]!, wt[0]!], [4, 4, 4]),
    });
    const r = await verifyAggr({ ...single, maxTime: wt[0]! });
    expect(rejects(r)).toEqual([]);
  });

  const bad: [string, Partial<typeof good>, RegExp][] = [
    [
      "a repeat in the middle of the counter",
      { counter: xor([wt[0]! - 1000, wt[0]!, wt[1]!, wt[1]!, wt[2]!, wt[3]!, wt[3]!], [1, 2, 3, 4, 5, 6, 7]) },
      /aggregate 4: sample 3 /,
    ],
    [
      "a decreasing last counter timestamp",
      { counter: xor([wt[0]! - 1000, ...wt, wt[3]! - 1], [1, 2, 3, 4, 5, 6]) },
      /aggregate 4: sample 5 /,
    ],
    [
      "a decreasing second counter timestamp",
      { counter: xor([wt[0]! + 1, ...wt, wt[3]!], [1, 2, 3, 4, 5, 6]) },
      /aggregate 4: sample 1 /,
    ],
    [
      "two repeats at the end of the counter",
      { counter: xor([wt[0]! - 1000, ...wt, wt[3]!, wt[3]!], [1, 2, 3, 4, 5, 6, 7]) },
      /aggregate 4: sample 5 /,
    ],
    ["a repeated last timestamp in sum", { sum: xor([...wt, wt[3]!], [1, 2, 3, 4, 5]) }, /aggregate 1: sample 4 /],
    ["a repeated last timestamp in count", { count: xor([...wt, wt[3]!], [1, 2, 3, 4, 5]) }, /aggregate 0: sample 4 /],
    ["a repeated last timestamp in min", { min: xor([...wt, wt[3]!], [1, 2, 3, 4, 5]) }, /aggregate 2: sample 4 /],
    ["a repeated first timestamp in max", { max: xor([wt[0]!, ...wt], [1, 2, 3, 4, 5]) }, /aggregate 3: sample 1 /],
    [
      "a decreasing timestamp in the middle of max",
      { max: xor([wt[0]!, wt[2]!, wt[1]!, wt[3]!], [1, 2, 3, 4]) },
      /aggregate 3: sample 2 /,
    ],
  ];
  for (const [name, parts, msg] of bad) {
    it(`rejects ${name}`, async () => {
      const r = await verifyAggr(aggr(parts));
      const p = outOfOrder(r);
      expect(p).toHaveLength(1);
      expect(p[0]!.message).toMatch(msg);
      expect(p[0]!.severity).toBe("reject");
      expect(r.ok).toBe(false);
    });
  }

  it("rejects a repeated timestamp in a native-histogram counter aggregate (Thanos writes none)", async () => {
    const fh = (count: number) => ({
      schema: 0,
      zeroThreshold: 0,
      zeroCount: 0,
      count,
      sum: count,
      positiveSpans: [],
      negativeSpans: [],
      positiveBuckets: new Float64Array(0),
      negativeBuckets: new Float64Array(0),
      counterResetHint: CounterResetHint.Unknown,
    });
    const h: Chunk = {
      encoding: Encoding.FloatHistogram,
      data: encodeFloatHistogramChunk([wt[0]!, wt[1]!, wt[1]!].map((t, i) => ({ t, h: fh(i + 1) }))),
    };
    const arr: (Chunk | undefined)[] = [];
    arr[AggrType.Count] = xor([wt[0]!, wt[1]!], [1, 2]);
    arr[AggrType.Counter] = h;
    const r = await verifyAggr({
      minTime: wt[0]!,
      maxTime: wt[1]!,
      chunk: { encoding: Encoding.Aggr, data: encodeAggrChunk(arr) },
    });
    expect(outOfOrder(r).map((p) => p.message)).toEqual([expect.stringMatching(/aggregate 4: sample 2 /)]);
  });
});
