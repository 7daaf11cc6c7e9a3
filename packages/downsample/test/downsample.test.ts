import { describe, expect, it } from "vitest";
import {
  BlockReader,
  BlockWriter,
  Encoding,
  MemoryBlock,
  RESOLUTION_1H,
  RESOLUTION_5M,
  STALE_NAN,
  compareStrings,
  decodeAggrChunk,
  decodeXOR,
  encodeXOR,
  type BlockMeta,
  type ChunkToWrite,
  type Labels,
} from "@strata/tsdb";
import { currentWindow, downsampleBlock, needsDownsampling, planDownsampling, targetChunkCount } from "../src/index.ts";

const T0 = 1_700_000_100_000; // not window aligned
const MIN = 60_000;

function xorChunk(samples: [number, number][]) {
  const ts = Float64Array.from(samples.map((s) => s[0]));
  const vs = Float64Array.from(samples.map((s) => s[1]));
  return {
    minTime: ts[0]!,
    maxTime: ts[ts.length - 1]!,
    chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, ts.length) },
  };
}

async function makeBlock(
  series: { labels: Labels; chunks: [number, number][][] }[],
  meta: Partial<BlockMeta> = {},
): Promise<MemoryBlock> {
  return writeBlock(
    series.map((s) => ({ labels: s.labels, chunks: s.chunks.map(xorChunk) })),
    meta,
  );
}

/** A level-2 raw block of these series, their chunks already encoded. */
async function writeBlock(
  series: { labels: Labels; chunks: ChunkToWrite[] }[],
  meta: Partial<BlockMeta> = {},
): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) syms.add(l.name).add(l.value);
  await w.addSymbols([...syms].sort(compareStrings));
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    minTime: T0,
    maxTime: T0 + 100 * MIN,
    stats: {},
    compaction: { level: 2, sources: ["01HAAAAAAAAAAAAAAAAAAAAAAA"] },
    version: 1,
    ...meta,
  });
  return b;
}

async function readOut(b: MemoryBlock) {
  const r = await BlockReader.open(b);
  const out: { labels: Labels; chunks: { minTime: number; maxTime: number; parts: [number, number][][] }[] }[] = [];
  for await (const s of r.series()) {
    out.push({
      labels: s.labels,
      chunks: s.chunks.map((c) => ({
        minTime: c.minTime,
        maxTime: c.maxTime,
        parts: decodeAggrChunk(c.chunk!.data).map((p) => {
          const ts = new Float64Array(1000);
          const vs = new Float64Array(1000);
          const n = decodeXOR(p!.data, ts, vs);
          return Array.from({ length: n }, (_, i) => [ts[i], vs[i]] as [number, number]);
        }),
      })),
    });
  }
  return { meta: r.meta, series: out };
}

