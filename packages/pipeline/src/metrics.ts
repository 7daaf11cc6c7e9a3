/**
 * The metrics catalogue: every metric Strata reports, with its Prometheus type, unit, labels
 * and help, in one place. The worker writes job metrics through the `Metrics` port (ports.ts);
 * Lambda binds it to EMF (Powertools, tenant as a dimension), the local runtime to an
 * in-process registry exposed as Prometheus text at `/metrics`. Tenant gauges are computed
 * from a listing of the tenant (tenant-gauges.ts), not reported by jobs. Names follow
 * Prometheus conventions: base units (`_seconds`, `_bytes`), counters end in `_total`.
 */
import type { BlockMeta } from "@strata/tsdb";

export type MetricType = "counter" | "gauge" | "summary";

export interface MetricDef {
  type: MetricType;
  /** The CloudWatch unit the EMF adapter uses. */
  unit: "Seconds" | "Bytes" | "Count";
  labels: readonly string[];
  help: string;
}

const JOB_LABELS = ["type", "outcome", "tenant"] as const;

export const METRICS = {
  // Per job (written by the worker after each job).
  strata_jobs_total: {
    type: "counter",
    unit: "Count",
    labels: JOB_LABELS,
    help: "Jobs run, by job type, outcome (done, skipped, quarantined, deferred, failed) and tenant.",
  },
  strata_job_duration_seconds: {
    type: "summary",
    unit: "Seconds",
    labels: JOB_LABELS,
    help: "Wall time of a job, by job type, outcome and tenant.",
  },
  strata_job_read_bytes_total: {
    type: "counter",
    unit: "Bytes",
    labels: ["type", "tenant"],
    help: "Bytes of the input blocks of compactions and downsamplings (meta.json's file sizes, or the files as listed).",
  },
  strata_job_written_bytes_total: {
    type: "counter",
    unit: "Bytes",
    labels: ["type", "tenant"],
    help: "Bytes of the blocks compactions and downsamplings wrote (meta.json's file sizes, or the files as listed).",
  },
  strata_job_read_samples_total: {
    type: "counter",
    unit: "Count",
    labels: ["type", "tenant"],
    help: "Samples in the input blocks of compactions and downsamplings (meta.json stats).",
  },
  strata_job_written_samples_total: {
    type: "counter",
    unit: "Count",
    labels: ["type", "tenant"],
    help: "Samples in the blocks compactions and downsamplings wrote (meta.json stats).",
  },
  strata_invalid_messages_total: {
    type: "counter",
    unit: "Count",
    labels: [],
    help: "Queue messages that did not parse as an S3 event or a job (retried, then dead-lettered).",
  },
  strata_foreign_records_total: {
    type: "counter",
    unit: "Count",
    labels: [],
    help: "S3 event records from a bucket other than the worker's own, ignored.",
  },
  // Per tenant (computed from a listing of the tenant: tenant-gauges.ts).
  strata_blocks: {
    type: "gauge",
    unit: "Count",
    labels: ["tenant", "level", "resolution"],
    help: "Live indexed blocks (no deletion mark) by compaction level and resolution in ms.",
  },
  strata_pending_plans: {
    type: "gauge",
    unit: "Count",
    labels: ["tenant"],
    help: "Compactions and downsamplings the planner would run now (the backlog).",
  },
  strata_upload_lag_seconds: {
    type: "gauge",
    unit: "Seconds",
    labels: ["tenant"],
    help: "Age of the oldest uploaded block (readable meta.json) not in the bucket index yet; 0 when none.",
  },
  strata_quarantined_blocks: {
    type: "gauge",
    unit: "Count",
    labels: ["tenant"],
    help: "Blocks quarantined by verify (no-compact mark with Strata's verify reason).",
  },
  strata_no_compact_marks: {
    type: "gauge",
    unit: "Count",
    labels: ["tenant"],
    help: "Blocks carrying a no-compact mark, quarantines included.",
  },
  strata_bucket_index_age_seconds: {
    type: "gauge",
    unit: "Seconds",
    labels: ["tenant"],
    help: "Seconds since the tenant's bucket index was written (absent when it has none).",
  },
  strata_bucket_index_bytes: {
    type: "gauge",
    unit: "Bytes",
    labels: ["tenant"],
    help: "Size of the tenant's bucket index object (gzip).",
  },
  // Per runtime (the local runtime knows them; on AWS they are SQS's own CloudWatch metrics).
  strata_queue_messages: {
    type: "gauge",
    unit: "Count",
    labels: ["queue"],
    help: "Messages in the queue (visible and in flight), by queue: jobs or dlq.",
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof METRICS;
type Of<T extends MetricType> = { [K in MetricName]: (typeof METRICS)[K]["type"] extends T ? K : never }[MetricName];
export type CounterName = Of<"counter">;
export type GaugeName = Of<"gauge">;
export type SummaryName = Of<"summary">;
export type MetricLabels = Readonly<Record<string, string>>;

/** One gauge's value (the tenant gauges, computed rather than reported by a job). */
export interface GaugeSample {
  name: GaugeName;
  labels: MetricLabels;
  value: number;
}

/** What a compaction or downsampling read and wrote. */
export interface JobIo {
  readBytes: number;
  writtenBytes: number;
  readSamples: number;
  writtenSamples: number;
}

/**
 * A job's IO from its blocks: samples from meta.json's stats, bytes from its `thanos.files`
 * or, for a block without them (Prometheus' and promtool's own blocks), from `listed` (the
 * block's files as listed, by ULID).
 */
export function jobIo(
  inputs: readonly BlockMeta[],
  outputs: readonly BlockMeta[],
  listed: ReadonlyMap<string, number> = new Map(),
): JobIo {
  const size = (m: BlockMeta) =>
    m.thanos?.files?.length ? m.thanos.files.reduce((s, f) => s + (f.size_bytes ?? 0), 0) : (listed.get(m.ulid) ?? 0);
  const bytes = (ms: readonly BlockMeta[]) => ms.reduce((n, m) => n + size(m), 0);
  const samples = (ms: readonly BlockMeta[]) => ms.reduce((n, m) => n + Number(m.stats?.numSamples ?? 0n), 0);
  return {
    readBytes: bytes(inputs),
    writtenBytes: bytes(outputs),
    readSamples: samples(inputs),
    writtenSamples: samples(outputs),
  };
}
