// `@strata/pipeline/operations`: what an operator runs against a bucket, outside the worker
// (the CLI's status, replay, quarantine release and index rebuild). Apart from the root so the
// worker's bundle and the CLI's start-up load only what they use.
export { bucketStatus, type TenantStatus } from "./status.ts";
export { replayJobs, type ReplayOptions } from "./replay.ts";
export { releaseQuarantine, type ReleaseOutcome } from "./quarantine.ts";
export { rebuildIndex, type TenantRebuild } from "./index-rebuild.ts";
