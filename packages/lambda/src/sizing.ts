// The worker's walls and the queue's timing in one place: the queue's visibility timeout is
// derived from the worker's timeout instead of being kept in step by hand, infra/ deploys these
// numbers, and the same numbers bound the job budget (WORKER_LIMITS, given to parseSettings by
// the Lambda and by the local runtime). Plain constants: infra's type-check and SST's config
// bundle load this file (through ./deploy.ts).
import type { WorkerLimits } from "@strata/pipeline/settings";

/** Lambda's maximum: a compaction of large blocks reads, merges and uploads within one run. */
export const WORKER_TIMEOUT_SECONDS = 900;
/** 3008 MB is the most a new account may configure; memory also buys CPU (~1.8 vCPU). */
export const WORKER_MEMORY = "3008 MB";
/** /tmp for spilled postings and staged chunk segments: Lambda's maximum. */
export const WORKER_STORAGE = "10240 MB";
/** One job per invocation: memory and /tmp are bounded by a single job. */
export const WORKER_BATCH_SIZE = 1;
/** Caps concurrent workers per event source mapping (S3 request rates, account concurrency). */
export const WORKER_MAX_CONCURRENCY = 20;

/** AWS: at least six times the function timeout, so throttled retries do not redeliver early. */
export const JOBS_VISIBILITY_SECONDS = 6 * WORKER_TIMEOUT_SECONDS;
/** Deliveries before a message goes to the DLQ (AWS advises ≥ 5 for Lambda consumers). */
export const JOBS_MAX_RECEIVE_COUNT = 5;
/** SQS's maximum, 14 days: time for a person to look at dead letters. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

export const SCHEDULE = "rate(1 hour)";
export const SCHEDULED_TIMEOUT_SECONDS = 60;

/** The worker's memory in bytes. Lambda's "MB" are MiB: 3008 MB is 3008 × 2^20 bytes. */
export const WORKER_MEMORY_BYTES = (() => {
  const m = /^(\d+)\s*MB$/.exec(WORKER_MEMORY);
  if (!m) throw new Error(`sizing.ts: WORKER_MEMORY ${JSON.stringify(WORKER_MEMORY)} is not "<n> MB"`);
  return Number(m[1]) * 2 ** 20;
})();

/**
 * What the runtime takes before a job starts: Node 24 with the bundled modules (~62 MiB
 * measured as the benches' base RSS, bundled), Lambda's runtime client, and headroom for
 * the garbage collector's overshoot (208 MiB); plus what a warm worker keeps between jobs so
 * that big tenants stay cheap, each bounded by a count: the bucket-index entries (200,000 at
 * ~0.36 KB measured, ~72 MB) and the planning metas (100,000 at ~1.8 KB measured, ~176 MB),
 * 256 MiB together. 3008 MB − 464 MiB = 2544 MiB for the job.
 */
export const RUNTIME_RESERVE_BYTES = (208 + 256) * 2 ** 20;

/** The worker's walls, past which no job budget may go (STRATA_JOB_BUDGET, STRATA_JOB_MEMORY). */
export const WORKER_LIMITS: WorkerLimits = {
  timeoutSeconds: WORKER_TIMEOUT_SECONDS,
  memoryBytes: WORKER_MEMORY_BYTES,
  runtimeReserveBytes: RUNTIME_RESERVE_BYTES,
};
