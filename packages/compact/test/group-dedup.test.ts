// Grouping (tenant, external labels minus replica and shard labels, resolution) and
// source-based deduplication (Thanos' DefaultDeduplicateFilter, Mimir's shard-aware one).
import { describe, expect, it } from "vitest";
import { groupBlocks, removeReplicaLabels } from "../src/group/group.ts";
import { findOutdated } from "../src/group/outdated.ts";
import { planAll } from "../src/plan/planner.ts";
import { m, U } from "./plan-fixtures.ts";

describe("groupBlocks", () => {
  it("splits by tenant, labels and resolution, sorted by key", () => {
    const gs = groupBlocks([
      m(1, 0, 20, { labels: { a: "1" } }),
      m(2, 20, 40, { labels: { a: "1" } }),
      m(3, 0, 20, { labels: { a: "2" } }),
      m(4, 0, 20, { labels: { a: "1" }, resolution: 300000 }),
      m(5, 0, 20, { labels: { a: "1" }, tenant: "t2" }),
    ]);
    expect(gs.map((g) => [g.tenant, g.blocks.map((b) => b.ulid)])).toEqual(
      expect.arrayContaining([
        ["", [U(1), U(2)]],
        ["", [U(3)]],
        ["", [U(4)]],
        ["t2", [U(5)]],
      ]),
    );
    expect(gs).toHaveLength(4);
    expect(gs[gs.length - 1]!.tenant).toBe("t2");
  });

  it("removes replica labels as Thanos does, 'deduped' when nothing remains", () => {
    expect(removeReplicaLabels({ cluster: "eu", replica: "a" }, ["replica"])).toEqual({ cluster: "eu" });
    expect(removeReplicaLabels({ replica: "a" }, ["replica", "rule_replica"])).toEqual({ replica: "deduped" });
    expect(removeReplicaLabels({ replica: "a" }, [])).toEqual({ replica: "a" });
    const gs = groupBlocks(
      [m(1, 0, 20, { labels: { c: "x", replica: "a" } }), m(2, 0, 20, { labels: { c: "x", replica: "b" } })],
      { replicaLabels: ["replica"] },
    );
    expect(gs).toHaveLength(1);
    expect(gs[0]!.labels).toEqual({ c: "x" });
  });

  it("keeps sharded blocks in their unsharded group", () => {
    const gs = groupBlocks([
      m(1, 0, 20, { labels: { c: "x", __compactor_shard_id__: "1_of_2" } }),
      m(2, 0, 20, { labels: { c: "x" } }),
    ]);
    expect(gs).toHaveLength(1);
    expect(gs[0]!.blocks.map((b) => b.shardId)).toEqual(["1_of_2", ""]);
  });

  it("replicas overlap, so they are planned vertically", () => {
    const r = planAll([m(1, 0, 20, { labels: { replica: "a" } }), m(2, 0, 20, { labels: { replica: "b" } })], {
      ranges: [20, 60],
      replicaLabels: ["replica"],
    });
    expect(r.plans.map((p) => [p.kind, p.inputs, p.labels])).toEqual([
      ["vertical", [U(1), U(2)], { replica: "deduped" }],
    ]);
  });
});

const outdated = (blocks: ReturnType<typeof m>[]) =>
  findOutdated(groupBlocks(blocks)[0]!.blocks)
    .map((o) => o.ulid)
    .sort();

describe("findOutdated", () => {
  it("crash after upload: the inputs of an uploaded compaction are outdated", () => {
    const bs = [m(1, 0, 20), m(2, 20, 40), m(3, 40, 60), m(4, 0, 60, { level: 2, sources: [1, 2, 3] })];
    expect(outdated(bs)).toEqual([U(1), U(2), U(3)]);
    const r = planAll([...bs, m(5, 60, 80)], { ranges: [20, 60, 180] });
    expect(r.groups[0]!.outdated.map((o) => o.ulid).sort()).toEqual([U(1), U(2), U(3)]);
    expect(r.groups[0]!.outdated[0]!.coveredBy).toEqual([U(4)]);
    expect(r.plans).toEqual([]);
  });

  it("transitive and partial coverage", () => {
    // 5 covers {1,2}; 6 covers {1,2,3,4}; 7 only partly overlaps 6's sources.
    const bs = [
      m(1, 0, 20),
      m(2, 20, 40),
      m(5, 0, 40, { sources: [1, 2] }),
      m(6, 0, 80, { sources: [1, 2, 3, 4] }),
      m(7, 60, 100, { sources: [4, 8] }),
    ];
    expect(outdated(bs)).toEqual([U(1), U(2), U(5)].sort());
  });

  it("sources are a claim: a block covers another only where its time range holds it (issue 12)", () => {
    // 9 lists 1 and 2 among its sources but holds [40, 60): it must not make 1 or 2 outdated.
    expect(outdated([m(1, 0, 20), m(2, 20, 40), m(9, 40, 60, { sources: [1, 2, 9] })])).toEqual([]);
    // A range that holds only one of them covers only that one.
    expect(outdated([m(1, 0, 20), m(2, 20, 40), m(9, 0, 30, { sources: [1, 2, 9] })])).toEqual([U(1)]);
  });

  it("identical sources: the greatest ULID survives", () => {
    expect(
      outdated([
        m(9, 0, 40, { sources: [1, 2] }),
        m(10, 0, 40, { sources: [1, 2] }),
        m(11, 0, 40, { sources: [1, 2] }),
      ]),
    ).toEqual([U(9), U(10)]);
  });

  it("shard-aware: shards do not cover each other; an unsplit block needs every shard", () => {
    const s = (id: number, shard: string, sources: number[]) =>
      m(id, 0, 20, { labels: { __compactor_shard_id__: shard }, sources });
    // Four base blocks split into two shards, then merged again per shard (Mimir's example).
    const full = [
      m(1, 0, 10),
      m(2, 0, 10),
      m(3, 10, 20),
      m(4, 10, 20),
      s(5, "1_of_2", [1, 2]),
      s(6, "2_of_2", [1, 2]),
      s(7, "1_of_2", [3, 4]),
      s(8, "2_of_2", [3, 4]),
      s(9, "1_of_2", [1, 2, 3, 4]),
      s(10, "2_of_2", [1, 2, 3, 4]),
    ];
    expect(outdated(full)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map(U).sort());
    // Only shard 1 of 2 uploaded: the unsplit inputs stay.
    expect(outdated([m(1, 0, 10), m(2, 0, 10), s(5, "1_of_2", [1, 2])])).toEqual([]);
  });
});
