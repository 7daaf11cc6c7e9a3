/**
 * Every `STRATA_*` setting of the pipeline, in one zod schema: its name, what it sets, its
 * default (as text, read by the same parser as a set value) and its parser. From it come the
 * configuration (`parseSettings`: config.ts's shapes, checked against the worker's walls, and
 * `DEFAULT_CONFIG` / `DEFAULT_ENGINE_SETTINGS`), the names infra/ forwards to the functions
 * (`@strata/lambda/deploy`), and `strata local --help`'s list (`PIPELINE_SETTINGS`).
 * Variables that wire a process up rather than tune the pipeline (the bucket, the queues, test
 * switches) are declared in `WIRING_VARIABLES`, so that any other `STRATA_*` variable is a
 * typo and fails at start.
 *
 * The pipeline's `./settings` entry point: free of the rest of the pipeline (zod, @strata/tsdb
 * and config.ts's types only), because infra's type-check and SST's config bundle load it
 * through `@strata/lambda/deploy`.
 */
import { z } from "zod";
import { DURATION_FORM, RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW, tryParseDuration } from "@strata/tsdb";
import type { DedupMode, EngineSettings, JobBudgetSettings, PipelineConfig, WorkerLimits } from "./config.ts";
import { PipelineError } from "./errors.ts";

export type { DedupMode, EngineSettings, JobBudgetSettings, PipelineConfig, WorkerLimits } from "./config.ts";

/** What `strata local --help` and the READMEs say about a setting. */
export interface SettingMeta {
  /** What it sets, without its default. */
  help: string;
  /** The default as the variable would be written; parsed like a set value. */
  default?: string;
  /** When the default is not a fixed text (derived, or left to the engine): what it is. */
  defaultHelp?: string;
}

/** The schema's documentation, one entry per field of {@link SettingsSchema}. */
export const settingMeta = z.registry<SettingMeta>();

// --- parsers: text → value, or an issue saying what was expected ---------------------

