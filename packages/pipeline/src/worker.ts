/**
 * The worker's record handler: parse one queue body, dispatch to its job, log one line per
 * job. It throws when the record must be retried (a bad body, a failed job); the Lambda shell
 * (@strata/lambda's createWorkerHandler) turns that into this record's entry in `batchItemFailures`, so a
 * failure never takes the rest of its batch with it.
 */
import type { Job } from "./messages.ts";
import { JOB_MESSAGE_VERSION, MessageError, jobTenant, parseQueueBody } from "./messages.ts";
import type { LogFields, WorkerDeps } from "./ports.ts";
import type { JobIo } from "./metrics.ts";
import { tenantName } from "@strata/bucket";
import type { JobContext, JobResult } from "./jobs/context.ts";
import { runCleanup } from "./jobs/cleanup.ts";
import { runCompact } from "./jobs/compact.ts";
import { runDownsample } from "./jobs/downsample.ts";
import { runIndexSync } from "./jobs/index-sync.ts";
import { runPlan } from "./jobs/plan.ts";
import { runRetention } from "./jobs/retention.ts";
import { runSchedulePage } from "./jobs/schedule-page.ts";
import { runConvert } from "./jobs/convert.ts";
import { jobLeaseName } from "./blocks.ts";
import { runVerify } from "./jobs/verify.ts";

/** Where a record came from, for log correlation and retry awareness. */
export interface RecordMeta {
  messageId?: string;
  /** SQS ApproximateReceiveCount: 1 on the first delivery. */
  receiveCount?: number;
  /** When the invocation will be killed (wall-clock ms since the epoch). */
  deadline?: number;
  /**
   * The bucket this worker serves (STRATA_BUCKET). An S3 record from another bucket is
   * acknowledged with a `foreign-bucket-ignored` warning, never run nor retried: retrying
   * cannot make it ours, and its objects are not ours to read.
   */
  bucket?: string;
}

export interface RecordOutcome {
  kind: "s3" | "test-event" | "job";
  results: JobResult[];
}

export async function handleRecord(body: string, deps: WorkerDeps, meta: RecordMeta = {}): Promise<RecordOutcome> {
  const log = deps.log.child(compact({ messageId: meta.messageId, receiveCount: meta.receiveCount }));
  let parsed;
  try {
    parsed = parseQueueBody(body);
  } catch (e) {
    if (e instanceof MessageError) {
      log.error("message-invalid", { error: e.message, issues: e.issues });
      deps.metrics?.add("strata_invalid_messages_total", 1, {});
    }
    throw e;
  }

  switch (parsed.kind) {
    case "test-event":
      // Sent by S3 on every notification configuration change (each deploy touching notify).
      log.info("s3-test-event-ignored", { bucket: parsed.bucket });
      return { kind: "test-event", results: [] };
    case "s3": {
      for (const r of parsed.ignored)
        log.info("s3-record-ignored", { bucket: r.bucket, key: r.key, eventName: r.eventName, reason: r.reason });
      const records = parsed.records.filter((r) => {
        if (meta.bucket === undefined || r.bucket === meta.bucket) return true;
        log.warn("foreign-bucket-ignored", { bucket: r.bucket, expected: meta.bucket, key: r.key });
        deps.metrics?.add("strata_foreign_records_total", 1, {});
        return false;
      });
      const results: JobResult[] = [];
      // Records run in order; a failure fails the message, and the retry repeats the earlier
      // records harmlessly (verify is idempotent).
      for (const [i, r] of records.entries()) {
        const job: Job = { version: JOB_MESSAGE_VERSION, type: "verify", tenant: r.tenant, block: r.block };
        const jobId = records.length > 1 ? `${meta.messageId ?? "s3"}#${i}` : (meta.messageId ?? "s3");
        results.push(
          await runJob(
            job,
            jobId,
            deps,
            log.child({ key: r.key, eTag: r.eTag, sequencer: r.sequencer }),
            meta.deadline,
          ),
        );
      }
      return { kind: "s3", results };
    }
    case "job":
      return {
        kind: "job",
        results: [await runJob(parsed.job, parsed.job.id ?? meta.messageId ?? "job", deps, log, meta.deadline)],
      };
  }
}

