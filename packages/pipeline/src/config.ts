/**
 * Pipeline settings: retention per resolution, the delete delay, the partial-upload age and
 * the job lease TTL. Lambda reads them from the environment (`configFromEnv`), tests and the
 * local runtime pass them directly.
 */
import { RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW } from "@strata/tsdb";
import { WORKER_MEMORY, WORKER_TIMEOUT_SECONDS } from "./sizing.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

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
}

export const DEFAULT_CONFIG: PipelineConfig = {
  retention: { [RESOLUTION_RAW]: 0, [RESOLUTION_5M]: 0, [RESOLUTION_1H]: 0 },
  retentionRequiresDownsampled: true,
  deleteDelayMs: 48 * HOUR, // Thanos' --delete-delay default
  partialUploadAgeMs: 2 * DAY, // Thanos' PartialUploadThresholdAge
  leaseTtlMs: 16 * MINUTE, // the 15-minute worker timeout plus a margin
  retryDelay: { baseMs: 30_000, maxMs: 15 * MINUTE, attempts: 12 }, // 30 s … 15 min, ~2.3 h in all
  maxJobAttempts: 3,
  queuedTtlMs: 2 * HOUR,
  stopMarginMs: MINUTE,
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: DAY };

/** "0", "90s", "15m", "48h", "30d" → milliseconds. */
export function parseDuration(text: string, name: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m || (m[2] === undefined && m[1] !== "0")) {
    throw new Error(`${name}: expected a duration like 0, 90s, 15m, 48h or 30d, found ${JSON.stringify(text)}`);
  }
  return Number(m[1]) * UNITS[m[2] ?? "ms"]!;
}

/** How the engines plan and merge: the compaction ranges, HA replica labels, the dedup mode. */
export interface EngineSettings {
  /** Thanos' compaction set: base range first, then the target ranges (ms). Default 1h, 2h, 8h, 2d, 14d. */
  ranges: readonly number[];
  /** External (or series) labels that tell HA replicas apart; their blocks are merged into one. */
  replicaLabels: readonly string[];
  /** "penalty" (Thanos' HA dedup, the default once replica labels are set) or "1:1" (Prometheus' merge). */
  dedup: "1:1" | "penalty";
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
   * What one job may take (`STRATA_JOB_BUDGET`, `STRATA_JOB_MEMORY`): the planner plans only
   * jobs whose cost-model estimate fits (cutting a window to a prefix, or more split groups
   * and shards) and refuses the rest with a report. Absent: {@link DEFAULT_JOB_BUDGET}.
   */
  jobBudget?: JobBudgetSettings;
}

export interface JobBudgetSettings {
  /** Seconds of wall-clock time a job may take (its estimate, not a timer). */
  seconds: number;
  /** Bytes of memory the job's own work may take (above the runtime). */
  memoryBytes: number;
}

/**
 * The worker function's memory (sizing.ts, the one definition infra/ deploys) in bytes. Lambda's "MB"
 * are MiB: 3008 MB is 3008 × 2^20 bytes.
 */
export const WORKER_MEMORY_BYTES = (() => {
  const m = /^(\d+)\s*MB$/.exec(WORKER_MEMORY);
  if (!m) throw new Error(`sizing.ts: WORKER_MEMORY ${JSON.stringify(WORKER_MEMORY)} is not "<n> MB"`);
  return Number(m[1]) * 2 ** 20;
})();

/**
 * What the runtime takes before a job starts: Node 24 with the bundled modules (~62 MiB
 * measured as the benches' base RSS, bundled), Lambda's runtime client, and headroom for
 * the garbage collector's overshoot. 3008 MB − 208 MiB = 2800 MiB for the job.
 */
export const RUNTIME_RESERVE_BYTES = 208 * 2 ** 20;

/** 10 minutes of the 15-minute Lambda (a third to spare for a slow S3 or a noisy neighbour), the function's memory minus the runtime. */
export const DEFAULT_JOB_BUDGET: JobBudgetSettings = { seconds: 600, memoryBytes: WORKER_MEMORY_BYTES - RUNTIME_RESERVE_BYTES };

