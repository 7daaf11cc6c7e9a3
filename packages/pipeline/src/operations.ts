// `@strata/pipeline/operations`: what an operator runs against a bucket, outside the worker
// (the CLI's status, replay, quarantine release and index rebuild). Apart from the root so the
// worker's bundle and the CLI's start-up load only what they use.
export { bucketStatus, type TenantStatus } from "./status.ts";
export { tenantGauges, gaugesOf, bucketIndexBytes, type GaugeSample } from "./tenant-gauges.ts";
export {
  replayJobs,
  isTenantJobType,
  TENANT_JOB_TYPES,
  type ReplayOptions,
  type ReplayMessage,
  type ReplayResult,
} from "./replay.ts";
export {
  describeDeadLetter,
  recordedErrors,
  MAX_RECORD_BYTES,
  type DeadLetter,
  type DeadLetterItem,
  type RecordedError,
} from "./dead-letters.ts";
export { releaseQuarantine, type ReleaseOutcome } from "./quarantine.ts";
export { rebuildIndex, type TenantRebuild } from "./index-rebuild.ts";
export { listBucketBlocks, type BlockRow, type BlockMarks, type BucketListing } from "./list-blocks.ts";
export {
  filterBlocks,
  sortBlocks,
  MARK_FILTERS,
  BLOCK_SORTS,
  type BlockFilter,
  type BlockSort,
  type MarkFilter,
} from "./block-filter.ts";
export { markBlocks, unmarkBlocks, MARK_KINDS, type MarkKind, type MarkOutcome, type MarkRequest } from "./marks.ts";
export * from "./overrides/index.ts";
export { findLocalBlocks, uploadBlocks, type LocalBlock, type UploadEvent, type UploadOutcome } from "./upload.ts";
export {
  BlockViews,
  type BlockDetail,
  type BlockState,
  type BlockView,
  type IndexView,
  type TenantBlocks,
} from "./block-views.ts";
