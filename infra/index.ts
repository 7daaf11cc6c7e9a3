// AWS resources for Strata (SST v4 components), composed for sst.config.ts's run().
import { createBucket, notifyUploads } from "./bucket.ts";
import { createWorker } from "./functions.ts";
import { createQueues } from "./queues.ts";
import { createSchedules } from "./schedules.ts";
import { infraSettings } from "./settings.ts";

export async function deploy() {
  const settings = infraSettings();
  const { jobs, dlq } = createQueues();
  const blocks = createBucket(settings);
  const manualSteps = notifyUploads(blocks, jobs, settings);
  createWorker(blocks.bucket, jobs);
  createSchedules(blocks.bucket, jobs);
  return {
    bucket: blocks.bucket.name,
    queue: jobs.url,
    dlq: dlq.url,
    ...(manualSteps ? { manualSteps } : {}),
  };
}
