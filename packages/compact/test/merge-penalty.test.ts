import { describe, expect, it } from "vitest";
import { SampleList, penaltyMerge, chainMerge, looksLikeCounter } from "../src/merge/index.ts";

function list(samples: [number, number][]): SampleList {
  const l = new SampleList();
  for (const [t, v] of samples) l.pushFloat(t, v);
  return l;
}
function pairs(l: SampleList): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < l.n; i++) out.push([l.ts[i]!, l.vs[i]!]);
  return out;
}
/** Scrapes every 15 s at `phase` ms, skipping times in [gapFrom, gapTo). */
function scrapes(phase: number, n: number, value: (k: number) => number, gap?: [number, number]): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < n; k++) {
    const t = phase + k * 15_000;
    if (gap && t >= gap[0] && t < gap[1]) continue;
    out.push([t, value(k)]);
  }
  return out;
}
/** What PromQL's increase() sums: positive deltas, and the whole value after a reset. */
function promIncrease(s: [number, number][]): number {
  let inc = 0;
  for (let i = 1; i < s.length; i++) inc += s[i]![1] >= s[i - 1]![1] ? s[i]![1] - s[i - 1]![1] : s[i]![1];
  return inc;
}
function resets(s: [number, number][]): number {
  let n = 0;
  for (let i = 1; i < s.length; i++) if (s[i]![1] < s[i - 1]![1]) n++;
  return n;
}

describe("chain merge (1:1)", () => {
  it("keeps one sample per timestamp, from the earliest input", () => {
    const a = list([
      [0, 1],
      [10, 2],
      [20, 3],
    ]);
    const b = list([
      [10, 99],
      [15, 4],
      [20, 98],
      [30, 5],
    ]);
    expect(pairs(chainMerge([a, b], new SampleList()))).toEqual([
      [0, 1],
      [10, 2],
      [15, 4],
      [20, 3],
      [30, 5],
    ]);
  });
});

describe("penalty dedup (Thanos semantics)", () => {
  it("follows the replica with the earliest first sample and gives the other the 5 s initial penalty", () => {
    const a = list(scrapes(0, 20, (k) => k));
    const b = list(scrapes(4_000, 20, (k) => 100 + k));
    const out = pairs(penaltyMerge([a, b], new SampleList(), { counter: false }));
    expect(out).toEqual(scrapes(0, 20, (k) => k));
  });

  it("equal first timestamps pick replica A; B is only considered again after the penalty", () => {
    const a = list([
      [0, 1],
      [15_000, 2],
    ]);
    const b = list([
      [0, 9],
      [4_000, 9],
      [15_000, 9],
    ]);
    expect(pairs(penaltyMerge([a, b], new SampleList(), { counter: false }))).toEqual([
      [0, 1],
      [15_000, 2],
    ]);
  });

  it("fills a gap in replica A from replica B and then stays with B", () => {
    const a = list(scrapes(0, 40, (k) => k, [60_000, 120_000]));
    const b = list(scrapes(5_000, 40, (k) => 1000 + k));
    const out = pairs(penaltyMerge([a, b], new SampleList(), { counter: false }));
    // A until its gap: 0, 15, 30, 45 s; B was pushed past 2 × 15 s after A's last sample.
    expect(out.slice(0, 4)).toEqual([
      [0, 0],
      [15_000, 1],
      [30_000, 2],
      [45_000, 3],
    ]);
    expect(out[4]).toEqual([80_000, 1005]);
    // After switching, A carries a penalty of twice B's interval: B is kept to the end.
    expect(out.slice(4).every(([, v]) => v >= 1000)).toBe(true);
    expect(out[out.length - 1]).toEqual([5_000 + 39 * 15_000, 1039]);
    for (let i = 1; i < out.length; i++) expect(out[i]![0] - out[i - 1]![0]).toBeGreaterThanOrEqual(15_000);
  });

  it("switches back to A when B has a gap", () => {
    const a = list(scrapes(5_000, 40, (k) => k));
    const b = list(scrapes(0, 40, (k) => 1000 + k, [150_000, 300_000]));
    const out = pairs(penaltyMerge([a, b], new SampleList(), { counter: false }));
    expect(out[0]).toEqual([0, 1000]);
    const during = out.filter(([t]) => t > 170_000 && t < 300_000);
    expect(during.length).toBeGreaterThan(5);
    expect(during.every(([, v]) => v < 1000)).toBe(true);
    for (let i = 1; i < out.length; i++) expect(out[i]![0]).toBeGreaterThan(out[i - 1]![0]);
  });

  it("nests three replicas in order", () => {
    const a = list(scrapes(0, 10, () => 1, [30_000, 200_000]));
    const b = list(scrapes(2_000, 10, () => 2, [0, 200_000]));
    const c = list(scrapes(3_000, 20, () => 3));
    const out = pairs(penaltyMerge([a, b, c], new SampleList(), { counter: false }));
    expect(out.slice(0, 2).map(([, v]) => v)).toEqual([1, 1]);
    expect(out.slice(2).every(([, v]) => v === 3)).toBe(true);
  });
});

