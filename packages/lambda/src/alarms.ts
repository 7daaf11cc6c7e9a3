/**
 * The CloudWatch alarms and dashboard, as data: infra/alarms.ts creates one MetricAlarm per
 * entry and the dashboard from `dashboardBody`; test/infra checks that every alarm has a
 * runbook entry. Each alarm's description carries what it means and its runbook anchor, so
 * the notification a person receives says where to look.
 *
 * AWS's own metrics (SQS, Lambda) are addressed by the resource they belong to; Strata's
 * (namespace "Strata", EMF from the worker, one dimension set per tenant) through Metrics
 * Insights queries, which aggregate over every tenant without naming them.
 */
import { WORKER_TIMEOUT_SECONDS } from "./sizing.ts";

/** The deployed resources an alarm's metric belongs to. */
export type AlarmTarget = "jobs" | "dlq" | "worker" | "scheduled";

export type AlarmMetric =
  | {
      kind: "aws";
      namespace: "AWS/SQS" | "AWS/Lambda";
      metricName: string;
      of: AlarmTarget;
      statistic: "Maximum" | "Sum" | "p99";
    }
  | { kind: "insights"; query: string };

export interface AlarmDef {
  /** Stable id: the alarm's name suffix and its runbook anchor (`#alarm-<id>`). */
  id: string;
  metric: AlarmMetric;
  comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  treatMissingData: "notBreaching" | "missing";
  /** What it means, one sentence (the alarm's description). */
  meaning: string;
}

export const STRATA_NAMESPACE = "Strata";
/** Index-sync runs hourly: three missed runs in a row is a stuck index, not a slow one. */
export const INDEX_AGE_THRESHOLD_SECONDS = 3 * 3600;
/** Past the jobs queue's normal churn (a retried job waits a visibility timeout, 90 min). */
export const OLDEST_MESSAGE_THRESHOLD_SECONDS = 3 * 3600;
export const PENDING_PLANS_THRESHOLD = 100;
/** Lambda reports Duration in milliseconds. */
export const DURATION_ALARM_MS = 0.8 * WORKER_TIMEOUT_SECONDS * 1000;

const sqs = (metricName: string, of: AlarmTarget): AlarmMetric => ({
  kind: "aws",
  namespace: "AWS/SQS",
  metricName,
  of,
  statistic: "Maximum",
});
const lambda = (metricName: string, of: AlarmTarget, statistic: "Sum" | "p99"): AlarmMetric => ({
  kind: "aws",
  namespace: "AWS/Lambda",
  metricName,
  of,
  statistic,
});
/** A Metrics Insights query over every tenant's series of a Strata metric. */
export const insights = (fn: "MAX" | "SUM", metric: string, where = "") =>
  `SELECT ${fn}(${metric}) FROM "${STRATA_NAMESPACE}"${where ? ` WHERE ${where}` : ""}`;

