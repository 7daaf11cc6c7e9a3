// Planner cases ported as data from Thanos' pkg/compact/planner_test.go (which adapts
// Prometheus' TestLeveledCompactor_plan). Expected plans are lists of input ids. Where
// Thanos returns one plan per call, Strata returns every independent one: those cases
// say so in their name and list the extra plans.
import { describe, expect, it } from "vitest";
import { groupBlocks } from "../src/group/group.ts";
import { planGroup } from "../src/plan/planner.ts";
import type { PlannerOptions } from "../src/plan/options.ts";
import { PlanSchema } from "../src/plan/schema.ts";
import { m, TEST_RANGES, U, type MetaOpts } from "./plan-fixtures.ts";

type B = [id: number, minTime: number, maxTime: number, opts?: MetaOpts];
interface Case {
  name: string;
  blocks: B[];
  expected: number[][];
  kinds?: string[];
  opts?: PlannerOptions;
}

function run(blocks: B[], opts: PlannerOptions = {}) {
  const groups = groupBlocks(blocks.map(([id, a, b, o]) => m(id, a, b, o)));
  expect(groups.length).toBeLessThanOrEqual(1);
  if (groups.length === 0) return { plans: [], skipped: [], outdated: [] };
  return planGroup(groups[0]!, { ranges: TEST_RANGES, ...opts });
}

const compat: Case[] = [
  { name: "outside range", blocks: [[1, 0, 20]], expected: [] },
  {
    name: "wait for four blocks of size 20",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
    ],
    expected: [],
  },
  {
    name: "wait for the next block; the fresh one is ignored",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [3, 40, 60],
    ],
    expected: [],
  },
  {
    name: "block to fill the entire parent range appeared",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [3, 40, 60],
      [4, 60, 80],
    ],
    expected: [[1, 2, 3]],
  },
  {
    name: "blocks fill the entire 2nd parent range",
    blocks: [
      [6, 0, 60],
      [7, 60, 120],
      [8, 120, 180],
      [9, 180, 200],
      [10, 200, 220],
    ],
    expected: [[6, 7, 8]],
  },
  {
    name: "next parent range appeared after a gap; fresh one ignored",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [4, 60, 80],
    ],
    expected: [],
  },
  {
    name: "gap of 20 will never be filled: compact the two",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [4, 60, 80],
      [5, 80, 100],
    ],
    expected: [[1, 2]],
  },
  {
    name: "20, 20, 20, 60, 60 with 5 fresh",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [3, 40, 60],
      [4, 60, 120],
      [5, 120, 180],
    ],
    expected: [[1, 2, 3]],
  },
  {
    name: "entire 2nd parent range with a gap",
    blocks: [
      [6, 0, 60],
      [8, 120, 180],
      [9, 180, 200],
      [10, 200, 220],
    ],
    expected: [[6, 8]],
  },
  {
    name: "two sets fill two 60 windows; Strata also plans the independent full 180 window",
    blocks: [
      [1, 180, 200],
      [2, 200, 220],
      [3, 220, 240],
      [4, 240, 260],
      [5, 260, 280],
      [6, 280, 300],
      [7, 0, 60],
      [8, 60, 120],
      [9, 120, 180],
      [10, 300, 320],
    ],
    expected: [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ],
  },
  {
    name: "20, 60, 20, 60, 240: compact 20 + 60 + 60",
    blocks: [
      [2, 20, 40],
      [4, 60, 120],
      [5, 960, 980],
      [6, 120, 180],
      [7, 720, 960],
    ],
    expected: [[2, 4, 6]],
  },
  {
    name: "large block with many tombstones but no fresh block",
    blocks: [[1, 0, 540, { series: 10, tombstones: 3 }]],
    expected: [],
  },
  {
    name: "large block with many tombstones when fresh appears",
    blocks: [
      [1, 0, 540, { series: 10, tombstones: 3 }],
      [2, 540, 560],
    ],
    expected: [[1]],
    kinds: ["tombstones"],
  },
  {
    name: "small blocks: no tombstone compaction",
    blocks: [
      [1, 0, 60, { series: 10, tombstones: 3 }],
      [2, 60, 80],
    ],
    expected: [],
  },
  {
    name: "regression: zero tombstones and series do not loop",
    blocks: [
      [1, 0, 540],
      [2, 540, 560],
    ],
    expected: [],
  },
  {
    name: "regression: freshness by minTime, not ULID",
    blocks: [
      [5, 0, 360],
      [6, 540, 560],
      [7, 360, 420],
      [8, 420, 540],
    ],
    expected: [[7, 8]],
  },
  {
    name: "overlapping blocks 1",
    blocks: [
      [1, 0, 20],
      [2, 19, 40],
      [3, 40, 60],
    ],
    expected: [[1, 2]],
    kinds: ["vertical"],
  },
  {
    name: "overlapping blocks 2",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [3, 30, 50],
    ],
    expected: [[2, 3]],
    kinds: ["vertical"],
  },
  {
    name: "overlapping blocks 3",
    blocks: [
      [1, 0, 20],
      [2, 10, 40],
      [3, 30, 50],
    ],
    expected: [[1, 2, 3]],
    kinds: ["vertical"],
  },
  {
    name: "overlapping blocks 4",
    blocks: [
      [5, 0, 360],
      [6, 340, 560],
      [7, 360, 420],
      [8, 420, 540],
    ],
    expected: [[5, 6, 7, 8]],
    kinds: ["vertical"],
  },
  {
    name: "multiple independent overlapping runs are all planned",
    blocks: [
      [1, 0, 10],
      [2, 9, 20],
      [3, 17, 35],
      [4, 35, 50],
      [5, 47, 60],
    ],
    expected: [
      [1, 2, 3],
      [4, 5],
    ],
    kinds: ["vertical", "vertical"],
  },
  {
    name: "downsampled overlapping blocks are never merged",
    blocks: [
      [1, 0, 30, { resolution: 300000 }],
      [2, 0, 60, { resolution: 300000 }],
      [3, 0, 20, { resolution: 300000 }],
    ],
    expected: [],
  },
];

