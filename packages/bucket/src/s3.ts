// `@strata/bucket/s3`: the object store over the AWS SDK, apart from the root so that importing
// the ports and the layout does not load the SDK (openStore imports this lazily for s3:// URLs).
export { S3Store, createS3Client, endpointFromEnv, type S3StoreOptions } from "./s3/s3-store.ts";
export { backoffRetryStrategy, type RetryOptions } from "./s3/retry.ts";
