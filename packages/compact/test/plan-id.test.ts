import { describe, expect, it } from "vitest";
import { planAll, planId } from "../src/index.ts";
import { TEST_RANGES, U, m } from "./plan-fixtures.ts";

describe("plan ids", () => {
  it("name the output and the input set: the same blocks plan the same id, whatever their order", () => {
    const metas = [m(1, 0, 20), m(2, 20, 40), m(3, 40, 60), m(4, 60, 80)];
    const a = planAll(metas, { ranges: TEST_RANGES }).plans;
    const b = planAll([...metas].reverse(), { ranges: TEST_RANGES }).plans;
    expect(a.map((p) => p.id)).toEqual(b.map((p) => p.id));
    expect(a[0]!.id).toMatch(/^0@\d+\/merge\/60\/0-60\/[0-9a-f]{16}$/);
    for (const p of a) expect(planId(p)).toBe(p.id);
    expect(planId({ ...a[0]!, inputs: [...a[0]!.inputs].reverse() })).toBe(a[0]!.id);
  });

  it("differ for the same window with other inputs (a late block), and across tenants and shards", () => {
    const late = planAll([m(1, 0, 20), m(2, 20, 40), m(3, 40, 60), m(4, 60, 80)], { ranges: TEST_RANGES }).plans[0]!;
    const early = { ...late, inputs: [U(1), U(3)] };
    expect(planId(early)).not.toBe(late.id);
    expect(planId(early).slice(0, -16)).toBe(late.id.slice(0, -16));
    expect(planId({ ...late, tenant: "other" })).toMatch(/^other\//);
    expect(planId({ ...late, shardId: "1_of_2" })).not.toBe(late.id);
  });

  it("carry the output's labels: the group's, '<replica>=deduped' only when the inputs had labels", () => {
    const ha = planAll([m(1, 0, 20, { labels: { replica: "a" } }), m(2, 0, 20, { labels: { replica: "b" } })], {
      ranges: TEST_RANGES,
      replicaLabels: ["replica"],
    }).plans;
    expect(ha.map((p) => p.labels)).toEqual([{ replica: "deduped" }]);
    const bare = planAll([m(1, 0, 20), m(2, 0, 20, { labels: { replica: "b" } })], {
      ranges: TEST_RANGES,
      replicaLabels: ["replica"],
    });
    expect(bare.groups).toHaveLength(1);
    expect(bare.groups[0]!.group.labels).toEqual({ replica: "deduped" });
    expect(bare.plans.map((p) => p.labels)).toEqual([{}]);
  });
});
