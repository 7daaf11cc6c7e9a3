// The worker's walls and the queue's timing in one place: the queue's visibility timeout is
// derived from the worker's timeout instead of being kept in step by hand, and the planner sizes
// jobs against the same numbers infra/ deploys (infra/sizing.ts re-exports this file; imports
// run down, from infra to the packages, never up).

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
