/**
 * The scheduled run (hourly in AWS): enqueue, for every tenant, the maintenance jobs that do
 * not depend on any upload: retention, cleanup (delete delay, abandoned partial uploads) and an
 * index re-sync (which also re-plans the tenant). Enqueueing rather than doing the work keeps
 * the scheduled function short and lets the worker's retries and DLQ cover each tenant alone.
 */
import { JOB_MESSAGE_VERSION, type Job } from "./messages.ts";
import type { WorkerDeps } from "./ports.ts";

export interface ScheduleOutcome {
  tenants: number;
  enqueued: number;
}

export async function runSchedule(deps: Pick<WorkerDeps, "storage" | "queue" | "log">): Promise<ScheduleOutcome> {
  const tenants = await deps.storage.listTenants();
  let enqueued = 0;
  for (const tenant of tenants) {
    const jobs: Job[] = [
      { version: JOB_MESSAGE_VERSION, type: "retention", tenant },
      { version: JOB_MESSAGE_VERSION, type: "cleanup", tenant },
      { version: JOB_MESSAGE_VERSION, type: "index-sync", tenant },
    ];
    for (const job of jobs) await deps.queue.send(job);
    enqueued += jobs.length;
  }
  deps.log.info("schedule-enqueued", { tenants: tenants.length, enqueued });
  return { tenants: tenants.length, enqueued };
}
