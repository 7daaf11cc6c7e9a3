// The hourly maintenance run: retention, cleanup and index re-sync, enqueued per tenant.
import { strataArns, strataFunction } from "./functions.ts";
import { SCHEDULE, SCHEDULED_TIMEOUT_SECONDS, scheduledPermissions } from "@strata/lambda/deploy";

export function createSchedules(bucket: sst.aws.Bucket, jobs: sst.aws.Queue) {
  // CronV2 (EventBridge Scheduler); sst.aws.Cron is deprecated.
  return new sst.aws.CronV2("Maintenance", {
    schedule: SCHEDULE,
    function: {
      ...strataFunction(bucket, jobs, "strata-scheduled", scheduledPermissions(strataArns(bucket, jobs))),
      handler: "functions/scheduled.handler",
      timeout: `${SCHEDULED_TIMEOUT_SECONDS} seconds`,
      memory: "512 MB",
    },
  });
}
