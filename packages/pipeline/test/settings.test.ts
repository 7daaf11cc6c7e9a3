// The settings schema: every STRATA_* variable's parser, default and message; the job budget
// against the worker's walls; unknown variables; the dedup default.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CONFIG,
  DEFAULT_ENGINE_SETTINGS,
  PIPELINE_SETTINGS,
  SETTING_NAMES,
  SettingsError,
  WIRING_VARIABLES,
  DEPLOY_ONLY_VARIABLES,
  bindPipeline,
  defaultDedup,
  parseSettings,
  readSettings,
  tryParseBytes,
  type WorkerLimits,
} from "@strata/pipeline";
import { FsStore } from "@strata/bucket";

const MiB = 2 ** 20;
/** Lambda's walls as @strata/lambda sizes the worker (the pipeline is given them, never imports them). */
const LIMITS: WorkerLimits = { timeoutSeconds: 900, memoryBytes: 3008 * MiB, runtimeReserveBytes: 208 * MiB };
const parse = (env: Record<string, string | undefined>) => parseSettings(env, { limits: LIMITS });
const config = (env: Record<string, string | undefined>) => parse(env).config;
const engine = (env: Record<string, string | undefined>) => parse(env).engine;

describe("settings", () => {
  it("reads durations from the environment and keeps defaults for the rest", () => {
    const c = config({ STRATA_RETENTION_RAW: "30d", STRATA_DELETE_DELAY: "12h", STRATA_LEASE_TTL: "" });
    expect(c.retention[0]).toBe(30 * 86_400_000);
    expect(c.retention[300_000]).toBe(0);
    expect(c.deleteDelayMs).toBe(12 * 3_600_000);
    expect(c.leaseTtlMs).toBe(DEFAULT_CONFIG.leaseTtlMs);
    expect(config({ STRATA_QUEUED_TTL: "1h30m" }).queuedTtlMs).toBe(90 * 60_000);
    expect(() => config({ STRATA_DELETE_DELAY: "2 days" })).toThrow(
      'STRATA_DELETE_DELAY: expected a duration like 0, 90s, 15m, 48h or 30d, found "2 days"',
    );
    expect(() => config({ STRATA_DELETE_DELAY: "15" })).toThrow("STRATA_DELETE_DELAY");
  });

  it("keeps every default of the deployed functions", () => {
    expect(DEFAULT_CONFIG).toEqual({
      retention: { 0: 0, 300000: 0, 3600000: 0 },
      retentionRequiresDownsampled: true,
      deleteDelayMs: 48 * 3_600_000,
      partialUploadAgeMs: 2 * 86_400_000,
      leaseTtlMs: 16 * 60_000,
      retryDelay: { baseMs: 30_000, maxMs: 15 * 60_000, attempts: 12 },
      maxJobAttempts: 3,
      queuedTtlMs: 2 * 3_600_000,
      stopMarginMs: 60_000,
      parquet: { enabled: false, minRangeMs: 12 * 3_600_000 },
    });
    expect(DEFAULT_ENGINE_SETTINGS).toEqual({
      ranges: [3_600_000, 7_200_000, 28_800_000, 172_800_000, 1_209_600_000],
      replicaLabels: [],
      dedup: "1:1",
    });
    expect(parse({})).toEqual({
      config: DEFAULT_CONFIG,
      engine: {
        ...DEFAULT_ENGINE_SETTINGS,
        jobBudget: { seconds: 600, memoryBytes: 2800 * MiB, limitSeconds: 900, limitMemoryBytes: 2800 * MiB },
      },
    });
    // SQS delays a message at most 15 minutes.
    expect(config({ STRATA_RETRY_DELAY_MAX: "1h" }).retryDelay.maxMs).toBe(15 * 60_000);
  });

  it("reads split-and-merge settings: off by default, thresholds only with a shard count", () => {
    expect(engine({}).split).toBeUndefined();
    expect(engine({ STRATA_SPLIT_SHARDS: "4" }).split).toEqual({
      shardCount: 4,
      minSeries: undefined,
      minIndexBytes: undefined,
    });
    expect(
      engine({ STRATA_SPLIT_SHARDS: "8", STRATA_SPLIT_MIN_SERIES: "2000000", STRATA_SPLIT_MIN_INDEX_BYTES: "" }).split,
    ).toEqual({
      shardCount: 8,
      minSeries: 2_000_000,
      minIndexBytes: undefined,
    });
    expect(() => engine({ STRATA_SPLIT_SHARDS: "0" })).toThrow(
      'STRATA_SPLIT_SHARDS: expected a positive integer, found "0"',
    );
    expect(() => engine({ STRATA_SPLIT_SHARDS: "2.5" })).toThrow("STRATA_SPLIT_SHARDS");
    expect(() => engine({ STRATA_SPLIT_MIN_SERIES: "10" })).toThrow("need STRATA_SPLIT_SHARDS");
  });

  it("reads the downsampling worker count: absent by default, 0 allowed, negatives refused", () => {
    expect(engine({}).downsampleWorkers).toBeUndefined();
    expect(engine({ STRATA_DOWNSAMPLE_WORKERS: "0" }).downsampleWorkers).toBe(0);
    expect(engine({ STRATA_DOWNSAMPLE_WORKERS: "2" }).downsampleWorkers).toBe(2);
    expect(() => engine({ STRATA_DOWNSAMPLE_WORKERS: "-1" })).toThrow(
      'STRATA_DOWNSAMPLE_WORKERS: expected a non-negative integer, found "-1"',
    );
  });

  it("reads the meta.json size cap: absent by default (1 MiB), positive", () => {
    expect(engine({}).maxMetaBytes).toBeUndefined();
    expect(engine({ STRATA_MAX_META_BYTES: "4194304" }).maxMetaBytes).toBe(4 << 20);
    expect(() => engine({ STRATA_MAX_META_BYTES: "0" })).toThrow("STRATA_MAX_META_BYTES");
  });

  it("reads ranges, labels, the dedup mode and booleans", () => {
    expect(engine({ STRATA_COMPACTION_RANGES: "2h,1d" }).ranges).toEqual([7_200_000, 86_400_000]);
    expect(() => engine({ STRATA_COMPACTION_RANGES: "2h,x" })).toThrow(
      'STRATA_COMPACTION_RANGES: expected a duration like 0, 90s, 15m, 48h or 30d, found "x"',
    );
    expect(engine({ STRATA_REPLICA_LABELS: " replica, ,prometheus_replica" }).replicaLabels).toEqual([
      "replica",
      "prometheus_replica",
    ]);
    expect(() => engine({ STRATA_DEDUP: "2:1" })).toThrow('STRATA_DEDUP: expected 1:1 or penalty, found "2:1"');
    expect(config({ STRATA_RETENTION_REQUIRE_DOWNSAMPLED: "false" }).retentionRequiresDownsampled).toBe(false);
    expect(config({ STRATA_RETENTION_REQUIRE_DOWNSAMPLED: "0" }).retentionRequiresDownsampled).toBe(false);
    expect(() => config({ STRATA_RETENTION_REQUIRE_DOWNSAMPLED: "no" })).toThrow(
      'STRATA_RETENTION_REQUIRE_DOWNSAMPLED: expected true or false, found "no"',
    );
    expect(() => config({ STRATA_JOB_MAX_ATTEMPTS: "0" })).toThrow(
      'STRATA_JOB_MAX_ATTEMPTS: expected a positive integer, found "0"',
    );
  });
});