describe("window arithmetic", () => {
  it("windows end one ms before the next aligned start", () => {
    expect(currentWindow(0, RESOLUTION_5M)).toBe(299_999);
    expect(currentWindow(299_999, RESOLUTION_5M)).toBe(299_999);
    expect(currentWindow(300_000, RESOLUTION_5M)).toBe(599_999);
  });
  it("equals Go's t - t%r + r - 1 for every safe integer, negative ones too", () => {
    // Go's int64 % truncates toward zero, as BigInt's does.
    const go = (t: number, r: number) => Number(BigInt(t) - (BigInt(t) % BigInt(r)) + BigInt(r) - 1n);
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const edges = [
      0,
      1,
      -1,
      299_999,
      300_000,
      -300_000,
      -299_999,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53 - 300_000,
      1_700_000_000_000,
    ];
    for (const r of [RESOLUTION_5M, RESOLUTION_1H]) {
      const cases = [...edges, ...edges.map((t) => t + r), ...edges.map((t) => t - r)].filter(Number.isSafeInteger);
      // Random magnitudes across the whole safe range, and multiples of r ± 1.
      for (let i = 0; i < 20_000; i++) {
        const t = Math.trunc((rnd() * 2 - 1) * 2 ** Math.floor(rnd() * 53));
        const k = Math.trunc((rnd() * 2 - 1) * (2 ** 53 / r));
        cases.push(t, k * r, k * r - 1, k * r + 1);
      }
      for (const t of cases) {
        if (!Number.isSafeInteger(t) || !Number.isSafeInteger(go(t, r))) continue;
        if (currentWindow(t, r) !== go(t, r))
          expect.fail(`currentWindow(${t}, ${r}) = ${currentWindow(t, r)}, Go gives ${go(t, r)}`);
      }
    }
  });
  it("targets ≤ 140 samples per chunk on average", () => {
    // 40h of 1-minute data at 5m: 480 windows + 1 → 4 chunks.
    expect(targetChunkCount(0, 40 * 3600_000, 60_000, RESOLUTION_5M, 2400)).toBe(4);
    expect(targetChunkCount(0, 40 * 3600_000, 60_000, RESOLUTION_5M, 240)).toBe(1); // sparse: 10% full
    expect(targetChunkCount(5, 5, 60_000, RESOLUTION_5M, 1)).toBe(1);
  });
});

