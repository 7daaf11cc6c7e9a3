// Deploy-time settings forwarded to the functions (no SST types: unit-tested from test/infra).
/**
 * Pipeline settings (packages/pipeline/src/config.ts) taken from the environment of
 * `sst deploy` / `sst dev`, so `STRATA_REPLICA_LABELS=replica sst deploy` configures the
 * deployed functions; unset ones keep the functions' defaults. The names are the pipeline's
 * catalogue (packages/pipeline/src/settings.ts); test/infra holds the two lists together.
 */
const SETTINGS = [
  "STRATA_COMPACTION_RANGES",
  "STRATA_REPLICA_LABELS",
  "STRATA_DEDUP",
  "STRATA_SPLIT_SHARDS",
  "STRATA_SPLIT_MIN_SERIES",
  "STRATA_SPLIT_MIN_INDEX_BYTES",
  "STRATA_DOWNSAMPLE_WORKERS",
  "STRATA_MAX_META_BYTES",
  "STRATA_JOB_BUDGET",
  "STRATA_JOB_MEMORY",
  "STRATA_PAGE_CACHE_BYTES",
  "STRATA_RETENTION_RAW",
  "STRATA_RETENTION_5M",
  "STRATA_RETENTION_1H",
  "STRATA_DELETE_DELAY",
  "STRATA_PARTIAL_UPLOAD_AGE",
  "STRATA_LEASE_TTL",
  "STRATA_RETRY_DELAY",
  "STRATA_RETRY_DELAY_MAX",
  "STRATA_RETENTION_REQUIRE_DOWNSAMPLED",
  "STRATA_JOB_MAX_ATTEMPTS",
  "STRATA_QUEUED_TTL",
  "STRATA_STOP_MARGIN",
] as const;

export function deploySettings(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SETTINGS) {
    const v = env[k];
    if (v !== undefined && v !== "") out[k] = v;
  }
  return out;
}
