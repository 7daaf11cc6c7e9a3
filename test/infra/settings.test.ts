import { describe, expect, it } from "vitest";
import { deploySettings } from "../../infra/settings.ts";
import { PIPELINE_SETTINGS, configFromEnv, engineSettingsFromEnv } from "@strata/pipeline";

describe("deploy-time settings reach the functions", () => {
  it("forwards the pipeline's STRATA_* settings that are set, and nothing else", () => {
    const env = { STRATA_REPLICA_LABELS: "replica", STRATA_SPLIT_SHARDS: "4", STRATA_DELETE_DELAY: "", AWS_REGION: "eu-west-1", STRATA_BUCKET: "x" };
    expect(deploySettings(env)).toEqual({ STRATA_REPLICA_LABELS: "replica", STRATA_SPLIT_SHARDS: "4" });
    // what is forwarded is what the functions read
    expect(engineSettingsFromEnv(deploySettings(env))).toMatchObject({ replicaLabels: ["replica"], dedup: "penalty", split: { shardCount: 4 } });
    expect(configFromEnv(deploySettings({ STRATA_RETENTION_RAW: "30d" })).retention[0]).toBe(30 * 86_400_000);
    expect(engineSettingsFromEnv(deploySettings({ STRATA_DOWNSAMPLE_WORKERS: "0" })).downsampleWorkers).toBe(0);
  });

  it("the catalogue lists exactly what the pipeline's parsers read, and infra forwards every one of them", () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_t, k) => {
        if (typeof k === "string") read.add(k);
        return undefined;
      },
    });
    configFromEnv(env);
    engineSettingsFromEnv(env);
    const names = PIPELINE_SETTINGS.map((s) => s.name).sort();
    expect([...read].filter((k) => k.startsWith("STRATA_")).sort()).toEqual(names);
    const all = Object.fromEntries(names.map((n) => [n, "x"]));
    expect(Object.keys(deploySettings({ ...all, STRATA_BUCKET: "b" })).sort()).toEqual(names);
  });
});