const failed: Case[] = [
  {
    name: "failed block in a full window",
    blocks: [
      [1, 0, 20],
      [2, 20, 40, { failed: true }],
      [3, 40, 60],
      [4, 60, 80],
    ],
    expected: [],
  },
  {
    name: "failed block before a gap",
    blocks: [
      [1, 0, 20],
      [2, 20, 40, { failed: true }],
      [4, 60, 80],
      [5, 80, 100],
    ],
    expected: [],
  },
  {
    name: "failed block among mixed ranges",
    blocks: [
      [1, 0, 20],
      [2, 20, 40, { failed: true }],
      [3, 40, 60],
      [4, 60, 120],
      [5, 120, 180],
      [6, 180, 200],
    ],
    expected: [],
  },
];

const nc = { noCompact: true };
const noCompact: Case[] = [
  { name: "outside range and excluded", blocks: [[1, 0, 20, nc]], expected: [] },
  {
    name: "parent filled, first excluded",
    blocks: [
      [1, 0, 20, nc],
      [2, 20, 40],
      [3, 40, 60],
      [4, 60, 80],
    ],
    expected: [[2, 3]],
  },
  {
    name: "parent filled, second excluded",
    blocks: [
      [1, 0, 20],
      [2, 20, 40, nc],
      [3, 40, 60],
      [4, 60, 80],
    ],
    expected: [],
  },
  {
    name: "parent filled, last excluded",
    blocks: [
      [1, 0, 20],
      [2, 20, 40],
      [3, 40, 60],
      [4, 60, 80, nc],
    ],
    expected: [[1, 2, 3]],
  },
  {
    name: "parent filled, first and last excluded",
    blocks: [
      [1, 0, 20, nc],
      [2, 20, 40],
      [3, 40, 60],
      [4, 60, 80, nc],
    ],
    expected: [[2, 3]],
  },
  {
    name: "parent filled, all excluded",
    blocks: [
      [1, 0, 20, nc],
      [2, 20, 40, nc],
      [3, 40, 60, nc],
      [4, 60, 80, nc],
    ],
    expected: [],
  },
  {
    name: "gap, second excluded",
    blocks: [
      [1, 0, 20],
      [2, 20, 40, nc],
      [4, 60, 80],
      [5, 80, 100],
    ],
    expected: [],
  },
  {
    name: "20, 60, 20, 60, 240 with 6 excluded",
    blocks: [
      [2, 20, 40],
      [4, 60, 120],
      [5, 960, 980],
      [6, 120, 180, nc],
      [7, 720, 960],
    ],
    expected: [[2, 4]],
  },
  {
    name: "20, 60, 20, 60, 240 with 4 excluded",
    blocks: [
      [2, 20, 40],
      [4, 60, 120, nc],
      [5, 960, 980],
      [6, 120, 180],
      [7, 720, 960],
    ],
    expected: [],
  },
  {
    name: "tombstones but excluded",
    blocks: [
      [1, 0, 540, { series: 10, tombstones: 3, noCompact: true }],
      [2, 540, 560],
    ],
    expected: [],
  },
  {
    name: "overlapping blocks 1, one excluded",
    blocks: [
      [1, 0, 20],
      [2, 19, 40, nc],
      [3, 40, 60],
    ],
    expected: [],
  },
];

