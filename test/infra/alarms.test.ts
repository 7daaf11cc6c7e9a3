import { describe, expect, it } from "vitest";
import * as pipeline from "@strata/pipeline";
import {
  ALARMS,
  DURATION_ALARM_MS,
  RUNBOOK,
  WORKER_TIMEOUT_SECONDS,
  alarmDescription,
  dashboardBody,
  runbookAnchor,
} from "@strata/lambda/deploy";

/** The Strata metrics the alarms and the dashboard query (namespace "Strata"). */
function strataMetrics(text: string): string[] {
  return [...new Set([...text.matchAll(/\b(strata_[a-z0-9_]+)\b/g)].map((m) => m[1]!))].sort();
}

describe("alarms", () => {
  it("every alarm has a runbook paragraph, and every paragraph an alarm", () => {
    const ids = ALARMS.map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(RUNBOOK).sort()).toEqual([...ids].sort());
    for (const a of ALARMS) {
      expect(RUNBOOK[a.id]!.length, a.id).toBeGreaterThan(80);
      expect(a.meaning, a.id).toMatch(/\.$/);
      expect(alarmDescription(a)).toContain(`README.md#${runbookAnchor(a.id)}`);
      // CloudWatch: descriptions up to 1024 characters; a period is 10, 30 or a multiple of 60 s.
      expect(alarmDescription(a).length).toBeLessThanOrEqual(1024);
      expect(a.periodSeconds % 60, a.id).toBe(0);
      expect(a.periodSeconds * a.evaluationPeriods, a.id).toBeLessThanOrEqual(24 * 3600);
    }
  });

  it("cover the DLQ, the queue's age, the worker's errors and duration near its timeout", () => {
    const of = (id: string) => ALARMS.find((a) => a.id === id)!;
    expect(of("dlq-not-empty")).toMatchObject({
      metric: { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", of: "dlq" },
      threshold: 0,
    });
    expect(of("jobs-oldest-message").metric).toMatchObject({ metricName: "ApproximateAgeOfOldestMessage", of: "jobs" });
    expect(of("worker-errors").metric).toMatchObject({ namespace: "AWS/Lambda", metricName: "Errors", of: "worker" });
    expect(of("worker-duration-near-timeout")).toMatchObject({
      metric: { metricName: "Duration", statistic: "p99" },
      threshold: DURATION_ALARM_MS,
    });
    expect(DURATION_ALARM_MS).toBe(WORKER_TIMEOUT_SECONDS * 1000 * 0.8);
  });

  it("query only metrics the pipeline reports (when its catalogue is there)", () => {
    const queried = strataMetrics(
      JSON.stringify([ALARMS, dashboardBody({ region: "r", jobsQueue: "j", dlq: "d", worker: "w", scheduled: "s" })]),
    );
    expect(queried).toContain("strata_bucket_index_age_seconds");
    const catalogue = (pipeline as Record<string, unknown>).METRICS as
      | Record<string, { labels: readonly string[] }>
      | undefined;
    if (catalogue === undefined) return;
    for (const m of queried) expect(Object.keys(catalogue), m).toContain(m);
    // the quarantine alarm filters the job counter by its outcome label
    expect(catalogue.strata_jobs_total!.labels).toContain("outcome");
  });

  it("the dashboard names the deployed resources and lays widgets on the 24-column grid", () => {
    const body = dashboardBody({
      region: "eu-west-1",
      jobsQueue: "jobs-q",
      dlq: "dlq-q",
      worker: "w-fn",
      scheduled: "s-fn",
    });
    const text = JSON.stringify(body);
    for (const n of ["jobs-q", "dlq-q", "w-fn", "s-fn", "eu-west-1"]) expect(text).toContain(n);
    for (const w of body.widgets) expect(w.x + w.width).toBeLessThanOrEqual(24);
  });
});
