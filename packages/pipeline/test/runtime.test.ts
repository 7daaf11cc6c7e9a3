import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, configFromEnv, engineSettingsFromEnv, jsonLogger, runSchedule } from "@strata/pipeline";
import { harness, twoHourBlock } from "./fakes.ts";

describe("settings", () => {
  it("reads durations from the environment and keeps defaults for the rest", () => {
    const c = configFromEnv({ STRATA_RETENTION_RAW: "30d", STRATA_DELETE_DELAY: "12h", STRATA_LEASE_TTL: "" });
    expect(c.retention[0]).toBe(30 * 86_400_000);
    expect(c.retention[300_000]).toBe(0);
    expect(c.deleteDelayMs).toBe(12 * 3_600_000);
    expect(c.leaseTtlMs).toBe(DEFAULT_CONFIG.leaseTtlMs);
    expect(() => configFromEnv({ STRATA_DELETE_DELAY: "2 days" })).toThrow('STRATA_DELETE_DELAY: expected a duration like 0, 90s, 15m, 48h or 30d, found "2 days"');
    expect(() => configFromEnv({ STRATA_DELETE_DELAY: "15" })).toThrow("STRATA_DELETE_DELAY");
  });

  it("reads split-and-merge settings: off by default, thresholds only with a shard count", () => {
    expect(engineSettingsFromEnv({}).split).toBeUndefined();
    expect(engineSettingsFromEnv({ STRATA_SPLIT_SHARDS: "4" }).split).toEqual({ shardCount: 4, minSeries: undefined, minIndexBytes: undefined });
    expect(engineSettingsFromEnv({ STRATA_SPLIT_SHARDS: "8", STRATA_SPLIT_MIN_SERIES: "2000000", STRATA_SPLIT_MIN_INDEX_BYTES: "" }).split).toEqual({
      shardCount: 8,
      minSeries: 2_000_000,
      minIndexBytes: undefined,
    });
    expect(() => engineSettingsFromEnv({ STRATA_SPLIT_SHARDS: "0" })).toThrow('STRATA_SPLIT_SHARDS: expected a positive integer, found "0"');
    expect(() => engineSettingsFromEnv({ STRATA_SPLIT_SHARDS: "2.5" })).toThrow("STRATA_SPLIT_SHARDS");
    expect(() => engineSettingsFromEnv({ STRATA_SPLIT_MIN_SERIES: "10" })).toThrow("need STRATA_SPLIT_SHARDS");
  });

  it("reads the downsampling worker count: absent by default, 0 allowed, negatives refused", () => {
    expect(engineSettingsFromEnv({}).downsampleWorkers).toBeUndefined();
    expect(engineSettingsFromEnv({ STRATA_DOWNSAMPLE_WORKERS: "0" }).downsampleWorkers).toBe(0);
    expect(engineSettingsFromEnv({ STRATA_DOWNSAMPLE_WORKERS: "2" }).downsampleWorkers).toBe(2);
    expect(() => engineSettingsFromEnv({ STRATA_DOWNSAMPLE_WORKERS: "-1" })).toThrow('STRATA_DOWNSAMPLE_WORKERS: expected a non-negative integer, found "-1"');
  });

  it("reads the meta.json size cap: absent by default (1 MiB), positive", () => {
    expect(engineSettingsFromEnv({}).maxMetaBytes).toBeUndefined();
    expect(engineSettingsFromEnv({ STRATA_MAX_META_BYTES: "4194304" }).maxMetaBytes).toBe(4 << 20);
    expect(() => engineSettingsFromEnv({ STRATA_MAX_META_BYTES: "0" })).toThrow("STRATA_MAX_META_BYTES");
  });
});

describe("jsonLogger", () => {
  it("writes one JSON object per line with the bound fields", () => {
    const lines: string[] = [];
    const log = jsonLogger((l) => lines.push(l), { service: "strata" }, () => 0).child({ tenant: "t", jobId: "m-1" });
    log.info("job-done", { block: "B", bytes: 12n });
    log.error("job-failed", { error: "boom" });
    expect(lines.every((l) => !l.includes("\n"))).toBe(true);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: "1970-01-01T00:00:00.000Z", level: "info", event: "job-done", service: "strata", tenant: "t", jobId: "m-1", block: "B", bytes: "12" },
      { time: "1970-01-01T00:00:00.000Z", level: "error", event: "job-failed", service: "strata", tenant: "t", jobId: "m-1", error: "boom" },
    ]);
  });
});

describe("runSchedule", () => {
  it("enqueues retention, cleanup and index-sync for every tenant", async () => {
    const h = harness();
    h.bucket.upload("team a", twoHourBlock(0));
    h.bucket.upload("", twoHourBlock(1));
    expect(await runSchedule(h.deps)).toEqual({ tenants: 2, enqueued: 6 });
    expect(h.queue.sent.map((j) => `${j.type}:${j.tenant}`)).toEqual([
      "retention:",
      "cleanup:",
      "index-sync:",
      "retention:team a",
      "cleanup:team a",
      "index-sync:team a",
    ]);
  });
});
