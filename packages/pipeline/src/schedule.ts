/**
 * The scheduled run (hourly in AWS): every tenant's maintenance jobs that do not depend on any
 * upload: retention, cleanup (delete delay, abandoned partial uploads) and an index re-sync
 * (which also re-plans the tenant). The run itself sends one message, the first page of the
 * tenant listing (a `schedule-page` job); the worker fans each page out to its tenants' jobs
 * and sends the next page (jobs/schedule-page.ts). So the scheduled function's work is one
 * SendMessage whatever the tenant count, and the worker's retries and DLQ cover each page and
 * each tenant alone.
 */
import { JOB_MESSAGE_VERSION } from "./messages.ts";
import type { Clock, WorkerDeps } from "./ports.ts";

export interface ScheduleOutcome {
  /** Messages sent: always 1, the first page's job. */
  enqueued: number;
  /** The run's correlation id, carried by every page's job (`jobId` in their log lines). */
  run: string;
}

export async function runSchedule(
  deps: Pick<WorkerDeps, "queue" | "log"> & { clock?: Clock },
): Promise<ScheduleOutcome> {
  const run = `schedule-${new Date(deps.clock?.now() ?? Date.now()).toISOString()}`;
  await deps.queue.send({ version: JOB_MESSAGE_VERSION, id: run, type: "schedule-page", page: 0 });
  deps.log.info("schedule-enqueued", { run, enqueued: 1 });
  return { enqueued: 1, run };
}