describe("STRATA_JOB_BUDGET and STRATA_JOB_MEMORY", () => {
  it("default to two thirds of the worker's timeout and the function's memory minus the runtime", () => {
    expect(engine({}).jobBudget).toEqual({
      seconds: 600,
      memoryBytes: 2800 * MiB,
      limitSeconds: 900,
      limitMemoryBytes: 2800 * MiB,
    });
    expect(
      parseSettings({}, { limits: { timeoutSeconds: 300, memoryBytes: 1024 * MiB, runtimeReserveBytes: 24 * MiB } })
        .engine.jobBudget,
    ).toEqual({
      seconds: 200,
      memoryBytes: 1000 * MiB,
      limitSeconds: 300,
      limitMemoryBytes: 1000 * MiB,
    });
  });

  it("parse a duration and bytes, and refuse what no worker could honour", () => {
    expect(engine({ STRATA_JOB_BUDGET: "12m", STRATA_JOB_MEMORY: "2GiB" }).jobBudget).toMatchObject({
      seconds: 720,
      memoryBytes: 2 * 2 ** 30,
    });
    expect(tryParseBytes("2800MiB")).toBe(2800 * MiB);
    expect(tryParseBytes("3GB")).toBe(3e9);
    expect(tryParseBytes("123456")).toBe(123456);
    expect(tryParseBytes("2.5GiB")).toBe(2.5 * 2 ** 30);
    expect(tryParseBytes("2.5")).toBeUndefined();
    expect(() => engine({ STRATA_JOB_BUDGET: "20m" })).toThrow(
      "STRATA_JOB_BUDGET: 20m is past the worker's 15-minute timeout",
    );
    expect(() => engine({ STRATA_JOB_BUDGET: "0" })).toThrow("STRATA_JOB_BUDGET: must be positive");
    expect(() => engine({ STRATA_JOB_BUDGET: "ten" })).toThrow("STRATA_JOB_BUDGET: expected a duration");
    expect(() => engine({ STRATA_JOB_MEMORY: "4GiB" })).toThrow(
      "STRATA_JOB_MEMORY: 4GiB is more than the worker's 3008 MB",
    );
    expect(() => engine({ STRATA_JOB_MEMORY: "lots" })).toThrow("STRATA_JOB_MEMORY: expected bytes");
  });
});

