// @strata/local: the local runtime (S3 + SQS emulator, Lambda-like poller, S3 notifications,
// the worker and scheduled handlers) and its pieces.
// The emulator is its own package (@strata/emulator); re-exported for the runtime's users.
export {
  ConditionalWriteProxy,
  startS3Emulator,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  type Fault,
  type ProxyStats,
  type ObjectWritten,
  type RandomFaults,
  type S3Emulator,
  type S3EmulatorOptions,
} from "@strata/emulator";
export type { LocalRuntime, LocalRuntimeOptions, RuntimeFaults } from "./contract.ts";
export { localSettingsFromEnv, localS3Shaping, LOCAL_SETTING_DEFAULTS, type LocalS3Shaping } from "./settings.ts";
export {
  startLocalRuntime,
  queueDepth,
  LOCAL_SETTINGS,
  DEFAULT_PORT,
  DEFAULT_BUCKET,
  JOBS_QUEUE,
  DLQ_QUEUE,
} from "./runtime.ts";
export {
  SqsEventSourcePoller,
  toSqsRecord,
  lambdaContext,
  type PollerOptions,
  type InvocationOutcome,
  type SqsBatchHandler,
} from "./sqs-poller.ts";
export { encodeS3EventKey, s3EventBody, s3TestEventBody, shouldNotify, type CreatedObject } from "./notifications.ts";
export { provisionPipeline, uploadQueueConfiguration, type Provisioned } from "./provision.ts";
export { KillSwitch, WorkerKilledError } from "./faults.ts";
export { uploadDemoBlocks, type DemoOptions } from "./demo.ts";
