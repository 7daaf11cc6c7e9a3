// The worker: the jobs queue's only subscriber, with partial batch responses. Its code is
// @strata/lambda (functions/worker.ts re-exports the handler), its sizing @strata/lambda/deploy.
import { deploySettings } from "./settings.ts";
import {
  type Statement,
  type StrataArns,
  workerPermissions,
  WORKER_BATCH_SIZE,
  WORKER_MAX_CONCURRENCY,
  WORKER_MEMORY,
  WORKER_STORAGE,
  WORKER_TIMEOUT_SECONDS,
} from "@strata/lambda/deploy";

/** The ARNs the permission lists (@strata/lambda/deploy) are written over. */
export function strataArns(bucket: sst.aws.Bucket, jobs: sst.aws.Queue): StrataArns<$util.Output<string>> {
  return { bucket: bucket.arn, objects: $interpolate`${bucket.arn}/*`, jobs: jobs.arn };
}

/**
 * What every Strata function gets: its bucket and queue by name (env) and the statements it
 * needs. Not `link`, which would grant s3:* and sqs:* on them.
 */
export function strataFunction(
  bucket: sst.aws.Bucket,
  jobs: sst.aws.Queue,
  service: string,
  permissions: Statement<$util.Output<string>>[],
  extraEnvironment: Record<string, $util.Input<string>> = {},
) {
  return {
    runtime: "nodejs24.x" as const,
    architecture: "arm64" as const,
    permissions,
    environment: {
      ...deploySettings(),
      ...extraEnvironment,
      STRATA_BUCKET: bucket.name,
      STRATA_QUEUE_URL: jobs.url,
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_METRICS_NAMESPACE: "Strata",
    },
  };
}

export function createWorker(bucket: sst.aws.Bucket, jobs: sst.aws.Queue) {
  return jobs.subscribe(
    {
      // The receive side (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, …) is added by subscribe.
      ...strataFunction(bucket, jobs, "strata-worker", workerPermissions(strataArns(bucket, jobs))),
      handler: "functions/worker.handler",
      timeout: `${WORKER_TIMEOUT_SECONDS} seconds`,
      memory: WORKER_MEMORY,
      storage: WORKER_STORAGE,
    },
    {
      batch: { size: WORKER_BATCH_SIZE, partialResponses: true },
      transform: { eventSourceMapping: { scalingConfig: { maximumConcurrency: WORKER_MAX_CONCURRENCY } } },
    },
  );
}