for (const [title, cases] of [
  ["Thanos/Prometheus planner compatibility", compat],
  ["failed compactions", failed],
  ["no-compact marks", noCompact],
] as const) {
  describe(title, () => {
    for (const c of cases) {
      it(c.name, () => {
        const r = run(c.blocks, c.opts);
        const got = r.plans.map((p) => p.inputs).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
        const want = c.expected.map((ids) => ids.map(U)).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
        expect(got).toEqual(want);
        if (c.kinds) expect(r.plans.map((p) => p.kind)).toEqual(c.kinds);
        for (const p of r.plans) expect(PlanSchema.parse(JSON.parse(JSON.stringify(p)))).toEqual(p);
      });
    }
  });
}

describe("plan details", () => {
  it("fills window, level and labels from the inputs", () => {
    const r = run([
      [1, 0, 20, { labels: { a: "1" } }],
      [2, 20, 40, { labels: { a: "1" }, level: 2 }],
      [3, 40, 60, { labels: { a: "1" } }],
      [4, 60, 80, { labels: { a: "1" } }],
    ]);
    expect(r.plans).toHaveLength(1);
    const p = r.plans[0]!;
    expect(p).toMatchObject({
      kind: "merge",
      window: { minTime: 0, maxTime: 60 },
      range: 60,
      level: 3,
      overlapping: false,
      labels: { a: "1" },
      resolution: 0,
      tenant: "",
    });
    expect(p.groupKey).toMatch(/^0@\d+$/);
    expect(r.skipped).toContainEqual({ ulid: U(4), reason: "newest block of the group, held back" });
  });

  it("reports no-compact, deletion-marked and failed blocks with reasons", () => {
    const r = run([
      [1, 0, 20, { deletionMarked: true }],
      [2, 20, 40, nc],
      [3, 40, 60, { failed: true }],
      [4, 60, 80],
      [5, 80, 100],
    ]);
    const reasons = Object.fromEntries(r.skipped.map((s) => [s.ulid, s.reason]));
    expect(reasons[U(1)]).toMatch(/deletion-mark/);
    expect(reasons[U(2)]).toMatch(/no-compact/);
    expect(reasons[U(5)]).toMatch(/newest/);
  });

  it("vertical and leveled plans in disjoint windows come together", () => {
    // Overlap in [0, 60) and a full 60 window at [60, 120) plus a fresh block.
    const r = run([
      [1, 0, 20],
      [2, 10, 30],
      [3, 60, 80],
      [4, 80, 100],
      [5, 100, 120],
      [6, 120, 140],
    ]);
    expect(r.plans.map((p) => [p.kind, p.inputs])).toEqual([
      ["vertical", [U(1), U(2)]],
      ["merge", [U(3), U(4), U(5)]],
    ]);
  });

  it("rejects ranges that do not divide each other", () => {
    expect(() => run([[1, 0, 20]], { ranges: [20, 50] })).toThrow(/ranges\[1\]/);
  });
});