/** The worker's walls, past which no budget may go. */
export const JOB_LIMITS = { seconds: WORKER_TIMEOUT_SECONDS, memoryBytes: WORKER_MEMORY_BYTES - RUNTIME_RESERVE_BYTES };

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** "2936012800", "2800MiB", "3GB", "2.5GiB" → bytes (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
export function parseBytes(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || (m[2] === "" && m[1]!.includes("."))) {
    throw new Error(`${name}: expected bytes like 2936012800, 2800MiB or 3GB, found ${JSON.stringify(text)}`);
  }
  return Math.floor(Number(m[1]) * unit);
}

/** STRATA_JOB_BUDGET (a duration) and STRATA_JOB_MEMORY (bytes); unset ones keep the defaults; each must be positive and within the worker's walls. */
export function jobBudgetFromEnv(env: Record<string, string | undefined>): JobBudgetSettings {
  const b = env.STRATA_JOB_BUDGET;
  const mem = env.STRATA_JOB_MEMORY;
  const seconds = b === undefined || b === "" ? DEFAULT_JOB_BUDGET.seconds : parseDuration(b, "STRATA_JOB_BUDGET") / 1000;
  const memoryBytes = mem === undefined || mem === "" ? DEFAULT_JOB_BUDGET.memoryBytes : parseBytes(mem, "STRATA_JOB_MEMORY");
  if (!(seconds > 0)) throw new Error(`STRATA_JOB_BUDGET: must be positive, found ${JSON.stringify(b)}`);
  if (seconds > JOB_LIMITS.seconds) throw new Error(`STRATA_JOB_BUDGET: ${b} is past the worker's ${JOB_LIMITS.seconds / 60}-minute timeout`);
  if (!(memoryBytes > 0)) throw new Error(`STRATA_JOB_MEMORY: must be positive, found ${JSON.stringify(mem)}`);
  if (memoryBytes > WORKER_MEMORY_BYTES) throw new Error(`STRATA_JOB_MEMORY: ${mem} is more than the worker's ${WORKER_MEMORY}`);
  return { seconds, memoryBytes };
}

/**
 * How the worker is fed from the queue. In AWS these live in sizing.ts, deployed by infra/ (the event source
 * mapping and the queue); the local runtime's poller takes them from here, with the same defaults.
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

export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  ranges: [HOUR, 2 * HOUR, 8 * HOUR, 2 * DAY, 14 * DAY],
  replicaLabels: [],
  dedup: "1:1",
};

/** Ranges like "1h,2h,8h,2d,14d" and a comma-separated label list; unset ones keep defaults. */
export function engineSettingsFromEnv(env: Record<string, string | undefined>): EngineSettings {
  const ranges = env.STRATA_COMPACTION_RANGES
    ? env.STRATA_COMPACTION_RANGES.split(",").map((r) => parseDuration(r, "STRATA_COMPACTION_RANGES"))
    : DEFAULT_ENGINE_SETTINGS.ranges;
  const replicaLabels = env.STRATA_REPLICA_LABELS ? env.STRATA_REPLICA_LABELS.split(",").map((l) => l.trim()).filter(Boolean) : [];
  const dedup = env.STRATA_DEDUP ?? (replicaLabels.length > 0 ? "penalty" : "1:1");
  if (dedup !== "1:1" && dedup !== "penalty") throw new Error(`STRATA_DEDUP: expected 1:1 or penalty, found ${JSON.stringify(dedup)}`);
  const shards = positiveInt(env, "STRATA_SPLIT_SHARDS");
  const minSeries = positiveInt(env, "STRATA_SPLIT_MIN_SERIES");
  const minIndexBytes = positiveInt(env, "STRATA_SPLIT_MIN_INDEX_BYTES");
  if (shards === undefined && (minSeries !== undefined || minIndexBytes !== undefined)) {
    throw new Error("STRATA_SPLIT_MIN_SERIES / STRATA_SPLIT_MIN_INDEX_BYTES need STRATA_SPLIT_SHARDS (the number of shards to split into)");
  }
  const split = shards === undefined ? undefined : { shardCount: shards, minSeries, minIndexBytes };
  const downsampleWorkers = intSetting(env, "STRATA_DOWNSAMPLE_WORKERS", 0);
  const maxMetaBytes = positiveInt(env, "STRATA_MAX_META_BYTES");
  const pageCacheBytes = positiveInt(env, "STRATA_PAGE_CACHE_BYTES");
  const jobBudget = jobBudgetFromEnv(env);
  return {
    ranges,
    replicaLabels,
    dedup,
    jobBudget,
    ...(split ? { split } : {}),
    ...(downsampleWorkers !== undefined ? { downsampleWorkers } : {}),
    ...(maxMetaBytes !== undefined ? { maxMetaBytes } : {}),
    ...(pageCacheBytes !== undefined ? { pageCacheBytes } : {}),
  };
}

