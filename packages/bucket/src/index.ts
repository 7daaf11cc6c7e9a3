// @strata/bucket: the object store port (S3, filesystem), the tsdb ports over it, the
// bucket layout, Mimir's bucket index and job leases.
export * from "./store.ts";
export { FsStore, FS_RESERVED_DIR, type FsStoreOptions } from "./fs/fs-store.ts";
export { S3Store, createS3Client, endpointFromEnv, type S3StoreOptions } from "./s3/s3-store.ts";
export { backoffRetryStrategy, type RetryOptions } from "./s3/retry.ts";
export { parseBucketUrl, openStore, BucketUrlError, type BucketUrl } from "./url.ts";
export { JOB_CACHE_BYTES, SOURCE_CACHE_BYTES, RangeCache, StoreByteSource, StoreBlockSource, StoreBlockSink, type RangeCacheOptions } from "./byte-source.ts";
export * from "./keys.ts";
export * from "./layout.ts";
export * from "./bucket-index/schema.ts";
export * from "./bucket-index/updater.ts";
export * from "./bucket-index/reader.ts";
export * from "./lease.ts";