describe("downsampleBlock raw → 5m", () => {
  it("aggregates per window, drops stale markers and NaN, and frames the counter with raw values", async () => {
    // Counter with a reset inside a window and a stale marker; times start mid-window.
    const s: [number, number][] = [
      [T0, 10],
      [T0 + MIN, 12],
      [T0 + 2 * MIN, STALE_NAN],
      [T0 + 3 * MIN, 3], // reset
      [T0 + 4 * MIN, NaN],
      [T0 + 5 * MIN, 5],
      [T0 + 9 * MIN, 9],
    ];
    const input = await makeBlock([
      { labels: [{ name: "__name__", value: "c_total" }], chunks: [s.slice(0, 4), s.slice(4)] },
    ]);
    const out = new MemoryBlock("out");
    const written = await downsampleBlock(input, out, {
      resolution: RESOLUTION_5M,
      ulid: "01J00000000000000000000000",
    });
    const { meta, series } = await readOut(out);
    const kept = s.filter(([, v]) => !Number.isNaN(v));
    const win = (t: number) => currentWindow(t, RESOLUTION_5M);
    const lastT = kept[kept.length - 1]![0];
    const groups = new Map<number, number[]>();
    for (const [t, v] of kept) {
      const w = Math.min(win(t), lastT);
      groups.set(w, [...(groups.get(w) ?? []), v]);
    }
    const ws = [...groups.keys()];
    expect(series).toHaveLength(1);
    const c = series[0]!.chunks[0]!;
    expect(series[0]!.chunks).toHaveLength(1);
    expect(c.minTime).toBe(ws[0]);
    expect(c.maxTime).toBe(lastT);
    expect(c.parts[0]).toEqual(ws.map((w) => [w, groups.get(w)!.length]));
    expect(c.parts[1]).toEqual(ws.map((w) => [w, groups.get(w)!.reduce((a, b) => a + b, 0)]));
    expect(c.parts[2]).toEqual(ws.map((w) => [w, Math.min(...groups.get(w)!)]));
    expect(c.parts[3]).toEqual(ws.map((w) => [w, Math.max(...groups.get(w)!)]));
    // Running counter: 10, 12, reset +3 → 15, 17, 21; first raw first, last raw last.
    const running = [10, 12, 15, 17, 21];
    const counterAt = (w: number) => running[kept.findLastIndex(([t]) => Math.min(win(t), lastT) === w)];
    expect(c.parts[4]).toEqual([[T0, 10], ...ws.map((w) => [w, counterAt(w)]), [lastT, 9]]);
    expect(meta.thanos?.downsample).toEqual({ resolution: RESOLUTION_5M });
    expect(meta.thanos?.source).toBe("compactor");
    expect(meta.compaction).toEqual({ level: 2, sources: ["01HAAAAAAAAAAAAAAAAAAAAAAA"] });
    expect(written.meta.stats.numSamples).toBe(BigInt(ws.length));
  });

  it("tells the stale marker from a plain NaN by its bits: only a stale marker leaves the time floor alone", async () => {
    // 1 at t0, the marker at t0+2m, then 5 at t0+1m (back in time). Thanos skips a stale marker
    // before its time check, so 5 is kept; a plain NaN moves the floor to t0+2m and 5 is dropped.
    const counts: number[] = [];
    for (const stale of [true, false]) {
      const ts = Float64Array.of(T0, T0 + 2 * MIN, T0 + MIN);
      const vs = new Float64Array(3);
      // Indexed stores keep a NaN's payload; an array (`[t, STALE_NAN]`, `[STALE_NAN, NaN]`)
      // would not: V8 keeps NaNs in double arrays canonical.
      vs[0] = 1;
      vs[1] = stale ? STALE_NAN : Number.NaN;
      vs[2] = 5;
      const chunk = { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, 3) };
      const b = await writeBlock([
        { labels: [{ name: "a", value: "b" }], chunks: [{ minTime: T0, maxTime: T0 + 2 * MIN, chunk }] },
      ]);
      const out = new MemoryBlock("out");
      await downsampleBlock(b, out, { resolution: RESOLUTION_5M, ulid: "01J00000000000000000000000" });
      const { series } = await readOut(out);
      counts.push(series[0]!.chunks.flatMap((c) => c.parts[0]!).reduce((a, [, n]) => a + n, 0));
    }
    expect(counts).toEqual([2, 1]);
  });

  it("keeps external labels and writes no series for one with only stale markers", async () => {
    const input = await makeBlock(
      [
        { labels: [{ name: "a", value: "1" }], chunks: [[[T0, STALE_NAN]]] },
        { labels: [{ name: "a", value: "2" }], chunks: [[[T0, 1]]] },
      ],
      { thanos: { version: 1, labels: { region: "eu" }, downsample: { resolution: 0 }, source: "sidecar" } },
    );
    const out = new MemoryBlock("out");
    await downsampleBlock(input, out, { resolution: RESOLUTION_5M });
    const { meta, series } = await readOut(out);
    expect(series.map((s) => s.labels[0]!.value)).toEqual(["2"]);
    expect(meta.thanos?.labels).toEqual({ region: "eu" });
    expect(meta.stats.numSeries).toBe(1n);
  });

  it("splits long series into chunks aligned to windows, and 5m → 1h keeps the raw counter ends", async () => {
    // 50h at 1 minute, counter resetting every 7h.
    const s: [number, number][] = [];
    for (let i = 0; i < 3000; i++) s.push([T0 + i * MIN, (i % 420) * 2]);
    const chunks: [number, number][][] = [];
    for (let i = 0; i < s.length; i += 120) chunks.push(s.slice(i, i + 120));
    const input = await makeBlock([{ labels: [{ name: "x", value: "y" }], chunks }]);
    const m5 = new MemoryBlock("m5");
    await downsampleBlock(input, m5, { resolution: RESOLUTION_5M });
    const five = await readOut(m5);
    const out = five.series[0]!.chunks;
    expect(out.length).toBe(targetChunkCount(s[0]![0], s[s.length - 1]![0], MIN, RESOLUTION_5M, s.length));
    for (let i = 1; i < out.length; i++) {
      // No window is split across chunks.
      expect(currentWindow(out[i]!.minTime, RESOLUTION_5M)).toBeGreaterThan(out[i - 1]!.maxTime);
    }
    expect(out.reduce((a, c) => a + c.parts[0]!.reduce((x, [, n]) => x + n, 0), 0)).toBe(3000);
    const h1 = new MemoryBlock("h1");
    await downsampleBlock(m5, h1, { resolution: RESOLUTION_1H });
    const hour = await readOut(h1);
    const hc = hour.series[0]!.chunks;
    expect(hc[0]!.parts[4]![0]).toEqual([s[0]![0], 0]);
    const lastCounter = hc[hc.length - 1]!.parts[4]!;
    expect(lastCounter[lastCounter.length - 1]![1]).toBe(s[s.length - 1]![1]);
    // Total increase: 7 full cycles' worth of resets accounted for.
    let inc = 0;
    for (let i = 1; i < s.length; i++) inc += s[i]![1] >= s[i - 1]![1] ? s[i]![1] - s[i - 1]![1] : s[i]![1];
    expect(lastCounter[lastCounter.length - 2]![1]).toBe(inc);
    expect(hc.reduce((a, c) => a + c.parts[0]!.reduce((x, [, n]) => x + n, 0), 0)).toBe(3000);
    expect(hour.meta.thanos?.downsample?.resolution).toBe(RESOLUTION_1H);
  });

  it("rejects a target resolution not coarser than the input", async () => {
    const five = await makeBlock([], { thanos: { version: 1, labels: {}, downsample: { resolution: RESOLUTION_5M } } });
    await expect(downsampleBlock(five, new MemoryBlock(), { resolution: RESOLUTION_5M })).rejects.toThrow(
      /cannot downsample to 300000/,
    );
  });
});

