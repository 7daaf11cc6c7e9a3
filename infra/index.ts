// AWS resources for Strata (SST v4 components), composed for sst.config.ts's run().
import { createBucket, notifyUploads } from "./bucket.ts";
import { createWorker } from "./functions.ts";
import { createQueues } from "./queues.ts";
import { createSchedules } from "./schedules.ts";

export async function deploy() {
  const { jobs, dlq } = createQueues();
  const bucket = createBucket();
  notifyUploads(bucket, jobs);
  createWorker(bucket, jobs);
  createSchedules(bucket, jobs);
  return { bucket: bucket.name, queue: jobs.url, dlq: dlq.url };
}
