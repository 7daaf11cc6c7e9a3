/**
 * Every `STRATA_*` variable the pipeline reads (`configFromEnv`, `engineSettingsFromEnv`), in
 * one list: what `infra/settings.ts` forwards to the functions, what `strata local` reads and
 * `strata local --help` lists. A test holds this list to what the parsers really read.
 */
export interface SettingDoc {
  name: string;
  /** What it sets, its form and its default. */
  help: string;
}

export const PIPELINE_SETTINGS: readonly SettingDoc[] = [
  { name: "STRATA_COMPACTION_RANGES", help: "compaction ranges, base first (default 1h,2h,8h,2d,14d); the largest also caps a block's span at verification" },
  { name: "STRATA_REPLICA_LABELS", help: "external labels that tell HA replicas apart, comma-separated (default none)" },
  { name: "STRATA_DEDUP", help: "1:1 or penalty (default penalty once replica labels are set)" },
  { name: "STRATA_SPLIT_SHARDS", help: "split-and-merge: shards per split (default off)" },
  { name: "STRATA_SPLIT_MIN_SERIES", help: "split only groups whose largest block has this many series" },
  { name: "STRATA_SPLIT_MIN_INDEX_BYTES", help: "split only groups whose largest block's index has this many bytes" },
  { name: "STRATA_DOWNSAMPLE_WORKERS", help: "worker threads per downsampling job (default every core but one, at most 3; 0 = none)" },
  { name: "STRATA_MAX_META_BYTES", help: "a larger meta.json is refused unread, MetaTooLarge (default 1048576)" },
  { name: "STRATA_JOB_BUDGET", help: "time a planned job may take by the cost model (default 10m of the 15-minute worker)" },
  { name: "STRATA_JOB_MEMORY", help: "memory a planned job may take, e.g. 2800MiB (default the worker's memory minus the runtime)" },
  { name: "STRATA_PAGE_CACHE_BYTES", help: "page cache one job shares across its inputs (default 268435456)" },
  { name: "STRATA_RETENTION_RAW", help: "keep raw blocks this long, e.g. 30d (default 0 = forever)" },
  { name: "STRATA_RETENTION_5M", help: "keep 5m blocks this long (default 0 = forever)" },
  { name: "STRATA_RETENTION_1H", help: "keep 1h blocks this long (default 0 = forever)" },
  { name: "STRATA_RETENTION_REQUIRE_DOWNSAMPLED", help: "true: retention never removes the last copy of a range (default true)" },
  { name: "STRATA_DELETE_DELAY", help: "how long a block marked for deletion stays readable (default 48h)" },
  { name: "STRATA_PARTIAL_UPLOAD_AGE", help: "a block directory without meta.json this old is an abandoned upload (default 2d)" },
  { name: "STRATA_LEASE_TTL", help: "job lease time-to-live, above the worker timeout (default 16m)" },
  { name: "STRATA_RETRY_DELAY", help: "first delay before an upload in progress or a busy lease is tried again (default 30s, doubling)" },
  { name: "STRATA_RETRY_DELAY_MAX", help: "longest such delay (default 15m, SQS's limit)" },
  { name: "STRATA_JOB_MAX_ATTEMPTS", help: "attempts a compaction or downsampling may start before it is refused with a mark (default 3)" },
  { name: "STRATA_QUEUED_TTL", help: "how long planning trusts that a job it queued is still on the queue (default 2h)" },
  { name: "STRATA_STOP_MARGIN", help: "a writing job stops this long before the invocation's deadline (default 1m)" },
];