/** Run one job with its log context bound; logs and counts the outcome, rethrows failures. */
export async function runJob(
  job: Job,
  jobId: string,
  deps: WorkerDeps,
  parentLog = deps.log,
  deadline?: number,
): Promise<JobResult> {
  const log = parentLog.child(
    compact({ jobId, job: job.type, tenant: jobTenant(job), block: "block" in job ? job.block : undefined }),
  );
  const ctx: JobContext = { deps, log, jobId, deadline };
  const started = deps.clock.now();
  try {
    const result = (await disabledTenant(ctx, job)) ?? (await dispatch(ctx, job));
    log.info(
      "job-" + result.status,
      compact({ reason: result.reason, enqueued: result.enqueued, durationMs: deps.clock.now() - started }),
    );
    reportJob(deps, job, result.status, deps.clock.now() - started, result.io);
    return result;
  } catch (e) {
    log.error("job-failed", {
      error: e instanceof Error ? e.message : String(e),
      durationMs: deps.clock.now() - started,
    });
    reportJob(deps, job, "failed", deps.clock.now() - started);
    throw e;
  }
}

/** The job's metrics (catalogue: metrics.ts): count and duration by outcome, and what it read and wrote. */
function reportJob(deps: WorkerDeps, job: Job, outcome: string, ms: number, io?: JobIo): void {
  const m = deps.metrics;
  if (!m) return;
  // Prometheus drops an empty label: the root tenant is named as people read it (`__root__`).
  const t = jobTenant(job);
  const tenant = t === undefined ? "" : tenantName(t);
  m.add("strata_jobs_total", 1, { type: job.type, outcome, tenant });
  m.observe("strata_job_duration_seconds", ms / 1000, { type: job.type, outcome, tenant });
  if (!io) return;
  const by = { type: job.type, tenant };
  m.add("strata_job_read_bytes_total", io.readBytes, by);
  m.add("strata_job_written_bytes_total", io.writtenBytes, by);
  m.add("strata_job_read_samples_total", io.readSamples, by);
  m.add("strata_job_written_samples_total", io.writtenSamples, by);
}

function dispatch(ctx: JobContext, job: Job): Promise<JobResult> {
  switch (job.type) {
    case "verify":
      return runVerify(ctx, job);
    case "compact":
      return runCompact(ctx, job);
    case "downsample":
      return runDownsample(ctx, job);
    case "plan":
      return runPlan(ctx, job);
    case "retention":
      return runRetention(ctx, job);
    case "cleanup":
      return runCleanup(ctx, job);
    case "index-sync":
      return runIndexSync(ctx, job);
    case "schedule-page":
      return runSchedulePage(ctx, job);
    case "convert":
      return runConvert(ctx, job);
  }
}

/**
 * A job of a tenant the overrides disable: acknowledged and skipped, with a log line; nothing
 * of the tenant's blocks is written or deleted. Fan-out jobs (no tenant) still run, and their
 * tenants' jobs skip here. A skipped compaction or downsampling clears planning's "queued"
 * note, as a started job does: the message is gone, so once the tenant is enabled again its
 * next planning sends the job at once instead of trusting the note for its whole TTL.
 */
async function disabledTenant(ctx: JobContext, job: Job): Promise<JobResult | undefined> {
  const tenant = jobTenant(job);
  if (tenant === undefined || !ctx.deps.tenantSettings) return undefined;
  if ((await ctx.deps.tenantSettings(tenant)).enabled) return undefined;
  ctx.log.info("tenant-disabled", { reason: "enabled: false in strata-overrides.json" });
  if (job.type === "compact" || job.type === "downsample") await ctx.deps.leases.clearQueued(tenant, jobLeaseName(job));
  return { status: "skipped", reason: "tenant disabled by its overrides" };
}

/** Drop undefined fields so log lines carry only what is known. */
function compact(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
