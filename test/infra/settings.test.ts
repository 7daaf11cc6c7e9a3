import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { deploySettings } from "../../infra/settings.ts";
import { DEPLOY_ONLY_SETTINGS, FORWARDED_SETTINGS, WORKER_LIMITS } from "@strata/lambda/deploy";
import {
  PIPELINE_SETTINGS,
  SETTING_NAMES,
  WIRING_VARIABLES,
  parseSettings,
  settingMeta,
  SettingsSchema,
} from "@strata/pipeline";

const ROOT = resolve(import.meta.dirname, "../..");
/** Files that name unknown variables on purpose, to see them refused. */
const TYPOS_ON_PURPOSE = [
  "packages/pipeline/test/settings.test.ts",
  "packages/lambda/test/deploy.test.ts",
  "test/infra/settings.test.ts",
];

/** A value each setting accepts that differs from its default (so that forwarding it shows). */
const SAMPLES: Record<string, string> = {
  STRATA_COMPACTION_RANGES: "2h,1d",
  STRATA_REPLICA_LABELS: "replica",
  STRATA_DEDUP: "penalty",
  STRATA_SPLIT_SHARDS: "4",
  STRATA_SPLIT_MIN_SERIES: "1000",
  STRATA_SPLIT_MIN_INDEX_BYTES: "1000000",
  STRATA_DOWNSAMPLE_WORKERS: "0",
  STRATA_MAX_META_BYTES: "2097152",
  STRATA_JOB_BUDGET: "12m",
  STRATA_JOB_MEMORY: "2GiB",
  STRATA_PAGE_CACHE_BYTES: "1048576",
  STRATA_RETENTION_RAW: "30d",
  STRATA_RETENTION_5M: "90d",
  STRATA_RETENTION_1H: "1y",
  STRATA_RETENTION_REQUIRE_DOWNSAMPLED: "false",
  STRATA_DELETE_DELAY: "12h",
  STRATA_PARTIAL_UPLOAD_AGE: "1d",
  STRATA_LEASE_TTL: "17m",
  STRATA_RETRY_DELAY: "1m",
  STRATA_RETRY_DELAY_MAX: "10m",
  STRATA_JOB_MAX_ATTEMPTS: "5",
  STRATA_QUEUED_TTL: "3h",
  STRATA_STOP_MARGIN: "2m",
  STRATA_PARQUET: "true",
  STRATA_PARQUET_MIN_RANGE: "1d",
};

describe("deploy-time settings reach the functions", () => {
  it("forwards the pipeline's STRATA_* settings that are set, and nothing else", () => {
    const env = {
      STRATA_REPLICA_LABELS: "replica",
      STRATA_SPLIT_SHARDS: "4",
      STRATA_DELETE_DELAY: "",
      AWS_REGION: "eu-west-1",
      STRATA_BUCKET: "x",
    };
    expect(deploySettings(env)).toEqual({ STRATA_REPLICA_LABELS: "replica", STRATA_SPLIT_SHARDS: "4" });
    // what is forwarded is what the functions read
    expect(parseSettings(deploySettings(env), { limits: WORKER_LIMITS }).engine).toMatchObject({
      replicaLabels: ["replica"],
      dedup: "penalty",
      split: { shardCount: 4 },
    });
  });

  it("forwards every setting of the schema, each of which changes what the functions run with", () => {
    expect([...FORWARDED_SETTINGS]).toEqual(SETTING_NAMES);
    expect(Object.keys(SAMPLES).sort()).toEqual([...SETTING_NAMES].sort());
    const forwarded = deploySettings({ ...SAMPLES, STRATA_BUCKET: "b", STRATA_QUEUE_URL: "q", HOME: "/root" });
    expect(forwarded).toEqual(SAMPLES);
    const defaults = parseSettings({}, { limits: WORKER_LIMITS });
    for (const name of SETTING_NAMES) {
      // One setting at a time (the split thresholds need a shard count): each one is read.
      const env = {
        ...(name.startsWith("STRATA_SPLIT_MIN") ? { STRATA_SPLIT_SHARDS: "4" } : {}),
        [name]: SAMPLES[name]!,
      };
      const base = name.startsWith("STRATA_SPLIT_MIN")
        ? parseSettings({ STRATA_SPLIT_SHARDS: "4" }, { limits: WORKER_LIMITS })
        : defaults;
      expect(parseSettings(deploySettings(env), { limits: WORKER_LIMITS }), name).not.toEqual(base);
    }
  });

  it("documents every setting, with its help and default, for strata local --help", () => {
    expect(PIPELINE_SETTINGS.map((s) => s.name)).toEqual(SETTING_NAMES);
    for (const name of SETTING_NAMES) {
      const meta = settingMeta.get(SettingsSchema.shape[name])!;
      expect(meta.help, name).not.toBe("");
      expect(meta.default ?? meta.defaultHelp, name).toBeDefined();
    }
  });

  it("every STRATA_* variable the repository mentions is a setting or declared wiring", () => {
    const seen = new Map<string, string>();
    const constants = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(join(ROOT, dir))) {
        if (name === "node_modules" || name.startsWith(".") || name.includes(".bundle.")) continue;
        const rel = `${dir}/${name}`;
        if (TYPOS_ON_PURPOSE.includes(rel)) continue;
        if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
        else if (/\.(ts|js|sh)$/.test(name)) {
          const text = readFileSync(join(ROOT, rel), "utf8");
          // A TypeScript constant named STRATA_* (the CLI path helpers) is not a variable.
          for (const m of text.matchAll(/\bconst (STRATA_[A-Z0-9_]+)\b/g)) constants.add(m[1]!);
          for (const m of text.matchAll(/\bSTRATA_[A-Z0-9_]*[A-Z0-9]\b/g)) if (!seen.has(m[0])) seen.set(m[0], rel);
        }
      }
    };
    for (const dir of ["packages", "functions", "infra", "test", ".ci"]) walk(dir);
    const unknown = [...seen]
      .filter(
        ([n]) =>
          !SETTING_NAMES.includes(n as never) &&
          !(n in WIRING_VARIABLES) &&
          !(n in DEPLOY_ONLY_SETTINGS) &&
          !constants.has(n),
      )
      .map(([n, f]) => `${n} (${f})`);
    expect(unknown).toEqual([]);
    expect(seen.size).toBeGreaterThan(SETTING_NAMES.length);
  });
});