function bool(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === "") return fallback;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new Error(`${name}: expected true or false, found ${JSON.stringify(v)}`);
}

function positiveInt(env: Record<string, string | undefined>, name: string): number | undefined {
  return intSetting(env, name, 1);
}

function intSetting(env: Record<string, string | undefined>, name: string, min: 0 | 1): number | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name}: expected a ${min === 1 ? "positive" : "non-negative"} integer, found ${JSON.stringify(v)}`);
  }
  return n;
}

/**
 * Settings from `STRATA_RETENTION_RAW`, `STRATA_RETENTION_5M`, `STRATA_RETENTION_1H`,
 * `STRATA_DELETE_DELAY`, `STRATA_PARTIAL_UPLOAD_AGE`, `STRATA_LEASE_TTL`; unset ones keep defaults.
 */
export function configFromEnv(env: Record<string, string | undefined>): PipelineConfig {
  const d = (name: string, fallback: number) => (env[name] === undefined || env[name] === "" ? fallback : parseDuration(env[name]!, name));
  return {
    retention: {
      [RESOLUTION_RAW]: d("STRATA_RETENTION_RAW", DEFAULT_CONFIG.retention[RESOLUTION_RAW]),
      [RESOLUTION_5M]: d("STRATA_RETENTION_5M", DEFAULT_CONFIG.retention[RESOLUTION_5M]),
      [RESOLUTION_1H]: d("STRATA_RETENTION_1H", DEFAULT_CONFIG.retention[RESOLUTION_1H]),
    },
    retentionRequiresDownsampled: bool(env, "STRATA_RETENTION_REQUIRE_DOWNSAMPLED", DEFAULT_CONFIG.retentionRequiresDownsampled),
    deleteDelayMs: d("STRATA_DELETE_DELAY", DEFAULT_CONFIG.deleteDelayMs),
    partialUploadAgeMs: d("STRATA_PARTIAL_UPLOAD_AGE", DEFAULT_CONFIG.partialUploadAgeMs),
    leaseTtlMs: d("STRATA_LEASE_TTL", DEFAULT_CONFIG.leaseTtlMs),
    retryDelay: {
      baseMs: d("STRATA_RETRY_DELAY", DEFAULT_CONFIG.retryDelay.baseMs),
      maxMs: Math.min(15 * MINUTE, d("STRATA_RETRY_DELAY_MAX", DEFAULT_CONFIG.retryDelay.maxMs)),
      attempts: DEFAULT_CONFIG.retryDelay.attempts,
    },
    maxJobAttempts: intSetting(env, "STRATA_JOB_MAX_ATTEMPTS", 1) ?? DEFAULT_CONFIG.maxJobAttempts,
    queuedTtlMs: d("STRATA_QUEUED_TTL", DEFAULT_CONFIG.queuedTtlMs),
    stopMarginMs: d("STRATA_STOP_MARGIN", DEFAULT_CONFIG.stopMarginMs),
  };
}
