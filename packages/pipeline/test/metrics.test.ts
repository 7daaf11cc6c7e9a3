// The worker's job metrics through the Metrics port: count and duration by type, outcome and
// tenant; what a compaction read and wrote (from the blocks' meta.json); invalid messages;
// every name reported is in the catalogue with the type the call implies.
import { describe, expect, it } from "vitest";
import { METRICS, encodeJob, handleRecord, type MetricLabels, type Metrics } from "@strata/pipeline";
import { compactJob, fakeGroupKey, harness, meta, planFor, T0 } from "@strata/testkit/pipeline";

const HOUR = 3_600_000;

function recording(): Metrics & { calls: [string, string, number, MetricLabels][] } {
  const calls: [string, string, number, MetricLabels][] = [];
  return {
    calls,
    add: (name, value, labels) => calls.push(["add", name, value, labels]),
    observe: (name, value, labels) => calls.push(["observe", name, value, labels]),
    set: (name, value, labels) => calls.push(["set", name, value, labels]),
  };
}

describe("job metrics", () => {
  it("a compaction: count, duration, bytes and samples read and written, by type, outcome and tenant", async () => {
    const h = harness();
    const m = recording();
    h.deps.metrics = m;
    const inputs = [0, 1].map((i) => {
      const b = meta({ minTime: T0 + 2 * i * HOUR, maxTime: T0 + 2 * (i + 1) * HOUR });
      b.thanos!.files = [
        { rel_path: "index", size_bytes: 1000 },
        { rel_path: "chunks/000001", size_bytes: 24 },
        { rel_path: "meta.json" },
      ];
      return b;
    });
    for (const b of inputs) await h.bucket.uploadIndexed("t", b);
    const plan = planFor(
      "t",
      fakeGroupKey({ cluster: "a" }),
      inputs.map((b) => b.ulid),
    );
    const started = h.clock.t;
    const slow = h.engines.compact.bind(h.engines);
    h.engines.compact = async (...a) => {
      h.clock.t += 2500;
      return slow(...a);
    };
    await handleRecord(encodeJob(compactJob(plan)), h.deps);
    expect(h.clock.t - started).toBe(2500);
    const by = { type: "compact", tenant: "t" };
    expect(m.calls).toEqual([
      ["add", "strata_jobs_total", 1, { ...by, outcome: "done" }],
      ["observe", "strata_job_duration_seconds", 2.5, { ...by, outcome: "done" }],
      ["add", "strata_job_read_bytes_total", 2048, by],
      // The output's meta.json lists no file sizes (as Prometheus' blocks): its files as listed,
      // here the fake bucket's one-byte meta.json.
      ["add", "strata_job_written_bytes_total", 1, by],
      ["add", "strata_job_read_samples_total", 200, by],
      ["add", "strata_job_written_samples_total", 100, by],
    ]);
  });

  it("a failed job counts as outcome failed; a quarantine as quarantined; the root tenant is __root__", async () => {
    const h = harness();
    const m = recording();
    h.deps.metrics = m;
    const bad = meta({ minTime: T0, maxTime: T0 + 2 * HOUR });
    h.bucket.upload("", bad);
    h.engines.broken.set(bad.ulid, "chunk checksum mismatch");
    await handleRecord(encodeJob({ version: 1, type: "verify", tenant: "", block: bad.ulid }), h.deps);
    expect(m.calls[0]).toEqual([
      "add",
      "strata_jobs_total",
      1,
      { type: "verify", outcome: "quarantined", tenant: "__root__" },
    ]);

    const crash = meta({ minTime: T0, maxTime: T0 + 2 * HOUR });
    h.bucket.upload("t", crash);
    h.engines.crashing.add(crash.ulid);
    await expect(
      handleRecord(encodeJob({ version: 1, type: "verify", tenant: "t", block: crash.ulid }), h.deps),
    ).rejects.toThrow();
    expect(m.calls.filter((c) => c[3].outcome === "failed").map((c) => c[1])).toEqual([
      "strata_jobs_total",
      "strata_job_duration_seconds",
    ]);

    await expect(handleRecord("{not json", h.deps)).rejects.toThrow();
    expect(m.calls.at(-1)).toEqual(["add", "strata_invalid_messages_total", 1, {}]);
  });

  it("an index re-sync reports the tenant's gauges; a failure to compute them is a warning, not the job's", async () => {
    const h = harness();
    const m = recording();
    h.deps.metrics = m;
    h.deps.tenantGauges = async (tenant) => [
      { name: "strata_pending_plans", labels: { tenant }, value: 3 },
      { name: "strata_quarantined_blocks", labels: { tenant }, value: 1 },
    ];
    await handleRecord(encodeJob({ version: 1, type: "index-sync", tenant: "t" }), h.deps);
    expect(m.calls.filter((c) => c[0] === "set")).toEqual([
      ["set", "strata_pending_plans", 3, { tenant: "t" }],
      ["set", "strata_quarantined_blocks", 1, { tenant: "t" }],
    ]);
    h.deps.tenantGauges = async () => {
      throw new Error("listing failed");
    };
    await handleRecord(encodeJob({ version: 1, type: "index-sync", tenant: "t" }), h.deps);
    expect(h.lines.find((l) => l.event === "tenant-gauges-failed")).toMatchObject({ error: "listing failed" });
    expect(m.calls.at(-2)).toEqual([
      "add",
      "strata_jobs_total",
      1,
      { type: "index-sync", outcome: "done", tenant: "t" },
    ]);
  });

  it("an index re-sync reports the gauges before it rebuilds, so a rebuild that fails still reports the index's age", async () => {
    const h = harness();
    const m = recording();
    h.deps.metrics = m;
    h.deps.tenantGauges = async (tenant) => [
      { name: "strata_bucket_index_age_seconds", labels: { tenant }, value: 4 * 3600 },
    ];
    h.deps.index.rebuild = async () => {
      throw new Error("listing failed (S3 503 after every retry)");
    };
    await expect(handleRecord(encodeJob({ version: 1, type: "index-sync", tenant: "t" }), h.deps)).rejects.toThrow();
    expect(m.calls.filter((c) => c[0] === "set")).toEqual([
      ["set", "strata_bucket_index_age_seconds", 4 * 3600, { tenant: "t" }],
    ]);
  });

  it("every name reported is in the catalogue, with labels it declares", () => {
    for (const [name, def] of Object.entries(METRICS)) {
      expect(name).toMatch(/^strata_[a-z_]+$/);
      if (def.type === "counter") expect(name).toMatch(/_total$/);
      if (def.unit === "Seconds") expect(name).toMatch(/_seconds$/);
      if (def.unit === "Bytes") expect(name).toMatch(/_bytes(_total)?$/);
      expect(def.help.length).toBeGreaterThan(10);
    }
  });
});