describe("counter resets across replicas", () => {
  // A scrapes at 0 s, B 5 s later but reads the target a moment earlier: its values lag.
  const aVals = [100, 110, 120, 130];
  const bVals = [98, 108, 118, 128, 128, 128, 128, 140, 150, 160];
  const a = () => list(scrapes(0, 4, (k) => aVals[k]!));
  const b = () => list(scrapes(5_000, 10, (k) => bVals[k]!));

  it("Thanos' behaviour (no hold) fabricates a reset at the switch and inflates increase()", () => {
    const out = pairs(penaltyMerge([a(), b()], new SampleList(), { counter: false }));
    expect(out.map(([, v]) => v)).toEqual([100, 110, 120, 130, 128, 128, 140, 150, 160]);
    expect(resets(out)).toBe(1);
    expect(promIncrease(out)).toBe(30 + 128 + 12 + 10 + 10);
  });

  it("the hold never fabricates a reset: increase() equals the counter's true growth", () => {
    const out = pairs(penaltyMerge([a(), b()], new SampleList(), { counter: true }));
    // Timestamps are B's own; values below A's last (130) are held at 130 until B catches up.
    expect(out).toEqual([
      [0, 100],
      [15_000, 110],
      [30_000, 120],
      [45_000, 130],
      [80_000, 130],
      [95_000, 130],
      [110_000, 140],
      [125_000, 150],
      [140_000, 160],
    ]);
    expect(resets(out)).toBe(0);
    expect(promIncrease(out)).toBe(160 - 100);
  });

  it("a genuine reset (visible in the replica's own samples) passes through", () => {
    const bReset = [98, 108, 118, 128, 128, 2, 5, 8, 11, 14];
    const out = pairs(
      penaltyMerge([a(), list(scrapes(5_000, 10, (k) => bReset[k]!))], new SampleList(), { counter: true }),
    );
    expect(out.map(([, v]) => v)).toEqual([100, 110, 120, 130, 2, 5, 8, 11, 14]);
    expect(resets(out)).toBe(1);
    expect(promIncrease(out)).toBe(30 + 2 + 12);
  });

  it("a stale marker or NaN ends the hold", () => {
    const bNaN = [98, 108, 118, 128, 128, NaN, 125, 140, 150, 160];
    const out = pairs(
      penaltyMerge([a(), list(scrapes(5_000, 10, (k) => bNaN[k]!))], new SampleList(), { counter: true }),
    );
    expect(out[4]![1]).toBeNaN();
    expect(out.slice(5).map(([, v]) => v)).toEqual([125, 140, 150, 160]);
  });

  it("guesses counters from their names", () => {
    expect(looksLikeCounter("http_requests_total")).toBe(true);
    expect(looksLikeCounter("rpc_duration_seconds_bucket")).toBe(true);
    expect(looksLikeCounter("rpc_duration_seconds_count")).toBe(true);
    expect(looksLikeCounter("temperature_celsius")).toBe(false);
    expect(looksLikeCounter(undefined)).toBe(false);
  });
});
