export * from "./messages.ts";
export * from "./ports.ts";
export {
  DEFAULT_CONFIG,
  DEFAULT_ENGINE_SETTINGS,
  configFromEnv,
  engineSettingsFromEnv,
  parseDuration,
  type EngineSettings,
  type PipelineConfig,
  type PipelineSettings,
  type QueueSettings,
} from "./config.ts";
export { PIPELINE_SETTINGS, type SettingDoc } from "./settings.ts";
export { UPLOAD_NOTIFICATION, matchesUploadNotification } from "./notify-rule.ts";
export { handleRecord, runJob, type RecordMeta, type RecordOutcome } from "./worker.ts";
export { runSchedule, type ScheduleOutcome } from "./schedule.ts";
export { jsonLogger } from "./log.ts";
export { findCoveringBlock, redundantBlocks, findDownsampled, expiredBlocks, retentionVerdicts, sourcesOf, compactLeaseName, downsampleLeaseName } from "./blocks.ts";
export { QUARANTINE_REASON, VERIFY_REPORT_FILE, VERIFIED_FILE, VERIFIER_VERSION, repairedUlid } from "./jobs/verify.ts";
export { COMPACTION_FAILED_REASON, DOWNSAMPLE_FAILED_REASON, JOB_FAILED_REASON, PLAN_REPORT_FILE, OutputRejected, sha256Hex } from "./jobs/admit.ts";
export type { JobContext, JobResult } from "./jobs/context.ts";
export { JobOutOfTime } from "./jobs/context.ts";
export { bindPipeline, pipelineLayout, StoreStorage, StoreBucketIndex, StoreLeases, BlockEngines, VerificationIncomplete, type BindOptions } from "./bindings/index.ts";
