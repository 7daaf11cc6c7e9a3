/**
 * The shapes of the configuration a running pipeline reads: job settings (`PipelineConfig`),
 * engine settings (`EngineSettings`) and, for the local runtime's poller, queue settings.
 * settings.ts builds the first two from the environment (`parseSettings`) and holds their
 * defaults; tests pass the structures directly.
 */
import type { RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW } from "@strata/tsdb";

/** The walls of the function that runs jobs (the runtime's sizing): no job budget may pass them. */
export interface WorkerLimits {
  /** The function's timeout, seconds. */
  timeoutSeconds: number;
  /** The function's memory, bytes. */
  memoryBytes: number;
  /** What the runtime takes before a job starts (Node, the modules, GC headroom); the job gets the rest. */
  runtimeReserveBytes: number;
}

/** How HA replicas' overlapping samples are merged. */
export type DedupMode = "1:1" | "penalty";

export interface PipelineConfig {
  /** Milliseconds of data kept per resolution (keyed by resolution in ms); 0 keeps forever. */
  retention: { [RESOLUTION_RAW]: number; [RESOLUTION_5M]: number; [RESOLUTION_1H]: number };
  /**
   * Retention removes a raw block only once a 5m block holds its range (or the 5m retention
   * has passed too), and a 5m block only once a 1h block does: never the last copy. Off:
   * every resolution expires on its own clock.
   */
  retentionRequiresDownsampled: boolean;
  /** How long a block marked for deletion stays readable (store gateways and queries in flight). */
  deleteDelayMs: number;
  /** A block directory without meta.json untouched for this long is an abandoned upload. */
  partialUploadAgeMs: number;
  /** Must exceed the worker's timeout and stay well under the queue's visibility timeout. */
  leaseTtlMs: number;
  /**
   * Re-sending a job that cannot run yet (an upload in progress, a busy lease) with an SQS
   * delay: the first after `baseMs`, doubling up to `maxMs` (SQS allows 15 minutes), at most
   * `attempts` times; the visibility timeout stays the backstop for crashes only.
   */
  retryDelay: { baseMs: number; maxMs: number; attempts: number };
  /**
   * Attempts a leased job (a compaction plan, a downsampling) may start before it is refused:
   * its inputs get a no-compact (or no-downsample) mark with the collected errors, and it stops
   * being planned. A killed or timed-out attempt counts.
   */
  maxJobAttempts: number;
  /**
   * How long a note that a job is on the queue keeps planning from sending it again: past it,
   * the message may have been lost and the job is sent anew (duplicates are harmless).
   */
  queuedTtlMs: number;
  /**
   * A job that writes blocks stops this long before the invocation's deadline (Lambda's
   * remaining time) and deletes its partial output, instead of being killed mid-upload.
   */
  stopMarginMs: number;
  /**
   * Parquet for the parquet gateways: once a block whose range is at least `minRangeMs` is
   * verified and indexed, a convert job writes parquet-common's files and Cortex's converter
   * mark into its folder. Off by default (STRATA_PARQUET); per tenant with the overrides.
   */
  parquet: { enabled: boolean; minRangeMs: number };
}

/** How the engines plan and merge: the compaction ranges, HA replica labels, the dedup mode. */
export interface EngineSettings {
  /** Thanos' compaction set: base range first, then the target ranges (ms). Default 1h, 2h, 8h, 2d, 14d. */
  ranges: readonly number[];
  /** External (or series) labels that tell HA replicas apart; their blocks are merged into one. */
  replicaLabels: readonly string[];
  /**
   * "penalty" (Thanos' HA dedup, the default once replica labels are set: `defaultDedup`) or "1:1" (Prometheus' merge).
   */
  dedup: DedupMode;
  /**
   * Mimir's split-and-merge for big groups: once a group's block reaches `minSeries` series
   * or `minIndexBytes` of index (either; neither = every group), its first level is split
   * into `shardCount` blocks by series hash and later levels merge shard by shard. Absent:
   * leveled planning (groups that already hold shards still merge shard by shard).
   */
  split?: { shardCount: number; minSeries?: number; minIndexBytes?: number };
  /**
   * Worker threads a downsampling job uses beside its own (0 = none). Absent: every core
   * but one, at most 3 (a Lambda of at least 1,769 MB has two vCPUs).
   */
  downsampleWorkers?: number;
  /**
   * A block's meta.json larger than this is refused unread (MetaTooLarge, quarantined); every
   * meta.json reader of the pipeline honours it. Absent: 1 MiB (tsdb's MAX_META_BYTES).
   */
  maxMetaBytes?: number;
  /**
   * Bytes of object pages one compaction or downsampling job keeps cached for all its inputs
   * together (one cache per job, shared fairly: each input keeps at least its share). Absent:
   * 256 MiB (`JOB_CACHE_BYTES`), and never more than 64 MiB per input (`RangeCache.forJob`).
   */
  pageCacheBytes?: number;
  /**
   * What one job may take (`STRATA_JOB_BUDGET`, `STRATA_JOB_MEMORY`) and the worker's walls:
   * the planner plans only jobs whose cost-model estimate fits (cutting a window to a prefix,
   * or more split groups and shards) and refuses the rest with a report. `parseSettings`
   * always sets it; absent (a test's settings), every plan runs.
   */
  jobBudget?: JobBudgetSettings;
}

export interface JobBudgetSettings {
  /** Seconds of wall-clock time a job may take (its estimate, not a timer). */
  seconds: number;
  /** Bytes of memory the job's own work may take (above the runtime). */
  memoryBytes: number;
  /** The worker's timeout: the planner never suggests a budget past it. */
  limitSeconds?: number;
  /** The worker's memory minus the runtime: the planner never suggests more. */
  limitMemoryBytes?: number;
}

/**
 * How the worker is fed from the queue. In AWS these live in @strata/lambda's sizing, deployed
 * by infra/ (the event source mapping and the queue); the local runtime's poller takes them
 * from here, with the same defaults.
 */
export interface QueueSettings {
  /** Messages per handler invocation (Lambda's BatchSize). */
  batchSize: number;
  /** Long-poll wait of each ReceiveMessage, seconds (Lambda's pollers use 20). */
  waitTimeSeconds: number;
  /** The jobs queue's visibility timeout, seconds: how long a failed or abandoned message stays hidden. */
  visibilityTimeoutSeconds: number;
  /** Deliveries before a message moves to the DLQ. */
  maxReceiveCount: number;
}

/** Everything that tunes a running pipeline: job settings, engine settings, queue settings. */
export type PipelineSettings = PipelineConfig & EngineSettings & QueueSettings;
