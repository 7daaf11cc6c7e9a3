// @strata/local: the local runtime. For now: the S3 emulator harness.
export { ConditionalWriteProxy, type Fault, type ProxyStats } from "./conditional-proxy.ts";
export { startS3Emulator, EMULATOR_CREDENTIALS, EMULATOR_REGION, type S3Emulator, type S3EmulatorOptions } from "./s3-emulator.ts";
