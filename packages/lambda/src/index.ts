// @strata/lambda: the pipeline as AWS Lambda runs it. The handlers SST deploys (functions/
// re-exports them), the composition they share with the local runtime, and the adapters that
// bind the pipeline's ports to S3, SQS, Powertools and the environment. Infra's plain values
// (sizing, the notification rule, the forwarded settings) are `@strata/lambda/deploy`.
export { createWorkerHandler, handler as workerHandler, type SqsHandler } from "./worker.ts";
export { handler as scheduledHandler } from "./scheduled.ts";
export {
  ensureUploadNotification,
  notificationManagement,
  planUploadNotification,
  type NotificationOutcome,
} from "./ensure-notification.ts";
export {
  lambdaRuntime,
  powertoolsLogger,
  powertoolsMetrics,
  required,
  sqsClient,
  sqsJobQueue,
  systemClock,
  type Env,
  type LambdaRuntime,
} from "./adapters.ts";
