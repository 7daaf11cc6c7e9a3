// The hourly maintenance run: retention, cleanup and index re-sync, enqueued per tenant.
import { strataArns, strataFunction } from "./functions.ts";
import {
  adoptedScheduledEnvironment,
  SCHEDULE,
  SCHEDULED_TIMEOUT_SECONDS,
  scheduledPermissions,
} from "@strata/lambda/deploy";
import type { Blocks } from "./bucket.ts";

/**
 * On an adopted bucket the scheduled function also merges the upload notification into the
 * bucket's configuration at each run (STRATA_MANAGE_NOTIFICATION=merge and the queue's ARN,
 * with s3:Get/PutBucketNotification on the bucket): see infra/bucket.ts's notifyUploads.
 */
export function createSchedules(blocks: Blocks, jobs: sst.aws.Queue) {
  const { bucket, adopted } = blocks;
  const permissions = scheduledPermissions(strataArns(bucket, jobs), { adopted });
  const environment = adopted ? adoptedScheduledEnvironment(jobs.arn) : {};
  // CronV2 (EventBridge Scheduler); sst.aws.Cron is deprecated.
  return new sst.aws.CronV2("Maintenance", {
    schedule: SCHEDULE,
    function: {
      ...strataFunction(bucket, jobs, "strata-scheduled", permissions, environment),
      handler: "functions/scheduled.handler",
      timeout: `${SCHEDULED_TIMEOUT_SECONDS} seconds`,
      memory: "512 MB",
    },
  });
}