function parsed<T>(expected: string, parse: (text: string) => T | undefined) {
  return z.string().transform((text, ctx) => {
    const v = parse(text);
    if (v === undefined) {
      ctx.addIssue({ code: "custom", message: `expected ${expected}, found ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return v;
  });
}

const duration = () => parsed(DURATION_FORM, tryParseDuration);

/** "1h,2h,8h": the element that is not a duration is the one reported. */
const durations = () =>
  z.string().transform((text, ctx) => {
    const out: number[] = [];
    for (const part of text.split(",")) {
      const ms = tryParseDuration(part);
      if (ms === undefined) {
        ctx.addIssue({ code: "custom", message: `expected ${DURATION_FORM}, found ${JSON.stringify(part)}` });
        return z.NEVER;
      }
      out.push(ms);
    }
    return out;
  });

const integer = (min: 0 | 1) =>
  parsed(`a ${min === 1 ? "positive" : "non-negative"} integer`, (text) => {
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min ? n : undefined;
  });

const BYTE_UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/**
 * "2936012800", "2800MiB", "3GB", "2.5GiB" → bytes (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024); a fraction needs
 * a unit.
 */
export function tryParseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2]!.toLowerCase()];
  if (unit === undefined || (m[2] === "" && m[1]!.includes("."))) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

const bytes = () => parsed("bytes like 2936012800, 2800MiB or 3GB", tryParseBytes);

const bool = () =>
  parsed("true or false", (text) =>
    text === "true" || text === "1" ? true : text === "false" || text === "0" ? false : undefined,
  );

const DEDUP_MODES: readonly DedupMode[] = ["1:1", "penalty"];
const dedup = () => parsed("1:1 or penalty", (text) => DEDUP_MODES.find((m) => m === text));

const labels = () =>
  z.string().transform((text) =>
    text
      .split(",")
      .map((l) => l.trim())
      .filter(Boolean),
  );

// --- the settings ---------------------------------------------------------------------

/** A setting with a fixed default, written as the variable would be. */
function withDefault<O>(schema: z.ZodType<O, string>, def: string, help: string) {
  return schema.prefault(def).register(settingMeta, { help, default: def });
}

/** A setting that is absent unless set (its default derived, or left to the engine that reads it). */
function optional<O>(schema: z.ZodType<O, string>, help: string, defaultHelp: string) {
  return schema.optional().register(settingMeta, { help, defaultHelp });
}

/**
 * The dedup mode when STRATA_DEDUP is not set: Thanos' penalty dedup once HA replicas are named, else Prometheus' 1:1
 * merge.
 */
export function defaultDedup(replicaLabels: readonly string[]): DedupMode {
  return replicaLabels.length > 0 ? "penalty" : "1:1";
}

const SPLIT_NEEDS_SHARDS =
  "STRATA_SPLIT_MIN_SERIES / STRATA_SPLIT_MIN_INDEX_BYTES need STRATA_SPLIT_SHARDS (the number of shards to split into)";

export const SettingsSchema = z
  .object({
    STRATA_COMPACTION_RANGES: withDefault(
      durations(),
      "1h,2h,8h,2d,14d",
      "compaction ranges, base first; the largest also caps a block's span at verification",
    ),
    STRATA_REPLICA_LABELS: withDefault(labels(), "", "external labels that tell HA replicas apart, comma-separated"),
    STRATA_DEDUP: optional(dedup(), "1:1 or penalty", "penalty once replica labels are set, else 1:1"),
    STRATA_SPLIT_SHARDS: optional(integer(1), "split-and-merge: shards per split", "off"),
    STRATA_SPLIT_MIN_SERIES: optional(
      integer(1),
      "split only groups whose largest block has this many series",
      "every group",
    ),
    STRATA_SPLIT_MIN_INDEX_BYTES: optional(
      integer(1),
      "split only groups whose largest block's index has this many bytes",
      "every group",
    ),
    STRATA_DOWNSAMPLE_WORKERS: optional(
      integer(0),
      "worker threads per downsampling job; 0 = none",
      "every core but one, at most 3",
    ),
    STRATA_MAX_META_BYTES: optional(integer(1), "a larger meta.json is refused unread, MetaTooLarge", "1048576"),
    STRATA_JOB_BUDGET: optional(
      duration(),
      "time a planned job may take by the cost model, within the worker's timeout",
      "10m, two thirds of the 15-minute worker",
    ),
    STRATA_JOB_MEMORY: optional(
      bytes(),
      "memory a planned job may take, e.g. 2800MiB",
      "the worker's memory minus the runtime",
    ),
    STRATA_PAGE_CACHE_BYTES: optional(integer(1), "page cache one job shares across its inputs", "268435456"),
    STRATA_RETENTION_RAW: withDefault(duration(), "0", "keep raw blocks this long, e.g. 30d; 0 = forever"),
    STRATA_RETENTION_5M: withDefault(duration(), "0", "keep 5m blocks this long; 0 = forever"),
    STRATA_RETENTION_1H: withDefault(duration(), "0", "keep 1h blocks this long; 0 = forever"),
    STRATA_RETENTION_REQUIRE_DOWNSAMPLED: withDefault(
      bool(),
      "true",
      "true: retention never removes the last copy of a range",
    ),
    STRATA_DELETE_DELAY: withDefault(
      duration(),
      "48h",
      "how long a block marked for deletion stays readable, as Thanos' --delete-delay",
    ),
    STRATA_PARTIAL_UPLOAD_AGE: withDefault(
      duration(),
      "2d",
      "a block directory without meta.json this old is an abandoned upload",
    ),
    STRATA_LEASE_TTL: withDefault(duration(), "16m", "job lease time-to-live, above the worker timeout"),
    STRATA_RETRY_DELAY: withDefault(
      duration(),
      "30s",
      "first delay before an upload in progress or a busy lease is tried again, doubling",
    ),
    STRATA_RETRY_DELAY_MAX: withDefault(duration(), "15m", "longest such delay, at most SQS's 15m"),
    STRATA_JOB_MAX_ATTEMPTS: withDefault(
      integer(1),
      "3",
      "attempts a compaction or downsampling may start before it is refused with a mark",
    ),
    STRATA_QUEUED_TTL: withDefault(
      duration(),
      "2h",
      "how long planning trusts that a job it queued is still on the queue",
    ),
    STRATA_STOP_MARGIN: withDefault(duration(), "1m", "a writing job stops this long before the invocation's deadline"),
    STRATA_PARQUET: withDefault(
      bool(),
      "false",
      "true: convert indexed blocks to Parquet (parquet-common's format, Cortex's converter mark) for parquet gateways",
    ),
    STRATA_PARQUET_MIN_RANGE: withDefault(
      duration(),
      "12h",
      "convert blocks whose compaction range is at least this (Cortex: every range above the first)",
    ),
  })
  .superRefine((v, ctx) => {
    if (
      v.STRATA_SPLIT_SHARDS === undefined &&
      (v.STRATA_SPLIT_MIN_SERIES !== undefined || v.STRATA_SPLIT_MIN_INDEX_BYTES !== undefined)
    ) {
      ctx.addIssue({ code: "custom", message: SPLIT_NEEDS_SHARDS });
    }
  });

export type SettingName = keyof typeof SettingsSchema.shape;
/** Every setting, parsed: fixed defaults applied, the others absent unless set. */
export type SettingValues = z.output<typeof SettingsSchema>;

/** Every setting's name, in the schema's order: what infra/ forwards to the functions. */
export const SETTING_NAMES = Object.keys(SettingsSchema.shape) as SettingName[];

/** A setting's name and its help with the default, for `--help` and the READMEs. */
export interface SettingDoc {
  name: SettingName;
  /** What it sets, its form and its default. */
  help: string;
}

export const PIPELINE_SETTINGS: readonly SettingDoc[] = SETTING_NAMES.map((name) => {
  const meta = settingMeta.get(SettingsSchema.shape[name])!;
  const def = meta.defaultHelp ?? (meta.default === "" ? "none" : meta.default);
  return { name, help: `${meta.help} (default ${def})` };
});

/**
 * `STRATA_*` variables that are not pipeline settings: what wires a process to its resources,
 * and switches of the tests and benches. Declared here so that no other `STRATA_*` name is
 * taken for a setting nor refused as unknown.
 */
export const WIRING_VARIABLES: Readonly<Record<string, string>> = {
  STRATA_BUCKET: "the blocks bucket's name (infra/functions.ts sets it on every function)",
  STRATA_QUEUE_URL: "the jobs queue's URL (set on every function; strata replay's default queue)",
  STRATA_DLQ_URL: "the dead-letter queue's URL (strata replay --from-dlq)",
  STRATA_MANAGE_NOTIFICATION:
    "merge: the scheduled function merges the upload notification into an adopted bucket's configuration (infra sets it)",
  STRATA_QUEUE_ARN:
    "the jobs queue's ARN, the notification's destination (infra sets it with STRATA_MANAGE_NOTIFICATION)",
  STRATA_SCHEDULE_INTERVAL: "how often strata local runs the scheduled job",
  STRATA_S3_LATENCY: "strata local: the emulator waits this long before each S3 answer, e.g. 20ms (--s3-latency)",
  STRATA_S3_BANDWIDTH: "strata local: the emulator paces each S3 body to this rate, e.g. 90MB/s (--s3-bandwidth)",
  STRATA_BENCH_S3: "benches: where blocks are read from, comma-separated disk, emulator, shaped (default all three)",
  STRATA_CLI: "tests and benches: the strata entry point to run (a bundle, a stand-in)",
  STRATA_CLI_BUNDLE: "the strata launcher's bundle directory (empty: run the TypeScript sources)",
  STRATA_E2E_LOG: "end-to-end tests: a file that collects the local runtime's log lines",
  STRATA_MEMORY_REPORT: "compact's memory-bound test prints its figures",
  STRATA_BENCH_SKIP_PROMETHEUS: "the compaction bench leaves the Prometheus server out",
  STRATA_SCALE_CACHE: "the scale bench: where its generated input blocks are kept between runs",
  STRATA_BENCH_STORE: "the scale bench: where blocks are read from (local disk; the shaped-S3 hook)",
  STRATA_SCALE_REPORT: "compact's linear-scaling test prints its figures",
  STRATA_CHROMIUM: "the browser test: the Chromium executable (default /usr/bin/chromium)",
};

/**
 * Variables read only by infra at deploy time (the bucket's protection and adoption, the
 * alarms' destination): never forwarded to the functions, and not unknown to `strata local`
 * when they are exported in the same shell.
 */
export const DEPLOY_ONLY_VARIABLES = {
  STRATA_REMOVE_BUCKET_ON_REMOVAL:
    "true: `sst remove` deletes the blocks bucket (and its data). Default false: the bucket is retained on every stage",
  STRATA_NONCURRENT_VERSION_DAYS:
    "days a deleted or overwritten object's previous version is kept before S3 expires it (default 7)",
  STRATA_EXISTING_BUCKET:
    "use this existing bucket instead of creating one; Strata then changes none of its configuration",
  STRATA_ALARM_EMAIL: "subscribe this address to a new SNS topic the alarms notify",
  STRATA_ALARM_TOPIC_ARN: "notify this existing SNS topic from the alarms (instead of STRATA_ALARM_EMAIL's)",
} as const;

/** Every problem with the environment's settings, one line each, each naming its variable. */
export class SettingsError extends PipelineError {
  override readonly name = "SettingsError";
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(problems.join("\n"), options);
    this.problems = problems;
  }
}

export interface ReadOptions {
  /** Settings text used where the environment sets nothing (the local runtime's shorter lease). */
  defaults?: Readonly<Partial<Record<SettingName, string>>>;
}

/**
 * The settings set in `env` (an empty value counts as unset), over `defaults`, parsed. Throws a
 * {@link SettingsError} listing every unknown `STRATA_*` variable and every malformed value.
 */
export function readSettings(env: Readonly<Record<string, string | undefined>>, opts: ReadOptions = {}): SettingValues {
  const problems: string[] = [];
  const input: Record<string, string> = {};
  for (const [name, text] of Object.entries(opts.defaults ?? {}))
    if (text !== undefined && text !== "") input[name] = text;
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith("STRATA_") || text === undefined || text === "") continue;
    if (name in SettingsSchema.shape) input[name] = text;
    else if (!(name in WIRING_VARIABLES) && !(name in DEPLOY_ONLY_VARIABLES)) problems.push(unknownVariable(name));
  }
  const r = SettingsSchema.safeParse(input);
  if (!r.success)
    for (const issue of r.error.issues)
      problems.push(issue.path.length ? `${String(issue.path[0])}: ${issue.message}` : issue.message);
  if (problems.length) throw new SettingsError(problems);
  return r.data!;
}

function unknownVariable(name: string): string {
  const near = [...SETTING_NAMES, ...Object.keys(WIRING_VARIABLES)].find((k) => editDistance(k, name) <= 2);
  return `${name}: not a Strata setting${near ? `; did you mean ${near}?` : ""} (the settings: strata local --help)`;
}

/** Levenshtein distance: enough to suggest the setting a typo meant. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

// --- the configuration ------------------------------------------------------------------

/** SQS's longest message delay: no retry delay may be longer. */
const MAX_SQS_DELAY_MS = 15 * 60_000;
/** Delayed re-sends of a job that cannot run yet: 30 s … 15 min, ~2.3 h in all. */
const RETRY_ATTEMPTS = 12;

function pipelineConfig(v: SettingValues): PipelineConfig {
  return {
    retention: {
      [RESOLUTION_RAW]: v.STRATA_RETENTION_RAW,
      [RESOLUTION_5M]: v.STRATA_RETENTION_5M,
      [RESOLUTION_1H]: v.STRATA_RETENTION_1H,
    },
    retentionRequiresDownsampled: v.STRATA_RETENTION_REQUIRE_DOWNSAMPLED,
    deleteDelayMs: v.STRATA_DELETE_DELAY,
    partialUploadAgeMs: v.STRATA_PARTIAL_UPLOAD_AGE,
    leaseTtlMs: v.STRATA_LEASE_TTL,
    retryDelay: {
      baseMs: v.STRATA_RETRY_DELAY,
      maxMs: Math.min(MAX_SQS_DELAY_MS, v.STRATA_RETRY_DELAY_MAX),
      attempts: RETRY_ATTEMPTS,
    },
    maxJobAttempts: v.STRATA_JOB_MAX_ATTEMPTS,
    queuedTtlMs: v.STRATA_QUEUED_TTL,
    stopMarginMs: v.STRATA_STOP_MARGIN,
    parquet: { enabled: v.STRATA_PARQUET, minRangeMs: v.STRATA_PARQUET_MIN_RANGE },
  };
}

function engineSettings(v: SettingValues): EngineSettings {
  const split =
    v.STRATA_SPLIT_SHARDS === undefined
      ? undefined
      : {
          shardCount: v.STRATA_SPLIT_SHARDS,
          minSeries: v.STRATA_SPLIT_MIN_SERIES,
          minIndexBytes: v.STRATA_SPLIT_MIN_INDEX_BYTES,
        };
  return {
    ranges: v.STRATA_COMPACTION_RANGES,
    replicaLabels: v.STRATA_REPLICA_LABELS,
    dedup: v.STRATA_DEDUP ?? defaultDedup(v.STRATA_REPLICA_LABELS),
    ...(split ? { split } : {}),
    ...(v.STRATA_DOWNSAMPLE_WORKERS !== undefined ? { downsampleWorkers: v.STRATA_DOWNSAMPLE_WORKERS } : {}),
    ...(v.STRATA_MAX_META_BYTES !== undefined ? { maxMetaBytes: v.STRATA_MAX_META_BYTES } : {}),
    ...(v.STRATA_PAGE_CACHE_BYTES !== undefined ? { pageCacheBytes: v.STRATA_PAGE_CACHE_BYTES } : {}),
  };
}

const NO_SETTINGS = readSettings({});

/** The job settings with no variable set. */
export const DEFAULT_CONFIG: PipelineConfig = pipelineConfig(NO_SETTINGS);

/** The engine settings with no variable set (no job budget: that needs the worker's walls). */
export const DEFAULT_ENGINE_SETTINGS: EngineSettings = engineSettings(NO_SETTINGS);

/** The job's memory: the function's, less what the runtime takes first. */
export const jobMemoryLimit = (limits: WorkerLimits): number => limits.memoryBytes - limits.runtimeReserveBytes;

/** Lambda's "MB" are MiB: 3008 MB is 3008 × 2^20 bytes. */
const lambdaMb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

/**
 * STRATA_JOB_BUDGET and STRATA_JOB_MEMORY within the worker's walls. Defaults: two thirds of
 * the timeout (a third to spare for a slow S3 or a noisy neighbour: 10 minutes of Lambda's
 * 15), and the function's memory minus the runtime.
 */
function jobBudget(
  v: SettingValues,
  text: (name: string) => string | undefined,
  limits: WorkerLimits,
): JobBudgetSettings {
  const problems: string[] = [];
  const seconds =
    v.STRATA_JOB_BUDGET === undefined ? Math.floor((limits.timeoutSeconds * 2) / 3) : v.STRATA_JOB_BUDGET / 1000;
  const memoryBytes = v.STRATA_JOB_MEMORY ?? jobMemoryLimit(limits);
  const budget = text("STRATA_JOB_BUDGET");
  const memory = text("STRATA_JOB_MEMORY");
  if (!(seconds > 0)) problems.push(`STRATA_JOB_BUDGET: must be positive, found ${JSON.stringify(budget)}`);
  if (seconds > limits.timeoutSeconds)
    problems.push(`STRATA_JOB_BUDGET: ${budget} is past the worker's ${limits.timeoutSeconds / 60}-minute timeout`);
  if (!(memoryBytes > 0)) problems.push(`STRATA_JOB_MEMORY: must be positive, found ${JSON.stringify(memory)}`);
  if (memoryBytes > limits.memoryBytes)
    problems.push(`STRATA_JOB_MEMORY: ${memory} is more than the worker's ${lambdaMb(limits.memoryBytes)}`);
  if (problems.length) throw new SettingsError(problems);
  return { seconds, memoryBytes, limitSeconds: limits.timeoutSeconds, limitMemoryBytes: jobMemoryLimit(limits) };
}

export interface ParseOptions extends ReadOptions {
  /** The walls of the function that runs the jobs (its runtime's sizing). */
  limits: WorkerLimits;
}

export interface ParsedSettings {
  config: PipelineConfig;
  engine: EngineSettings;
}

/**
 * The pipeline's configuration from `env`'s `STRATA_*` variables; unset ones keep their
 * defaults. Throws a `SettingsError` naming every unknown variable and every malformed or
 * out-of-bounds value with the form expected: the Lambda's cold start and `strata local`
 * fail before any job runs.
 */
export function parseSettings(env: Readonly<Record<string, string | undefined>>, opts: ParseOptions): ParsedSettings {
  const v = readSettings(env, opts);
  const text = (name: string) =>
    env[name] !== undefined && env[name] !== "" ? env[name] : opts.defaults?.[name as keyof typeof opts.defaults];
  return { config: pipelineConfig(v), engine: { ...engineSettings(v), jobBudget: jobBudget(v, text, opts.limits) } };
}