describe("the environment", () => {
  it("refuses an unknown STRATA_* variable by name, suggesting the setting it resembles", () => {
    expect(() => parse({ STRATA_RETENTON_RAW: "30d" })).toThrow(
      "STRATA_RETENTON_RAW: not a Strata setting; did you mean STRATA_RETENTION_RAW?",
    );
    expect(() => parse({ STRATA_WHATEVER: "1" })).toThrow(
      /^STRATA_WHATEVER: not a Strata setting \(the settings: strata local --help\)$/,
    );
    // Empty counts as unset; other prefixes and the wiring variables are not settings' business.
    expect(() => parse({ STRATA_WHATEVER: "", PATH: "/bin", AWS_REGION: "x" })).not.toThrow();
    expect(() => parse(Object.fromEntries(Object.keys(WIRING_VARIABLES).map((k) => [k, "x"])))).not.toThrow();
    // Deploy-only variables (read by infra) exported in the same shell as `strata local`.
    expect(() => parse(Object.fromEntries(Object.keys(DEPLOY_ONLY_VARIABLES).map((k) => [k, "x"])))).not.toThrow();
  });

  it("reports every problem at once, one line each", () => {
    let err: unknown;
    try {
      parse({ STRATA_DELETE_DELAY: "soon", STRATA_SPLIT_SHARDS: "-1", STRATA_NOPE: "1" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as SettingsError).problems).toEqual([
      "STRATA_NOPE: not a Strata setting (the settings: strata local --help)",
      'STRATA_SPLIT_SHARDS: expected a positive integer, found "-1"',
      'STRATA_DELETE_DELAY: expected a duration like 0, 90s, 15m, 48h or 30d, found "soon"',
    ]);
  });

  it("takes defaults as settings text where the environment sets nothing", () => {
    expect(parseSettings({}, { limits: LIMITS, defaults: { STRATA_LEASE_TTL: "4m" } }).config.leaseTtlMs).toBe(240_000);
    expect(
      parseSettings({ STRATA_LEASE_TTL: "3m" }, { limits: LIMITS, defaults: { STRATA_LEASE_TTL: "4m" } }).config
        .leaseTtlMs,
    ).toBe(180_000);
    expect(
      parseSettings({ STRATA_LEASE_TTL: "" }, { limits: LIMITS, defaults: { STRATA_LEASE_TTL: "4m" } }).config
        .leaseTtlMs,
    ).toBe(240_000);
  });

  it("documents every setting with its default, and declares no name twice", () => {
    expect(PIPELINE_SETTINGS.map((s) => s.name)).toEqual(SETTING_NAMES);
    for (const s of PIPELINE_SETTINGS) expect(s.help, s.name).toMatch(/ \(default [^)]+\)$/);
    expect(PIPELINE_SETTINGS.find((s) => s.name === "STRATA_DELETE_DELAY")!.help).toContain("(default 48h)");
    expect(SETTING_NAMES.filter((n) => n in WIRING_VARIABLES)).toEqual([]);
    expect(readSettings({})).toMatchObject({ STRATA_LEASE_TTL: 960_000, STRATA_REPLICA_LABELS: [] });
  });
});

describe("the dedup default", () => {
  it("is penalty once replica labels are set, else 1:1, wherever settings are assembled", () => {
    expect(defaultDedup([])).toBe("1:1");
    expect(defaultDedup(["replica"])).toBe("penalty");
    expect(engine({ STRATA_REPLICA_LABELS: "replica" }).dedup).toBe("penalty");
    expect(engine({ STRATA_REPLICA_LABELS: "replica", STRATA_DEDUP: "1:1" }).dedup).toBe("1:1");
    const log = { info() {}, warn() {}, error() {}, child: () => log };
    const bound = (e: Parameters<typeof bindPipeline>[0]["engine"]) =>
      (
        bindPipeline({ store: new FsStore("/nonexistent"), queue: { send: async () => {} }, log, engine: e })
          .engines as unknown as { settings: { dedup: string } }
      ).settings.dedup;
    expect(bound({ replicaLabels: ["replica"] })).toBe("penalty");
    expect(bound({ replicaLabels: ["replica"], dedup: "1:1" })).toBe("1:1");
    expect(bound({})).toBe("1:1");
  });
});