export const ALARMS: readonly AlarmDef[] = [
  {
    id: "dlq-not-empty",
    metric: sqs("ApproximateNumberOfMessagesVisible", "dlq"),
    comparison: "GreaterThanThreshold",
    threshold: 0,
    periodSeconds: 300,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    meaning: "A message failed every delivery and was dead-lettered: a job or an upload event was not processed.",
  },
  {
    id: "jobs-oldest-message",
    metric: sqs("ApproximateAgeOfOldestMessage", "jobs"),
    comparison: "GreaterThanThreshold",
    threshold: OLDEST_MESSAGE_THRESHOLD_SECONDS,
    periodSeconds: 300,
    evaluationPeriods: 3,
    treatMissingData: "notBreaching",
    meaning: "The jobs queue's oldest message is over 3 hours old: the worker is not keeping up, or is not running.",
  },
  {
    id: "worker-errors",
    metric: lambda("Errors", "worker", "Sum"),
    comparison: "GreaterThanOrEqualToThreshold",
    threshold: 3,
    periodSeconds: 900,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    meaning: "The worker failed 3 or more invocations in 15 minutes (failed jobs, cold-start errors, or timeouts).",
  },
  {
    id: "worker-duration-near-timeout",
    metric: lambda("Duration", "worker", "p99"),
    comparison: "GreaterThanThreshold",
    threshold: DURATION_ALARM_MS,
    periodSeconds: 900,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    meaning: `The worker's p99 duration is over 80% of its ${WORKER_TIMEOUT_SECONDS}s timeout: jobs are about to be cut off.`,
  },
  {
    id: "scheduled-errors",
    metric: lambda("Errors", "scheduled", "Sum"),
    comparison: "GreaterThanThreshold",
    threshold: 0,
    periodSeconds: 3600,
    evaluationPeriods: 2,
    treatMissingData: "notBreaching",
    meaning: "The hourly maintenance run failed twice in a row: retention, cleanup and index re-sync are not enqueued.",
  },
  {
    id: "quarantine-rising",
    metric: { kind: "insights", query: insights("SUM", "strata_jobs_total", "outcome = 'quarantined'") },
    comparison: "GreaterThanThreshold",
    threshold: 0,
    periodSeconds: 3600,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    meaning: "Verify quarantined a block in the last hour: an uploaded block is corrupt or inconsistent.",
  },
  {
    id: "bucket-index-stale",
    metric: { kind: "insights", query: insights("MAX", "strata_bucket_index_age_seconds") },
    comparison: "GreaterThanThreshold",
    threshold: INDEX_AGE_THRESHOLD_SECONDS,
    periodSeconds: 3600,
    evaluationPeriods: 1,
    treatMissingData: "missing",
    meaning: "A tenant's bucket index is over 3 hours old: queriers see stale blocks and planning works from old data.",
  },
  {
    id: "backlog-growing",
    metric: { kind: "insights", query: insights("SUM", "strata_pending_plans") },
    comparison: "GreaterThanThreshold",
    threshold: PENDING_PLANS_THRESHOLD,
    periodSeconds: 3600,
    evaluationPeriods: 3,
    treatMissingData: "notBreaching",
    meaning: `Over ${PENDING_PLANS_THRESHOLD} compactions and downsamplings have been pending for 3 hours: the backlog is not draining.`,
  },
];

/** The README anchor of an alarm's runbook paragraph. */
export const runbookAnchor = (id: string) => `alarm-${id}`;

/** What to do, one paragraph per alarm (the README's runbook is this text). */
export const RUNBOOK: Readonly<Record<string, string>> = {
  "dlq-not-empty":
    "`strata dlq list` shows each dead letter with the error the pipeline recorded (`strata dlq show <message-id>` for one). Fix the cause (a bad setting, a missing permission, a corrupt block), then `strata dlq redrive` sends them back to the jobs queue. Dead letters are kept 14 days.",
  "jobs-oldest-message":
    "Check the worker is running (Lambda throttles, reserved concurrency, `worker-errors`) and its concurrency cap (WORKER_MAX_CONCURRENCY, 20). A steady flood of uploads needs a higher cap; a single job retried again and again shows in the logs by messageId: let it reach the DLQ or fix its cause.",
  "worker-errors":
    "Search the worker's logs for `job-failed` and cold-start errors (an unknown or malformed STRATA_* setting fails every invocation, naming the variable). A run of failures on one block usually means a bad block: `strata mark no-compact` keeps it out of compactions. Failed messages are retried, then dead-lettered.",
  "worker-duration-near-timeout":
    "Jobs are approaching the 15-minute wall: find the slow job type in `strata_job_duration_seconds`. Lower STRATA_JOB_BUDGET or the largest compaction range (STRATA_COMPACTION_RANGES), or split large tenants (STRATA_SPLIT_SHARDS), so each job fits.",
  "scheduled-errors":
    "Read the scheduled function's logs: it only lists tenants and enqueues, so failures are permissions (s3:ListBucket, sqs:SendMessage) or the environment. Until fixed, retention and cleanup do not run and index re-syncs stop.",
  "quarantine-rising":
    "`strata status s3://<bucket>` shows the tenants with quarantined blocks; read the block's verify report, fix the uploader (or the block), then `strata quarantine release` verifies it again and lifts the quarantine. Quarantined blocks are never compacted, so nothing is lost by waiting.",
  "bucket-index-stale":
    "The hourly index-sync did not write a tenant's index: check `scheduled-errors`, the DLQ and the worker's logs for `index-sync` jobs; `strata index rebuild s3://<bucket> --tenant T` rebuilds it by hand.",
  "backlog-growing":
    "Compaction is not keeping up: check `worker-errors` and `jobs-oldest-message`, then `strata status` and `strata plan` for the tenant whose plans pile up. Raise the worker's concurrency cap, or look for a block that blocks its group (a no-compact mark, an overlap).",
};

