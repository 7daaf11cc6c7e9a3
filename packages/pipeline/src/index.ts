export * from "./messages.ts";
export * from "./ports.ts";
export { DEFAULT_CONFIG, configFromEnv, parseDuration, type PipelineConfig } from "./config.ts";
export { handleRecord, runJob, type RecordMeta, type RecordOutcome } from "./worker.ts";
export { runSchedule, type ScheduleOutcome } from "./schedule.ts";
export { jsonLogger } from "./log.ts";
export { findCoveringBlock, redundantBlocks, findDownsampled, expiredBlocks, resolutionOf, sourcesOf, compactLeaseName, downsampleLeaseName } from "./blocks.ts";
export { QUARANTINE_REASON, VERIFY_REPORT_FILE } from "./jobs/verify.ts";
export type { JobContext, JobResult } from "./jobs/context.ts";
