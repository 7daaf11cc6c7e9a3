import { describe, expect, it } from "vitest";
import { MemoryBlock, readMeta, type ThanosMeta } from "@strata/tsdb";
import {
  COMPACTOR_SHARD_ID_LABEL,
  CompactionError,
  MAX_PLAN_SHARDS,
  PlanSchema,
  compactBlocks,
  executePlan,
  planAll,
  planId,
  type DedupMode,
  type Plan,
  type PlannerOptions,
} from "../src/index.ts";
import { dumpBlock, memBlock, type SeriesSpec } from "../bench/blocks.ts";

const H = 3600_000;
const H2 = 2 * H;
const T0 = 1_700_006_400_000; // a multiple of 6h
const RANGES = [H2, 3 * H2];

/** `n` series, 15 s scrapes over [from, to), values shifted by `shift`. */
function seriesSet(from: number, to: number, n = 10, extra: Record<string, string> = {}, shift = 0): SeriesSpec[] {
  const out: SeriesSpec[] = [];
  for (let s = 0; s < n; s++) {
    const samples: [number, number][] = [];
    for (let t = from + shift; t < to; t += 15_000) samples.push([t, s * 1000 + (t - T0) / 15_000]);
    out.push({ labels: { __name__: s % 2 ? "up" : "requests_total", instance: `host-${s}`, ...extra }, samples });
  }
  return out;
}

/** A sink that records whether it was committed or aborted, readable as a block. */
class TestSink extends MemoryBlock {
  state: "open" | "committed" | "aborted" = "open";
  async commit(): Promise<void> {
    this.state = "committed";
  }
  async abort(): Promise<void> {
    this.state = "aborted";
    this.files.clear();
  }
}

interface Bucket {
  blocks: Map<string, MemoryBlock>;
  plans: Plan[];
}

/** The planner's plans over the given blocks (tenant "t"). */
async function planned(blocks: MemoryBlock[], opts: PlannerOptions = {}): Promise<Bucket> {
  const metas = await Promise.all(blocks.map((b) => readMeta(b)));
  const byUlid = new Map(metas.map((m, i) => [m.ulid, blocks[i]!]));
  return {
    blocks: byUlid,
    plans: planAll(
      metas.map((meta) => ({ meta, tenant: "t" })),
      { ranges: RANGES, ...opts },
    ).plans,
  };
}

const sourcesOf = (b: Bucket, p: Plan) => p.inputs.map((u) => b.blocks.get(u)!);

/** Run the plan, and the same blocks through compactBlocks with the options the pipeline used to pass. */
async function both(b: Bucket, plan: Plan, o: { dedup?: DedupMode; replicaLabels?: string[] } = {}) {
  const ulid = "01JC0MPACTED00000000000000";
  const sinks: TestSink[] = [];
  const viaPlan = await executePlan(plan, {
    sources: sourcesOf(b, plan),
    sink: (_shard, u) => {
      const s = new TestSink(u);
      sinks.push(s);
      return s;
    },
    ulid,
    ...o,
  });
  const viaBlocks = await compactBlocks(sourcesOf(b, plan), (_shard, u) => new MemoryBlock(u), {
    ulid,
    shards: plan.shardCount,
    ...o,
  });
  return { viaPlan, viaBlocks, sinks };
}

/** Every file byte for byte; meta.json with the output's own (random, for shards > 0) ULID set aside. */
function expectSameBlocks(
  a: { meta: { ulid: string }; sink: unknown }[],
  b: { meta: { ulid: string }; sink: unknown }[],
) {
  expect(a.length).toBe(b.length);
  expect(a.length).toBeGreaterThan(0);
  a.forEach((x, i) => {
    const fa = (x.sink as MemoryBlock).files;
    const fb = (b[i]!.sink as MemoryBlock).files;
    expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
    for (const [name, bytes] of fa) {
      if (name !== "meta.json") expect(Buffer.from(bytes).equals(Buffer.from(fb.get(name)!)), name).toBe(true);
      else {
        const text = (m: Uint8Array, u: string) => new TextDecoder().decode(m).replaceAll(u, "<ULID>");
        expect(text(bytes, x.meta.ulid)).toBe(text(fb.get(name)!, b[i]!.meta.ulid));
      }
    }
  });
}

const thanos = (labels: Record<string, string>, resolution = 0): ThanosMeta => ({
  labels,
  downsample: { resolution },
  source: "sidecar",
});

