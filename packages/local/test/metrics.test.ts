// `/metrics` of the page server (the local runtime's HTTP port, `strata web`) over a `file://`
// bucket with known counts: a quarantined block, a backlog (one compaction pending), an upload
// not indexed yet, blocks marked for deletion, the root tenant; the worker's job metrics from
// the registry; the queue depths. Every value is checked, and the text format's rules (HELP and
// TYPE once per family, label values escaped).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsStore } from "@strata/bucket";
import {
  EXPOSITION_CONTENT_TYPE,
  MetricsRegistry,
  exposition,
  startWebServer,
  type WebServer,
} from "@strata/local/web";
import { seedMetricsBucket, type MetricsSeeded } from "./metrics-bucket.ts";

/** `name{labels}` → value, for the sample lines of a text page. */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe("/metrics", () => {
  let dir: string;
  let server: WebServer;
  let seeded: MetricsSeeded;
  let text: string;
  let contentType: string | null;
  const registry = new MetricsRegistry();
  // 100 s after the uploads: the lag and the index age are known to the second.
  let now = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-metrics-"));
    const store = new FsStore(dir);
    seeded = await seedMetricsBucket(store);
    // +1 ms: a file's mtime has sub-millisecond precision and may fall later in the same
    // millisecond as Date.now().
    now = Date.now() + 100_001;
    registry.add("strata_jobs_total", 3, { type: "verify", outcome: "done", tenant: "team-c" });
    registry.add("strata_jobs_total", 1, { type: "verify", outcome: "quarantined", tenant: "team-b" });
    registry.observe("strata_job_duration_seconds", 0.5, { type: "verify", outcome: "done", tenant: "team-c" });
    registry.observe("strata_job_duration_seconds", 1.5, { type: "verify", outcome: "done", tenant: "team-c" });
    server = await startWebServer({
      store,
      port: 0,
      engine: { replicaLabels: ["replica"] },
      metrics: registry,
      queues: async () => ({ jobs: 4, dlq: 1 }),
      now: () => now,
    });
    const r = await fetch(`${server.url}/metrics`);
    expect(r.status).toBe(200);
    contentType = r.headers.get("content-type");
    text = await r.text();
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("is text format 0.0.4, each family with HELP and TYPE once", () => {
    expect(contentType).toBe(EXPOSITION_CONTENT_TYPE);
    const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
    expect(types).toContain("# TYPE strata_jobs_total counter");
    expect(types).toContain("# TYPE strata_job_duration_seconds summary");
    expect(types).toContain("# TYPE strata_blocks gauge");
    for (const t of types) expect(text).toContain(`# HELP ${t.split(" ")[2]} `);
  });

  it("reports the worker's job metrics", () => {
    const v = parseExposition(text);
    expect(v.get('strata_jobs_total{type="verify",outcome="done",tenant="team-c"}')).toBe(3);
    expect(v.get('strata_jobs_total{type="verify",outcome="quarantined",tenant="team-b"}')).toBe(1);
    expect(v.get('strata_job_duration_seconds_sum{type="verify",outcome="done",tenant="team-c"}')).toBe(2);
    expect(v.get('strata_job_duration_seconds_count{type="verify",outcome="done",tenant="team-c"}')).toBe(2);
  });

  it("reports each tenant's blocks, backlog, lag, quarantine, marks and index", () => {
    const v = parseExposition(text);
    const t = (tenant: string) => `{tenant="${tenant}"}`;
    // team-a: a1 and a2 marked for deletion, their level-2 output live.
    expect(v.get('strata_blocks{tenant="team-a",level="2",resolution="0"}')).toBe(1);
    expect(v.has('strata_blocks{tenant="team-a",level="1",resolution="0"}')).toBe(false);
    // team-b: one live block, one quarantined (the broken and partial ones are neither).
    expect(v.get('strata_blocks{tenant="team-b",level="1",resolution="0"}')).toBe(1);
    expect(v.get(`strata_quarantined_blocks${t("team-b")}`)).toBe(1);
    expect(v.get(`strata_no_compact_marks${t("team-b")}`)).toBe(1);
    expect(v.get(`strata_quarantined_blocks${t("team-a")}`)).toBe(0);
    // team-c: five live 2h blocks, one compaction pending, one upload not indexed (100 s old).
    expect(v.get('strata_blocks{tenant="team-c",level="1",resolution="0"}')).toBe(seeded.cLive.length);
    expect(v.get(`strata_pending_plans${t("team-c")}`)).toBe(1);
    expect(v.get(`strata_pending_plans${t("team-a")}`)).toBe(0);
    expect(v.get(`strata_pending_plans${t("team-b")}`)).toBe(0);
    const lag = v.get(`strata_upload_lag_seconds${t("team-c")}`)!;
    expect(lag).toBeGreaterThanOrEqual(100);
    expect(lag).toBeLessThan(160);
    expect(v.get(`strata_upload_lag_seconds${t("team-a")}`)).toBe(0);
    // The root tenant: one block uploaded, never indexed; no index yet.
    expect(v.get(`strata_upload_lag_seconds${t("__root__")}`)).toBeGreaterThanOrEqual(100);
    expect(v.has(`strata_bucket_index_age_seconds${t("__root__")}`)).toBe(false);
    for (const tenant of ["team-a", "team-b", "team-c"]) {
      const age = v.get(`strata_bucket_index_age_seconds${t(tenant)}`)!;
      expect(age).toBeGreaterThanOrEqual(99);
      expect(age).toBeLessThan(160);
      expect(v.get(`strata_bucket_index_bytes${t(tenant)}`)).toBeGreaterThan(50);
    }
  });

  it("reports the queue and DLQ depth", () => {
    const v = parseExposition(text);
    expect(v.get('strata_queue_messages{queue="jobs"}')).toBe(4);
    expect(v.get('strata_queue_messages{queue="dlq"}')).toBe(1);
  });

  it("escapes label values; the registry keeps a bounded number of label sets", () => {
    const r = new MetricsRegistry();
    r.add("strata_jobs_total", 1, { type: "verify", outcome: "done", tenant: 'a"b\\c\nd' });
    expect(exposition(r, [])).toContain('strata_jobs_total{type="verify",outcome="done",tenant="a\\"b\\\\c\\nd"} 1\n');
    for (let i = 0; i < 10_001; i++) r.add("strata_invalid_messages_total", 1, { n: String(i) });
    expect(r.dropped).toBe(1);
  });

  it("answers HEAD without a body", async () => {
    const r = await fetch(`${server.url}/metrics`, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("");
  });
});
