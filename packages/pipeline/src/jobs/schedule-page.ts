/**
 * schedule-page: one page of the bucket's tenant listing, fanned out. The hourly schedule sends
 * the first page's job (schedule.ts); each page lists at most 1000 top-level folders (one LIST),
 * sends retention, cleanup and index-sync for each tenant on it in batches of 10 (at most 300
 * SendMessageBatch calls), then sends the next page's job. However many tenants there are, each
 * message does that bounded work, and a run visits every tenant in ⌈tenants / 1000⌉ messages.
 *
 * Idempotency and convergence: the next page is sent last, so a page whose sends failed
 * (`QueueSendError`, after each entry's retries) fails before it and is redelivered by SQS,
 * resending its tenants' jobs (each idempotent), and after maxReceiveCount lands in the DLQ
 * like any job; the pages after it wait for it. A duplicate delivery of a page repeats that
 * page and the rest of the run: maintenance done twice, never skipped.
 */
import { ROOT_TENANT } from "@strata/bucket";
import { JOB_MESSAGE_VERSION, type Job, type SchedulePageJob } from "../messages.ts";
import { sendJobs } from "../send-jobs.ts";
import type { JobContext, JobResult } from "./context.ts";

/** What every tenant gets each run, in this order. */
export const SCHEDULED_TENANT_JOBS = ["retention", "cleanup", "index-sync"] as const;

export async function runSchedulePage(ctx: JobContext, job: SchedulePageJob): Promise<JobResult> {
  const page = job.page ?? 0;
  const { tenants, next } = await ctx.deps.storage.listTenantPage(job.token, { rootSeen: job.rootSeen });
  const jobs: Job[] = tenants.flatMap((tenant) =>
    SCHEDULED_TENANT_JOBS.map((type) => ({ version: JOB_MESSAGE_VERSION, type, tenant })),
  );
  const sent = await sendJobs(ctx.deps.queue, jobs);
  const rootSeen = job.rootSeen === true || tenants.includes(ROOT_TENANT);
  if (next !== undefined)
    await ctx.deps.queue.send({
      version: JOB_MESSAGE_VERSION,
      ...(job.id === undefined ? {} : { id: job.id }),
      type: "schedule-page",
      token: next,
      page: page + 1,
      ...(rootSeen ? { rootSeen: true as const } : {}),
    });
  ctx.log.info("schedule-page-enqueued", {
    page,
    tenants: tenants.length,
    enqueued: jobs.length,
    batchCalls: sent.calls,
    retried: sent.retried,
    last: next === undefined,
  });
  return { status: "done", enqueued: jobs.length + (next === undefined ? 0 : 1) };
}