/** The alarm's description: what it means and where the runbook is. */
export function alarmDescription(a: AlarmDef): string {
  return `${a.meaning} Runbook: README.md#${runbookAnchor(a.id)}`;
}

export interface DashboardNames {
  region: string;
  jobsQueue: string;
  dlq: string;
  worker: string;
  scheduled: string;
}

/** The CloudWatch dashboard's body: the headline figures, one widget each. */
export function dashboardBody(n: DashboardNames) {
  const widget = (i: number, title: string, metrics: unknown[], stat = "Sum") => ({
    type: "metric",
    x: (i % 3) * 8,
    y: Math.floor(i / 3) * 6,
    width: 8,
    height: 6,
    properties: { title, region: n.region, view: "timeSeries", stat, period: 300, metrics },
  });
  const query = (expression: string, label: string) => [{ expression, label, id: label.replace(/\W/g, "_") }];
  return {
    widgets: [
      widget(
        0,
        "Jobs queue",
        [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", n.jobsQueue, { label: "visible" }],
          [".", "ApproximateNumberOfMessagesNotVisible", ".", ".", { label: "in flight" }],
          [".", "ApproximateNumberOfMessagesVisible", ".", n.dlq, { label: "DLQ" }],
        ],
        "Maximum",
      ),
      widget(
        1,
        "Oldest job message (s)",
        [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", n.jobsQueue]],
        "Maximum",
      ),
      widget(2, "Worker", [
        ["AWS/Lambda", "Invocations", "FunctionName", n.worker],
        [".", "Errors", ".", "."],
        [".", "Throttles", ".", "."],
        ["AWS/Lambda", "Errors", "FunctionName", n.scheduled, { label: "scheduled errors" }],
      ]),
      widget(3, "Worker duration p99 (ms)", [["AWS/Lambda", "Duration", "FunctionName", n.worker]], "p99"),
      widget(4, "Jobs by outcome", [
        query(`${insights("SUM", "strata_jobs_total")} GROUP BY outcome`, "jobs by outcome"),
      ]),
      widget(5, "Pending plans (backlog)", [query(insights("SUM", "strata_pending_plans"), "pending plans")]),
      widget(6, "Quarantined blocks (worst tenant)", [
        query(insights("MAX", "strata_quarantined_blocks"), "quarantined, worst tenant"),
      ]),
      widget(7, "Oldest bucket index (s)", [query(insights("MAX", "strata_bucket_index_age_seconds"), "index age")]),
      widget(8, "Upload lag (s)", [query(insights("MAX", "strata_upload_lag_seconds"), "upload lag")]),
    ],
  };
}

/**
 * The README's runbook section, generated from ALARMS and RUNBOOK (test/infra holds the README
 * to it): one `#### alarm-<id>` heading per alarm, the anchor each alarm's description links.
 */
export function runbookMarkdown(): string {
  return ALARMS.map((a) => `#### ${runbookAnchor(a.id)}\n\n${a.meaning}\n\n${RUNBOOK[a.id]}\n`).join("\n");
}