describe("executePlan writes exactly the blocks compactBlocks writes for the plan's inputs", () => {
  it("a leveled merge of Prometheus blocks (no thanos section)", async () => {
    const blocks = [];
    for (let i = 0; i < 4; i++)
      blocks.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2), { minTime: T0 + i * H2, maxTime: T0 + (i + 1) * H2 }),
      );
    const b = await planned(blocks);
    expect(b.plans.map((p) => [p.kind, p.inputs.length, p.level])).toEqual([["merge", 3, 2]]);
    const { viaPlan, viaBlocks, sinks } = await both(b, b.plans[0]!);
    expectSameBlocks(viaPlan.outputs, viaBlocks.outputs);
    expect(viaPlan.outputs[0]!.meta.thanos).toBeUndefined();
    expect(sinks.map((s) => s.state)).toEqual(["committed"]);
  });

  it("a vertical HA merge with penalty dedup and Thanos labels", async () => {
    const a = await memBlock(seriesSet(T0, T0 + H2), {
      minTime: T0,
      maxTime: T0 + H2,
      thanos: thanos({ cluster: "eu", replica: "a" }),
    });
    const c = await memBlock(seriesSet(T0, T0 + H2, 10, {}, 5_000), {
      minTime: T0,
      maxTime: T0 + H2,
      thanos: thanos({ cluster: "eu", replica: "b" }),
    });
    const b = await planned([a, c], { replicaLabels: ["replica"] });
    expect(b.plans.map((p) => [p.kind, p.labels])).toEqual([["vertical", { cluster: "eu" }]]);
    const { viaPlan, viaBlocks } = await both(b, b.plans[0]!, { dedup: "penalty", replicaLabels: ["replica"] });
    expectSameBlocks(viaPlan.outputs, viaBlocks.outputs);
    expect(viaPlan.outputs[0]!.meta.thanos?.labels).toEqual({ cluster: "eu" });
  });

  it("a stream left with only replica labels is 'deduped'; inputs without labels keep none", async () => {
    const ha = [
      await memBlock(seriesSet(T0, T0 + H2, 2), { minTime: T0, maxTime: T0 + H2, thanos: thanos({ replica: "a" }) }),
      await memBlock(seriesSet(T0, T0 + H2, 2), { minTime: T0, maxTime: T0 + H2, thanos: thanos({ replica: "b" }) }),
    ];
    const x = await planned(ha, { replicaLabels: ["replica"] });
    expect(x.plans[0]!.labels).toEqual({ replica: "deduped" });
    const rx = await both(x, x.plans[0]!, { replicaLabels: ["replica"] });
    expectSameBlocks(rx.viaPlan.outputs, rx.viaBlocks.outputs);
    expect(rx.viaPlan.outputs[0]!.meta.thanos?.labels).toEqual({ replica: "deduped" });

    // Overlapping inputs are ordered by ULID: the first with a thanos section decides, as always.
    const [u1, u2] = ["01JC0000000000000000000001", "01JC0000000000000000000002"];
    for (const [bareUlid, replicaUlid, want] of [
      [u1, u2, {}],
      [u2, u1, { replica: "deduped" }],
    ] as const) {
      const bare = [
        await memBlock(seriesSet(T0, T0 + H2, 2), {
          ulid: bareUlid,
          minTime: T0,
          maxTime: T0 + H2,
          thanos: thanos({}),
        }),
        await memBlock(seriesSet(T0, T0 + H2, 2, {}, 5_000), {
          ulid: replicaUlid,
          minTime: T0,
          maxTime: T0 + H2,
          thanos: thanos({ replica: "b" }),
        }),
      ];
      const y = await planned(bare, { replicaLabels: ["replica"] });
      expect(y.plans.map((p) => [p.kind, p.labels])).toEqual([["vertical", want]]);
      const ry = await both(y, y.plans[0]!, { replicaLabels: ["replica"] });
      expectSameBlocks(ry.viaPlan.outputs, ry.viaBlocks.outputs);
      expect(ry.viaPlan.outputs[0]!.meta.thanos?.labels).toEqual(want);
    }
  });

  it("a split into shards, and a retry that writes only some of them", async () => {
    const blocks = [];
    for (let i = 0; i < 3; i++)
      blocks.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2, 40), {
          minTime: T0 + i * H2,
          maxTime: T0 + (i + 1) * H2,
          thanos: thanos({ cluster: "eu" }),
        }),
      );
    const b = await planned(blocks, { split: { shardCount: 4 } });
    const plan = b.plans.find((p) => p.kind === "split")!;
    expect(plan.shardCount).toBe(4);
    const { viaPlan, viaBlocks, sinks } = await both(b, plan);
    expectSameBlocks(viaPlan.outputs, viaBlocks.outputs);
    expect(viaPlan.outputs.map((o) => o.meta.thanos?.labels)).toEqual(
      viaPlan.outputs.map((o) => ({ cluster: "eu", [COMPACTOR_SHARD_ID_LABEL]: `${o.shard + 1}_of_4` })),
    );
    expect(sinks.every((s) => s.state === "committed")).toBe(true);

    const some = await executePlan(plan, {
      sources: sourcesOf(b, plan),
      sink: (_s, u) => new TestSink(u),
      shards: [1, 3],
    });
    expect(some.outputs.map((o) => o.shard)).toEqual([1, 3]);
    expectSameBlocks(
      some.outputs,
      viaPlan.outputs.filter((o) => o.shard === 1 || o.shard === 3),
    );
  });

  it("a split of Prometheus blocks gets a thanos section with the shard label only", async () => {
    const blocks = [
      await memBlock(seriesSet(T0, T0 + H2, 20), { minTime: T0, maxTime: T0 + H2 }),
      await memBlock(seriesSet(T0 + H2, T0 + 2 * H2, 20), { minTime: T0 + H2, maxTime: T0 + 2 * H2 }),
    ];
    const b = await planned(blocks, { split: { shardCount: 2 }, replicaLabels: ["replica"] });
    const plan = b.plans.find((p) => p.kind === "split")!;
    expect(plan.labels).toEqual({});
    const { viaPlan, viaBlocks } = await both(b, plan, { replicaLabels: ["replica"] });
    expectSameBlocks(viaPlan.outputs, viaBlocks.outputs);
    expect(viaPlan.outputs[0]!.meta.thanos?.labels).toEqual({
      [COMPACTOR_SHARD_ID_LABEL]: `${viaPlan.outputs[0]!.shard + 1}_of_2`,
    });
  });

  it("a merge of one shard's blocks keeps the shard label; a downsampled stream keeps its resolution", async () => {
    const shard = { cluster: "eu", [COMPACTOR_SHARD_ID_LABEL]: "1_of_2" };
    const blocks = [];
    for (let i = 0; i < 3; i++)
      blocks.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2, 5), {
          minTime: T0 + i * H2,
          maxTime: T0 + (i + 1) * H2,
          level: 2,
          thanos: thanos(shard),
        }),
      );
    const b = await planned(blocks, { split: { shardCount: 2 } });
    const plan = b.plans[0]!;
    expect([plan.kind, plan.shardId, plan.labels]).toEqual(["merge", "1_of_2", { cluster: "eu" }]);
    const { viaPlan, viaBlocks } = await both(b, plan);
    expectSameBlocks(viaPlan.outputs, viaBlocks.outputs);
    expect(viaPlan.outputs[0]!.meta.thanos?.labels).toEqual(shard);
    expect(viaPlan.outputs[0]!.meta.compaction.level).toBe(3);

    const ds = [];
    for (let i = 0; i < 4; i++)
      ds.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2, 3), {
          minTime: T0 + i * H2,
          maxTime: T0 + (i + 1) * H2,
          thanos: thanos({ cluster: "eu" }, 300_000),
        }),
      );
    const d = await planned(ds);
    expect(d.plans.map((p) => [p.kind, p.resolution])).toEqual([["merge", 300_000]]);
    const r = await both(d, d.plans[0]!);
    expectSameBlocks(r.viaPlan.outputs, r.viaBlocks.outputs);
    expect(r.viaPlan.outputs[0]!.meta.thanos?.downsample).toEqual({ resolution: 300_000 });
  });
});

