// AWS resources for Strata (SST v4 components), composed for sst.config.ts's run().
import { createAlarms } from "./alarms.ts";
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
  const worker = createWorker(blocks.bucket, jobs);
  const maintenance = createSchedules(blocks, jobs);
  const functionNames = {
    worker: worker.nodes.function.name,
    scheduled: maintenance.nodes.function.apply((f) => f.name),
  };
  createAlarms({ jobs, dlq, ...functionNames }, settings);
  if (blocks.adopted) {
    // Merge the upload notification right after deploy rather than at the first hourly run:
    // one run of the scheduled function (it also enqueues the tenants' maintenance, as hourly).
    // Again whenever its code or the queue changes; a failing run fails the deploy, naming why.
    const fn = maintenance.nodes.function.apply((f) => f.nodes.function);
    new aws.lambda.Invocation("MergeUploadNotification", {
      functionName: fn.name,
      input: "{}",
      triggers: { code: fn.codeSha256, queueArn: jobs.arn },
    });
  }
  return {
    bucket: blocks.bucket.name,
    queue: jobs.url,
    dlq: dlq.url,
    ...(manualSteps ? { manualSteps } : {}),
  };
}
