/**
 * The compact job is the plan: its lease is keyed on the plan's id, and a version-1 message
 * (the plan with copies of tenant, group and inputs) still on a queue after an upgrade runs as
 * the same job, under the same lease, as the plan sent now.
 */
import { describe, expect, it } from "vitest";
import { compactLeaseName, encodeJob, handleRecord, type CompactJob, type Job } from "@strata/pipeline";
import { compactJob, fakeGroupKey, harness, meta, planFor, T0, type Harness } from "@strata/testkit/pipeline";

const HOUR = 3600_000;
const G = fakeGroupKey({ cluster: "a" });

async function ok(h: Harness, body: string): Promise<boolean> {
  try {
    await handleRecord(body, h.deps);
    return true;
  } catch {
    return false;
  }
}

/** Two indexed 2h blocks with the given labels, and their plan. */
async function setup(labels: Record<string, string> = { cluster: "a" }, change: Parameters<typeof planFor>[3] = {}) {
  const h = harness();
  const inputs = await Promise.all(
    [0, 1].map((i) =>
      h.bucket.uploadIndexed("t", meta({ minTime: T0 + 2 * i * HOUR, maxTime: T0 + 2 * (i + 1) * HOUR, labels })),
    ),
  );
  const blocks = inputs.map((b) => b.block);
  const plan = planFor("t", G, blocks, change);
  return { h, inputs, blocks, plan };
}

/** The same plan as version 1 sent it: copies beside it, and an id that did not name the inputs. */
const v1Body = (plan: CompactJob["plan"]) =>
  JSON.stringify({
    version: 1,
    type: "compact",
    tenant: plan.tenant,
    groupKey: plan.groupKey,
    blocks: [...plan.inputs].reverse(),
    plan: { ...plan, id: `t/${G}/merge/0-1` },
  });

describe("compact jobs", () => {
  it("take the lease named by the plan's id", async () => {
    const { h, plan } = await setup();
    const held = await h.bucket.acquire("t", compactLeaseName(plan.id));
    expect(await ok(h, encodeJob(compactJob(plan)))).toBe(true);
    expect(h.engines.calls).toEqual([]);
    expect(h.lines.find((l) => l.event === "job-deferred")).toMatchObject({
      job: "compact",
      tenant: "t",
      reason: expect.stringContaining(compactLeaseName(plan.id)),
    });
    // The re-sent copy is the version-2 job, retry counted.
    expect(h.queue.sent).toEqual([{ ...compactJob(plan), retry: 1 }]);
    await held!.release();
  });

  it("a version-1 message still on the queue runs as the plan: same lease, copies dropped, re-sent as version 2", async () => {
    const { h, inputs, plan } = await setup();
    const held = await h.bucket.acquire("t", compactLeaseName(plan.id));
    expect(await ok(h, v1Body(plan))).toBe(true);
    expect(h.engines.calls).toEqual([]); // deferred: the version-2 plan's lease covers it
    const copy = h.queue.drain()[0]!;
    expect(JSON.parse(copy)).toEqual({ version: 2, type: "compact", retry: 1, plan });
    await held!.release();
    expect(await ok(h, copy)).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toEqual([`compact ${plan.inputs.join(",")}`]);
    for (const b of inputs) expect(h.bucket.get(b)!.deletion).toBeDefined();
  });

  it("a version-1 plan naming '<replica>=deduped' for inputs without labels writes an output without labels, as before", async () => {
    const { h, plan } = await setup({}, { labels: { replica: "deduped" } });
    const seen: Job[] = [];
    const real = h.engines.compact.bind(h.engines);
    h.engines.compact = async (tenant, job, opts) => {
      seen.push(job);
      return real(tenant, job, opts);
    };
    expect(await ok(h, v1Body(plan))).toBe(true);
    expect(seen.map((j) => j.type === "compact" && j.plan.labels)).toEqual([{}]);
  });

  it("refuses a plan the planner made for another tenant when planning", async () => {
    const { h, blocks } = await setup();
    h.engines.planner = () => ({
      compactions: [{ groupKey: G, blocks, plan: planFor("other", G, blocks) }],
      downsamples: [],
    });
    expect(await ok(h, encodeJob({ version: 1, type: "plan", tenant: "t" }))).toBe(false);
    expect(h.lines.find((l) => l.event === "job-failed")).toMatchObject({
      error: expect.stringContaining('of tenant "other" for tenant "t"'),
    });
    expect(h.queue.sent).toEqual([]);
  });

  it("index the output and mark the inputs in one index update, and a retry writes the bucket marks it missed", async () => {
    const { h, inputs, plan } = await setup();
    expect(await ok(h, encodeJob(compactJob(plan)))).toBe(true);
    expect(h.bucket.applied).toHaveLength(1);
    const [batch] = h.bucket.applied;
    expect(batch!.add?.map((m) => m.ulid)).toHaveLength(1);
    expect(batch!.markDeleted?.map((m) => m.block).sort()).toEqual(inputs.map((b) => b.block).sort());
    const output = batch!.add![0]!.ulid;
    expect(h.bucket.get({ tenant: "t", block: output })?.meta).toBeDefined();
    // As after a crash between the index update and the bucket marks: the index has the
    // marks, the bucket none. The retry finds the output and writes the bucket marks.
    for (const b of inputs) h.bucket.get(b)!.deletion = undefined;
    expect(await ok(h, encodeJob(compactJob(plan)))).toBe(true);
    for (const b of inputs) expect(h.bucket.get(b)!.deletion?.details).toBe(`compacted into ${output}`);
    expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toHaveLength(1);
  });
});