describe("executePlan checks the plan against what it is given before writing", () => {
  const setup = async () => {
    const blocks = [];
    for (let i = 0; i < 4; i++)
      blocks.push(
        await memBlock(seriesSet(T0 + i * H2, T0 + (i + 1) * H2, 2), {
          minTime: T0 + i * H2,
          maxTime: T0 + (i + 1) * H2,
          thanos: thanos({ cluster: "eu", replica: "a" }),
        }),
      );
    const b = await planned(blocks, { replicaLabels: ["replica"] });
    return { b, plan: b.plans[0]! };
  };
  /** The error, and that no sink was ever asked for. */
  const refusal = async (
    b: Bucket,
    plan: Plan,
    io: { sources?: MemoryBlock[]; shards?: number[]; replicaLabels?: string[] } = {},
  ) => {
    let asked = 0;
    const err = await executePlan(plan, {
      sources: io.sources ?? sourcesOf(b, plan),
      sink: (_s, u) => {
        asked++;
        return new TestSink(u);
      },
      replicaLabels: io.replicaLabels ?? ["replica"],
      shards: io.shards,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompactionError);
    expect(asked).toBe(0);
    return (err as Error).message;
  };
  const tampered = (p: Plan, change: Partial<Plan>): Plan => {
    const q = { ...p, ...change };
    return { ...q, id: planId(q) };
  };

  it("runs the untouched plan", async () => {
    const { b, plan } = await setup();
    const r = await executePlan(plan, {
      sources: sourcesOf(b, plan),
      sink: (_s, u) => new TestSink(u),
      replicaLabels: ["replica"],
    });
    expect(
      r.outputs.map((o) => [o.meta.minTime, o.meta.maxTime, o.meta.compaction.level, o.meta.thanos?.labels]),
    ).toEqual([[plan.window.minTime, plan.window.maxTime, plan.level, { cluster: "eu" }]]);
  });

  it("refuses sources that are not the plan's inputs in its order", async () => {
    const { b, plan } = await setup();
    const srcs = sourcesOf(b, plan);
    expect(await refusal(b, plan, { sources: srcs.slice(1) })).toBe(
      `plan ${plan.id}: 2 block source(s) given for its 3 input(s)`,
    );
    expect(await refusal(b, plan, { sources: [srcs[1]!, srcs[0]!, srcs[2]!] })).toBe(
      `plan ${plan.id}: input 1 opened as block ${plan.inputs[1]}, but the plan names ${plan.inputs[0]} there (sources must follow plan.inputs)`,
    );
  });

  it("refuses a plan its inputs contradict", async () => {
    const { b, plan } = await setup();
    const u = plan.inputs[0]!;
    expect(await refusal(b, tampered(plan, { resolution: 300_000 }))).toMatch(
      new RegExp(`block ${u} is at resolution 0 ms, the plan at 300000 ms$`),
    );
    expect(await refusal(b, tampered(plan, { labels: { cluster: "us" } }))).toMatch(
      `block ${u}'s external labels {cluster="eu"} are not the plan's {cluster="us"} once replica labels [replica] are removed`,
    );
    expect(await refusal(b, plan, { replicaLabels: [] })).toMatch(
      `block ${u}'s external labels {cluster="eu", replica="a"} are not the plan's {cluster="eu"} once replica labels [] are removed (was it planned with other replica labels?)`,
    );
    expect(await refusal(b, tampered(plan, { shardId: "1_of_2" }))).toMatch(
      `block ${u} carries no shard, but the merge plan's inputs carry shard 1_of_2`,
    );
    expect(
      await refusal(b, tampered(plan, { window: { minTime: plan.window.minTime + 1, maxTime: plan.window.maxTime } })),
    ).toMatch(`block ${u} spans [${T0}, ${T0 + H2}), outside the plan's window`);
    expect(await refusal(b, tampered(plan, { level: 1 }))).toMatch(
      `block ${u} is at level 1, not below the plan's output level 1`,
    );
  });

  it("refuses a malformed plan, repeated inputs, an absurd shard count and shards of a plan that does not split", async () => {
    const { b, plan } = await setup();
    expect(await refusal(b, { ...plan, window: { minTime: 5, maxTime: 5 } })).toMatch(
      `plan ${plan.id}: not a valid plan: window: window.maxTime must exceed window.minTime`,
    );
    expect(await refusal(b, { ...plan, kind: "split" })).toMatch(
      "not a valid plan: shardCount: shardCount is required for split plans and only for them",
    );
    const srcs = sourcesOf(b, plan);
    expect(
      await refusal(b, { ...plan, inputs: [plan.inputs[0]!, plan.inputs[0]!] }, { sources: [srcs[0]!, srcs[0]!] }),
    ).toBe(`plan ${plan.id}: block ${plan.inputs[0]} is an input twice`);
    const split = tampered(plan, { kind: "split", shardCount: MAX_PLAN_SHARDS + 1, splitGroup: "1_of_1" });
    expect(PlanSchema.safeParse(split).success).toBe(true);
    expect(await refusal(b, split)).toBe(
      `plan ${split.id}: ${MAX_PLAN_SHARDS + 1} shards, more than the ${MAX_PLAN_SHARDS} a plan may have`,
    );
    expect(await refusal(b, plan, { shards: [0] })).toMatch(
      "only some shards asked for, but it is a merge plan, not a split",
    );
    expect(
      await refusal(b, tampered(plan, { kind: "split", shardCount: 2, splitGroup: "1_of_1" }), { shards: [2] }),
    ).toMatch("shard 2 asked for, but its outputs are 0..1");
  });
});

describe("executePlan commits outputs one by one, after the check; aborts the rest", () => {
  const split = async () => {
    const blocks = [
      await memBlock(seriesSet(T0, T0 + H2, 40), { minTime: T0, maxTime: T0 + H2 }),
      await memBlock(seriesSet(T0 + H2, T0 + 2 * H2, 40), { minTime: T0 + H2, maxTime: T0 + 2 * H2 }),
    ];
    const b = await planned(blocks, { split: { shardCount: 3 } });
    return { b, plan: b.plans.find((p) => p.kind === "split")! };
  };

  it("a check that refuses an output: the ones before it stay committed, it and the rest are aborted", async () => {
    const { b, plan } = await split();
    const sinks: TestSink[] = [];
    const checked: number[] = [];
    const err = await executePlan(plan, {
      sources: sourcesOf(b, plan),
      sink: (_s, u) => {
        const s = new TestSink(u);
        sinks.push(s);
        return s;
      },
      check: async (o) => {
        checked.push(o.shard);
        expect(o.sink.files.has("meta.json")).toBe(true);
        expect(o.sink.state).toBe("open");
        if (o.shard === 1) throw new Error("shard 1 is broken");
      },
    }).catch((e: unknown) => e);
    expect(String(err)).toMatch("shard 1 is broken");
    expect(checked).toEqual([0, 1]);
    expect(sinks.map((s) => s.state)).toEqual(["committed", "aborted", "aborted"]);
  });

  it("a stop signal: nothing is written once it fired, and a write after it fails and aborts the outputs", async () => {
    const { b, plan } = await split();
    let asked = 0;
    const stopped = new AbortController();
    stopped.abort(new Error("out of time"));
    const err = await executePlan(plan, {
      sources: sourcesOf(b, plan),
      sink: (_s, u) => (asked++, new TestSink(u)),
      signal: stopped.signal,
    }).catch((e: unknown) => e);
    expect(String(err)).toMatch("out of time");
    expect(asked).toBe(0);

    const later = new AbortController();
    const sinks: TestSink[] = [];
    const err2 = await executePlan(plan, {
      sources: sourcesOf(b, plan),
      sink: (_s, u) => {
        const s = new TestSink(u);
        sinks.push(s);
        // Fire as soon as the second output is opened: its writes must fail.
        if (sinks.length === 2) later.abort(new Error("stop now"));
        return s;
      },
      signal: later.signal,
    }).catch((e: unknown) => e);
    expect(String(err2)).toMatch("stop now");
    expect(sinks.length).toBeGreaterThan(1);
    expect(sinks.every((s) => s.state === "aborted")).toBe(true);
  });

  it("writes nothing when no sample is left, and returns no output", async () => {
    const blocks = [
      await memBlock([], { minTime: T0, maxTime: T0 + H2 }),
      await memBlock([], { minTime: T0 + H2, maxTime: T0 + 2 * H2 }),
      await memBlock([], { minTime: T0 + 2 * H2, maxTime: T0 + 3 * H2 }),
      await memBlock([], { minTime: T0 + 3 * H2, maxTime: T0 + 4 * H2 }),
    ];
    const b = await planned(blocks);
    const r = await executePlan(b.plans[0]!, { sources: sourcesOf(b, b.plans[0]!), sink: (_s, u) => new TestSink(u) });
    expect(r.outputs).toEqual([]);
    expect(await dumpBlock(blocks[0]!)).toEqual([]);
  });
});
