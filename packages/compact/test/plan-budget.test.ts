// The job budget: plans carry the cost model's estimate; a plan over the budget is cut down
// (a prefix of the window, more split groups and shards) so that each job fits, and a job
// that cannot fit even alone is refused with a report naming the setting that would let it run.
import { describe, expect, it } from "vitest";
import { planAll } from "../src/plan/planner.ts";
import { PlanSchema } from "../src/plan/schema.ts";
import type { PlannerOptions } from "../src/plan/options.ts";
import type { BudgetOptions } from "../src/plan/budget-guard.ts";
import { blockCostOf, estimateCompaction, estimateDownsampling, estimateVerification } from "../src/cost/model.ts";
import { m, U, type MetaOpts } from "./plan-fixtures.ts";

const H = 3_600_000;
const RANGES = [H, 2 * H, 8 * H, 48 * H];
const GB = 1e9;
const MiB = 2 ** 20;

/** A block whose meta says it holds `gb` GB of chunks (thanos.files), as the planner sees it. */
function big(id: number, minTime: number, maxTime: number, gb: number, o: MetaOpts = {}) {
  const b = m(id, minTime, maxTime, { series: 10_000, indexBytes: 50 * MiB, ...o });
  b.meta.thanos!.files!.push({ rel_path: "chunks/000001", size_bytes: Math.round(gb * GB) });
  b.meta.stats.numSamples = BigInt(Math.round((gb * GB) / 2));
  b.meta.stats.numChunks = BigInt(Math.round((gb * GB) / 240));
  return b;
}
/** Four 2h blocks filling an 8h window, and a newer block (held back). */
const window8h = (gb: number) => [0, 1, 2, 3, 4].map((i) => big(i + 1, i * 2 * H, (i + 1) * 2 * H, gb));
const budget = (minutes: number, memoryBytes = 2800 * MiB): BudgetOptions => ({ seconds: minutes * 60, memoryBytes });

describe("cost model", () => {
  it("reads sizes from thanos.files and stats, with fallbacks", () => {
    const c = blockCostOf(big(1, 0, 2 * H, 1).meta);
    expect(c).toEqual({
      indexBytes: 50 * MiB,
      chunkBytes: 1e9,
      series: 10_000,
      samples: 5e8,
      chunks: Math.round(1e9 / 240),
    });
    const bare = m(2, 0, 2 * H, { series: 1000 }).meta;
    bare.stats.numSamples = 1_000_000n;
    delete bare.thanos!.files;
    expect(blockCostOf(bare)).toMatchObject({ indexBytes: 250_000, chunkBytes: 2_000_000 });
    expect(blockCostOf(bare, 123).indexBytes).toBe(123);
  });

  it("charges S3 transfer, bytes, series and (vertical) samples", () => {
    const c = blockCostOf(big(1, 0, 2 * H, 1).meta);
    const local = { s3ReadBytesPerSecond: Infinity, s3WriteBytesPerSecond: Infinity };
    const one = estimateCompaction([c], {}, local);
    const two = estimateCompaction([c, c], {}, local);
    expect(two.seconds).toBeGreaterThan(1.9 * (one.seconds - 0.15));
    expect(estimateCompaction([c, c], { overlapping: true }, local).seconds).toBeGreaterThan(
      two.seconds + 1e9 * 80e-9 - 1,
    );
    // 40 MB/s each way by default: ~2 × 26 s more for ~1.05 GB.
    expect(estimateCompaction([c]).seconds - one.seconds).toBeCloseTo((2 * (1e9 + 50 * MiB)) / 40e6, 3);
    expect(estimateCompaction([c], { shards: 4 }).peakBytes).toBeGreaterThan(one.peakBytes);
    // The pipeline's page cache: the job's bound, at most 64 MiB per input.
    const cached = { cacheBytes: 256 * MiB, cacheBytesPerInput: 64 * MiB };
    expect(estimateCompaction([c, c], {}, cached).peakBytes - estimateCompaction([c, c]).peakBytes).toBe(128 * MiB);
    expect(
      estimateCompaction([c, c, c, c, c], {}, cached).peakBytes - estimateCompaction([c, c, c, c, c]).peakBytes,
    ).toBe(256 * MiB);
    expect(estimateDownsampling(c, local).seconds).toBeGreaterThan(1);
    expect(estimateVerification(c, local).writeBytes).toBe(0);
  });
});

