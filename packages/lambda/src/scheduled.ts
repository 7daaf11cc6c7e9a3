/**
 * The scheduled Lambda (infra/schedules.ts): enqueue each tenant's retention, cleanup and
 * index re-sync jobs. The work itself runs in the worker, one tenant per message. On an adopted
 * bucket (STRATA_MANAGE_NOTIFICATION=merge) it first makes sure the bucket notifies the jobs
 * queue of uploads: at each cold start and at most hourly after (ensure-notification.ts).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { createS3Client } from "@strata/bucket/s3";
import { runSchedule, type ScheduleOutcome } from "@strata/pipeline";
import { lambdaRuntime, required, type LambdaRuntime } from "./adapters.ts";
import { ensureUploadNotification, notificationManagement } from "./ensure-notification.ts";

/** A little under the schedule's hour, so every hourly run checks despite the scheduler's jitter. */
const NOTIFICATION_CHECK_INTERVAL_MS = 50 * 60 * 1000;

let rt: LambdaRuntime | undefined;
let notification: { s3Client: S3Client; bucket: string; queueArn: string; checkedAt: number } | undefined | null;

export async function handler(_event: unknown, context: Context): Promise<ScheduleOutcome> {
  rt ??= lambdaRuntime();
  rt.logger.addContext(context);
  await checkUploadNotification(rt);
  return runSchedule(rt.deps);
}

/** Never throws: an outcome other than written/unchanged is logged and retried at the next run. */
async function checkUploadNotification(runtime: LambdaRuntime): Promise<void> {
  if (notification === undefined) {
    const managed = notificationManagement(process.env);
    notification = managed
      ? { s3Client: createS3Client(), bucket: required(process.env, "STRATA_BUCKET"), ...managed, checkedAt: -Infinity }
      : null;
  }
  if (notification === null || Date.now() - notification.checkedAt < NOTIFICATION_CHECK_INTERVAL_MS) return;
  const { s3Client, bucket, queueArn } = notification;
  const r = await ensureUploadNotification({ s3Client, bucket, queueArn, log: runtime.deps.log });
  if (r.outcome === "unchanged" || r.outcome === "written") notification.checkedAt = Date.now();
}
