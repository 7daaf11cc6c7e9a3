export { PipelineError } from "./errors.ts";
export * from "./messages.ts";
export * from "./ports.ts";
export type {
  DedupMode,
  EngineSettings,
  JobBudgetSettings,
  PipelineConfig,
  PipelineSettings,
  QueueSettings,
  WorkerLimits,
} from "./config.ts";
export {
  DEFAULT_CONFIG,
  DEFAULT_ENGINE_SETTINGS,
  PIPELINE_SETTINGS,
  SETTING_NAMES,
  SettingsError,
  SettingsSchema,
  WIRING_VARIABLES,
  DEPLOY_ONLY_VARIABLES,
  defaultDedup,
  jobMemoryLimit,
  parseSettings,
  readSettings,
  settingMeta,
  tryParseBytes,
  type ParsedSettings,
  type ParseOptions,
  type ReadOptions,
  type SettingDoc,
  type SettingMeta,
  type SettingName,
  type SettingValues,
} from "./settings.ts";
export { handleRecord, runJob, type RecordMeta, type RecordOutcome } from "./worker.ts";
export { runSchedule, type ScheduleOutcome } from "./schedule.ts";
export { SCHEDULED_TENANT_JOBS } from "./jobs/schedule-page.ts";
export {
  QueueSendError,
  SEND_BATCH_MAX_BYTES,
  SEND_BATCH_MAX_ENTRIES,
  sendJobs,
  type SendJobsOptions,
  type SendJobsResult,
  type UnsentJob,
} from "./send-jobs.ts";
export {
  METRICS,
  jobIo,
  type CounterName,
  type GaugeName,
  type GaugeSample,
  type JobIo,
  type MetricDef,
  type MetricLabels,
  type MetricName,
  type MetricType,
  type SummaryName,
} from "./metrics.ts";
export { jsonLogger } from "./log.ts";
export {
  findCoveringBlock,
  redundantBlocks,
  findDownsampled,
  expiredBlocks,
  retentionVerdicts,
  sourcesOf,
  compactLeaseName,
  downsampleLeaseName,
} from "./blocks.ts";
export { QUARANTINE_REASON, VERIFY_REPORT_FILE, VERIFIED_FILE, VERIFIER_VERSION, repairedUlid } from "./jobs/verify.ts";
export {
  COMPACTION_FAILED_REASON,
  DOWNSAMPLE_FAILED_REASON,
  JOB_FAILED_REASON,
  PLAN_REPORT_FILE,
  OutputRejectedError,
  sha256Hex,
} from "./jobs/admit.ts";
export type { JobContext, JobResult } from "./jobs/context.ts";
export { JobOutOfTimeError } from "./jobs/context.ts";
export {
  bindPipeline,
  pipelineLayout,
  StoreStorage,
  StoreBucketIndex,
  StoreLeases,
  BlockEngines,
  VerificationIncompleteError,
  type BindOptions,
} from "./bindings/index.ts";
export { CONVERT_BYTES_PER_SECOND, CONVERT_ROW_GROUP_BYTES, convertRowGroupRows } from "./bindings/engines.ts";
export { PARQUET_MARK_FILE, PARQUET_REFUSED_FILE } from "./jobs/convert.ts";