describe("the job budget in the planner", () => {
  it("attaches an estimate to every plan, budget or not, and it survives PlanSchema", () => {
    const r = planAll(window8h(1), { ranges: RANGES });
    expect(r.plans).toHaveLength(1);
    const p = PlanSchema.parse(JSON.parse(JSON.stringify(r.plans[0])));
    expect(p.estimate).toMatchObject({ readBytes: 4 * (1e9 + 50 * MiB), series: 40_000 });
    expect(p.estimate!.seconds).toBeGreaterThan(4 * 50);
    expect(r.refused).toEqual([]);
  });

  it("cuts a leveled window over the budget to the prefix that fits", () => {
    // Each 2 GB block costs ~108 s (read and write at 40 MB/s, CPU at the measured rates): 4 → ~430 s.
    const opts: PlannerOptions = { ranges: RANGES, budget: budget(5) };
    const all = planAll(window8h(2), { ranges: RANGES }).plans[0]!;
    expect(all.estimate!.seconds).toBeGreaterThan(300);
    const r = planAll(window8h(2), opts);
    expect(r.refused).toEqual([]);
    expect(r.plans).toHaveLength(1);
    const p = r.plans[0]!;
    expect(p.kind).toBe("merge");
    expect(p.inputs).toEqual([U(1), U(2)]);
    expect(p.estimate!.seconds).toBeLessThanOrEqual(300);
    expect(p.reason).toMatch(/first 2 of 4 blocks only/);
    const waiting = r.groups[0]!.skipped.filter((s) => /waits for the next round/.test(s.reason)).map((s) => s.ulid);
    expect(waiting).toEqual([U(3), U(4)]);
  });

  it("splits a window whose prefix cannot fit into split jobs that each fit, with shards for the next level", () => {
    // The prefix's output (4 GB, level 2) beside the next block: no two of them fit together in 5m.
    const metas = [
      big(10, 0, 4 * H, 4, { level: 2, sources: [1, 2] }),
      big(3, 4 * H, 6 * H, 2),
      big(4, 6 * H, 8 * H, 2),
      big(5, 8 * H, 10 * H, 2),
    ];
    const r = planAll(metas, { ranges: RANGES, budget: budget(5) });
    expect(r.refused).toEqual([]);
    expect(r.plans.length).toBeGreaterThan(1);
    const inputs = r.plans.flatMap((p) => p.inputs).sort();
    expect(inputs).toEqual([U(10), U(3), U(4)].sort());
    for (const p of r.plans) {
      expect(p.kind).toBe("split");
      expect(p.estimate!.seconds).toBeLessThanOrEqual(300);
      expect(p.shardCount).toBeGreaterThanOrEqual(2);
      PlanSchema.parse(p);
    }
    expect(new Set(r.plans.map((p) => p.id)).size).toBe(r.plans.length);
  });

  it("spreads a split-and-merge split over more split groups when one job would be over", () => {
    const metas = [0, 1, 2, 3].map((i) => big(i + 1, 0, 2 * H, 2, { labels: { replica: `r${i}` } }));
    const opts: PlannerOptions = { ranges: RANGES, replicaLabels: ["replica"], split: { shardCount: 2 } };
    expect(planAll(metas, opts).plans).toHaveLength(1);
    const r = planAll(metas, { ...opts, budget: budget(5) });
    expect(r.refused).toEqual([]);
    expect(r.plans.length).toBeGreaterThan(1);
    for (const p of r.plans) {
      expect(p.kind).toBe("split");
      expect(p.estimate!.seconds).toBeLessThanOrEqual(300);
    }
    expect(r.plans.flatMap((p) => p.inputs).sort()).toEqual([1, 2, 3, 4].map(U).sort());
  });

  it("refuses a block that cannot fit even alone, with a report naming the setting that lets it run", () => {
    // 12 GB: ~650 s alone, over a 10m budget but under Lambda's 15 minutes.
    const metas = [
      big(1, 0, 2 * H, 12),
      big(2, 2 * H, 4 * H, 1),
      big(3, 4 * H, 6 * H, 1),
      big(4, 6 * H, 8 * H, 1),
      big(5, 8 * H, 10 * H, 1),
    ];
    const r = planAll(metas, { ranges: RANGES, budget: budget(10) });
    expect(r.plans).toEqual([]);
    expect(r.refused).toHaveLength(1);
    const x = r.refused[0]!;
    expect(x.blocks).toEqual([U(1)]);
    expect(x.estimate.seconds).toBeGreaterThan(600);
    expect(x.setting).toBe("STRATA_JOB_BUDGET=15m");
    expect(x.reason).toMatch(
      /^block .* alone needs ~1[01]m \(budget 10m\): 12\.\d GB in and out at 40 MB\/s \(~1[01]m\), the work at the measured ~\d+ MB\/s \(~\d+s\); raise STRATA_JOB_BUDGET to 15m or split with STRATA_SPLIT_SHARDS=\d+/,
    );
    // The other blocks of the window wait; once the pipeline marks the refused block no-compact they merge.
    expect(
      r.groups[0]!.skipped.filter((s) => /refused as over the job budget/.test(s.reason)).map((s) => s.ulid),
    ).toEqual([U(2), U(3), U(4)]);
    const next = planAll([{ ...metas[0]!, noCompact: true }, ...metas.slice(1)], {
      ranges: RANGES,
      budget: budget(10),
    });
    expect(next.refused).toEqual([]);
    expect(next.plans.map((p) => p.inputs)).toEqual([[U(2), U(3), U(4)]]);
  });

  it("says when no budget under the worker's wall would do", () => {
    const metas = [
      big(1, 0, 2 * H, 40),
      big(2, 2 * H, 4 * H, 1),
      big(3, 4 * H, 6 * H, 1),
      big(4, 6 * H, 8 * H, 1),
      big(5, 8 * H, 10 * H, 1),
    ];
    const r = planAll(metas, { ranges: RANGES, budget: budget(10) });
    expect(r.refused).toHaveLength(1);
    expect(r.refused[0]!.reason).toMatch(
      /STRATA_JOB_BUDGET=\d+m would be past the worker's 15m limit or split with STRATA_SPLIT_SHARDS=\d+/,
    );
    expect(r.refused[0]!.setting).toMatch(/^STRATA_SPLIT_SHARDS=\d+$/);
  });

  it("refuses on memory too, suggesting STRATA_JOB_MEMORY", () => {
    // 2 M series in one block: ~3 GiB at the measured bytes per series.
    const metas = [
      big(1, 0, 2 * H, 0.1, { series: 2_000_000 }),
      big(2, 2 * H, 4 * H, 0.1),
      big(3, 4 * H, 6 * H, 0.1),
      big(4, 6 * H, 8 * H, 0.1),
      big(5, 8 * H, 10 * H, 0.1),
    ];
    const r = planAll(metas, { ranges: RANGES, budget: { ...budget(10, 2800 * MiB), limitMemoryBytes: 8 * 2 ** 30 } });
    expect(r.refused).toHaveLength(1);
    expect(r.refused[0]!.blocks).toEqual([U(1)]);
    expect(r.refused[0]!.reason).toMatch(/of memory \(budget 2\.9 GB\); raise STRATA_JOB_MEMORY to \d+MiB/);
    expect(r.refused[0]!.setting).toMatch(/^STRATA_JOB_MEMORY=\d+MiB$/);
  });

  it("refuses a pair of shards that cannot merge in one job, and keeps planning the rest", () => {
    const sh = (s: string): MetaOpts => ({ labels: { __compactor_shard_id__: s }, level: 2 });
    const metas = [
      big(1, 0, 2 * H, 6, sh("1_of_2")),
      big(2, 2 * H, 4 * H, 6, sh("1_of_2")),
      big(3, 0, 2 * H, 1, sh("2_of_2")),
      big(4, 2 * H, 4 * H, 1, sh("2_of_2")),
      big(9, 8 * H, 10 * H, 0.1, sh("1_of_2")),
    ];
    const r = planAll(metas, { ranges: RANGES, budget: budget(10) });
    expect(r.refused.map((x) => x.blocks)).toEqual([[U(1), U(2)]]);
    expect(r.refused[0]!.reason).toMatch(/shard 1_of_2/);
    expect(r.plans.map((p) => [p.shardId, p.inputs])).toEqual([["2_of_2", [U(3), U(4)]]]);
  });
});
