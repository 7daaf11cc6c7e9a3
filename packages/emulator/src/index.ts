// @strata/emulator: S3 and SQS on loopback for the local runtime and the tests — fauxqs behind
// a proxy that adds S3's conditional writes and can inject faults. Knows nothing of blocks.
export {
  ConditionalWriteProxy,
  type Fault,
  type ProxyStats,
  type ObjectWritten,
  type RandomFaults,
} from "./conditional-proxy.ts";
export {
  encodeS3EventKey,
  notificationConfigurationXml,
  parseNotificationConfiguration,
  ruleMatches,
  s3EventBody,
  s3TestEventBody,
  type CreatedObject,
  type NotificationSent,
  type QueueNotificationRule,
} from "./s3-notifications.ts";
export type { BucketNotifications } from "./notification-sender.ts";
export { Pacer, checkShaping, type S3Shaping } from "./shaping.ts";
export {
  startS3Emulator,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  type S3Emulator,
  type S3EmulatorOptions,
} from "./s3-emulator.ts";
