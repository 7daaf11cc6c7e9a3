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
  startS3Emulator,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  type S3Emulator,
  type S3EmulatorOptions,
} from "./s3-emulator.ts";
