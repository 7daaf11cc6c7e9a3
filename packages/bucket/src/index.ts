// @strata/bucket: the object store port and its filesystem store, the tsdb ports over it, the
// bucket layout, Mimir's bucket index and job leases. The S3 store is `@strata/bucket/s3`.
export { BucketError } from "./errors.ts";
export * from "./store.ts";
export { readIndexObject, readMarkerObject, readMetaObject } from "./capped-reads.ts";
export { FsStore, FS_RESERVED_DIR, type FsStoreOptions } from "./fs/fs-store.ts";
export {
  parseBucketUrl,
  openStore,
  BucketUrlError,
  type BucketUrl,
  formatBucketUrl,
  parseBlockUrl,
  parseTenantUrl,
  blockUrl,
  tenantUrl,
  blockUrlPrefix,
  requireBlock,
  openBlockUrl,
  tenantExists,
  BlockNotFoundError,
  UnknownTenantError,
  type BlockUrl,
  type TenantUrl,
} from "./url.ts";
export { JOB_CACHE_BYTES, SOURCE_CACHE_BYTES, RangeCache, type RangeCacheOptions } from "./range-cache.ts";
export { INDEX_EDGE_BYTES, StoreByteSource, StoreBlockSource, type StoreByteSourceOptions } from "./byte-source.ts";
export { StoreBlockSink } from "./block-sink.ts";
export { FIRST_RANGE, MAX_AHEAD, MAX_RANGE } from "./read-ahead.ts";
export * from "./keys.ts";
export * from "./layout.ts";
export * from "./bucket-index/schema.ts";
export * from "./bucket-index/updater.ts";
export * from "./bucket-index/edit.ts";
export { IndexCodec, DEFAULT_CACHED_ENTRIES } from "./bucket-index/codec.ts";
export { TenantCaches } from "./tenant-caches.ts";
export * from "./bucket-index/reader.ts";
export * from "./lease.ts";