describe("planning rules", () => {
  const H = 3_600_000;
  const meta = (ulid: string, res: number, hours: number, sources: string[]): BlockMeta => ({
    ulid,
    minTime: 0,
    maxTime: hours * H,
    stats: {},
    compaction: { level: 1, sources },
    version: 1,
    thanos: { version: 1, labels: {}, downsample: { resolution: res } },
  });
  const A = "01HA0000000000000000000000";
  const B = "01HB0000000000000000000000";
  const C = "01HC0000000000000000000000";
  it("raw → 5m at ≥ 40h, 5m → 1h at ≥ 10d, never 1h", () => {
    expect(needsDownsampling(meta(A, 0, 40, [A]), undefined, [])).toBe(RESOLUTION_5M);
    expect(needsDownsampling(meta(A, 0, 39.9, [A]), undefined, [])).toBeUndefined();
    expect(needsDownsampling(meta(A, RESOLUTION_5M, 240, [A]), undefined, [])).toBe(RESOLUTION_1H);
    expect(needsDownsampling(meta(A, RESOLUTION_5M, 239, [A]), undefined, [])).toBeUndefined();
    expect(needsDownsampling(meta(A, RESOLUTION_1H, 1000, [A]), undefined, [])).toBeUndefined();
  });
  it("decides 'already downsampled' by sources, not ids", () => {
    const raw = meta(A, 0, 48, [B, C]);
    expect(
      needsDownsampling(raw, undefined, [raw, meta("01HD0000000000000000000000", RESOLUTION_5M, 48, [B, C])]),
    ).toBeUndefined();
    expect(needsDownsampling(raw, undefined, [raw, meta("01HD0000000000000000000000", RESOLUTION_5M, 48, [B])])).toBe(
      RESOLUTION_5M,
    );
    // A 5m block with the raw block's id but other sources does not count.
    expect(needsDownsampling(raw, undefined, [raw, meta(A, RESOLUTION_5M, 48, [A])])).toBe(RESOLUTION_5M);
  });
  it("respects no-downsample marks, also for the sources a marked block would cover", () => {
    const raw = meta(A, 0, 48, [B]);
    const d5 = meta(C, RESOLUTION_5M, 48, [B]);
    expect(needsDownsampling(raw, [{ id: A }], [raw])).toBeUndefined();
    expect(needsDownsampling(raw, new Set([C]), [raw, d5])).toBe(RESOLUTION_5M);
    expect(planDownsampling([meta(B, 0, 48, [B]), raw], new Set([A])).map((p) => p.meta.ulid)).toEqual([B]);
  });
});
