// Issue 16: `/metrics` of a running local runtime scraped by a real `prometheus` (Debian's,
// installed by .ci/setup), and PromQL answering with the scenario's known counts: the end-to-end
// scenario (fixtures.ts) uploaded and settled, so team-b has one quarantined block and its
// compactions ran; the queues are empty once settled.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { LocalRuntime } from "@strata/local";
import { assertPromtool } from "@strata/testkit/promtool";
import { PrometheusServer, type PromSample } from "@strata/testkit/prometheus";
import { TempDirs } from "@strata/testkit/tmp";
import { TENANT_A, TENANT_B, buildScenario, type Scenario } from "./fixtures.ts";
import { logTail, startE2eRuntime, uploadAndSettle } from "./runtime.ts";

const tmp = new TempDirs();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];
let prom: PrometheusServer | undefined;

beforeAll(async () => {
  assertPromtool();
  sc = await buildScenario(tmp);
  ({ rt, log } = await startE2eRuntime({ http: { port: 0 } }));
  await uploadAndSettle(rt, sc);
  prom = await PrometheusServer.start(undefined, {
    scrape: { job: "strata", targets: [new URL(rt.httpUrl!).host], intervalSeconds: 1 },
  });
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  await rt?.stop();
  await tmp.cleanup();
});

/** The instant vector of `promql`, once the server has scraped (polls until `ready` holds or 20 s pass). */
async function vector(
  promql: string,
  ready: (v: PromSample[]) => boolean = (v) => v.length > 0,
): Promise<PromSample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = (await prom!.query(promql, Date.now())).result as PromSample[];
    if (ready(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

const value = (v: PromSample[]) => v.map((s) => Number(s.value![1]));

describe("/metrics scraped by prometheus", () => {
  it("is scraped: up is 1", async () => {
    onTestFailed(() => console.log(`prometheus:\n${prom?.log()}\nruntime:\n${logTail(log)}`));
    expect(value(await vector('up{job="strata"}', (v) => value(v)[0] === 1))).toEqual([1]);
  });

  it("the quarantine, the live blocks and the jobs, as the scenario has them", async () => {
    expect(value(await vector(`strata_quarantined_blocks{tenant="${TENANT_B}"}`))).toEqual([1]);
    expect(value(await vector(`strata_quarantined_blocks{tenant="${TENANT_A}"}`))).toEqual([0]);
    for (const t of [TENANT_A, TENANT_B]) {
      expect(value(await vector(`sum(strata_blocks{tenant="${t}",resolution="0"})`))).toEqual([
        sc.expected.liveRanges[t]!.length,
      ]);
    }
    expect(
      value(await vector(`sum(strata_jobs_total{type="verify",outcome="quarantined",tenant="${TENANT_B}"})`)),
    ).toEqual([1]);
    // Every compaction read samples and wrote some (deduplication writes fewer than it reads).
    const read = value(await vector(`sum(strata_job_read_samples_total{type="compact"})`))[0]!;
    const written = value(await vector(`sum(strata_job_written_samples_total{type="compact"})`))[0]!;
    expect(written).toBeGreaterThan(0);
    expect(read).toBeGreaterThanOrEqual(written);
    // Bytes too, for blocks whose meta.json lists no file sizes (promtool's).
    for (const name of ["strata_job_read_bytes_total", "strata_job_written_bytes_total"])
      expect(value(await vector(`sum(${name}{type="compact"})`))[0], name).toBeGreaterThan(0);
    expect(value(await vector(`sum(strata_job_duration_seconds_count{type="compact",outcome="done"})`))[0]).toBe(
      value(await vector(`sum(strata_jobs_total{type="compact",outcome="done"})`))[0],
    );
  });

  it("the backlog, the lag, the index and the queues of a settled pipeline", async () => {
    for (const t of [TENANT_A, TENANT_B]) {
      expect(value(await vector(`strata_pending_plans{tenant="${t}"}`))).toEqual([0]);
      expect(value(await vector(`strata_upload_lag_seconds{tenant="${t}"}`))).toEqual([0]);
      expect(value(await vector(`strata_bucket_index_bytes{tenant="${t}"} > 0`))).toHaveLength(1);
      expect(value(await vector(`strata_bucket_index_age_seconds{tenant="${t}"} < 300`))).toHaveLength(1);
    }
    expect(value(await vector('strata_queue_messages{queue="jobs"}'))).toEqual([0]);
    expect(value(await vector('strata_queue_messages{queue="dlq"}'))).toEqual([0]);
  });
});
