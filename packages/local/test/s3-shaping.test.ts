// The local runtime's shaped S3 (`strata local --s3-latency --s3-bandwidth`, STRATA_S3_*):
// parsed from flags or variables, and applied to the runtime's own bucket over the wire.
import { describe, expect, it } from "vitest";
import { SQSClient } from "@aws-sdk/client-sqs";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, localS3Shaping, queueDepth, startLocalRuntime } from "../src/index.ts";

describe("localS3Shaping", () => {
  it("reads flags over variables; rates in MB/s (10^6), MiB/s or bytes per second", () => {
    expect(localS3Shaping({}, {})).toBeUndefined();
    expect(localS3Shaping({ latency: "20ms", bandwidth: "90MB/s" }, {})).toEqual({
      latencyMs: 20,
      bandwidthBytesPerSecond: 90e6,
    });
    expect(localS3Shaping({}, { STRATA_S3_LATENCY: "25ms", STRATA_S3_BANDWIDTH: "100MiB/s" })).toEqual({
      latencyMs: 25,
      bandwidthBytesPerSecond: 100 * 2 ** 20,
    });
    expect(localS3Shaping({ latency: "30ms" }, { STRATA_S3_LATENCY: "5ms" })).toEqual({ latencyMs: 30 });
    expect(localS3Shaping({}, { STRATA_S3_BANDWIDTH: "90000000" })).toEqual({ bandwidthBytesPerSecond: 90e6 });
  });

  it("names the flag or the variable of a malformed value", () => {
    expect(() => localS3Shaping({ latency: "20" }, {})).toThrow(/^--s3-latency: expected a duration/);
    expect(() => localS3Shaping({}, { STRATA_S3_BANDWIDTH: "0MB/s" })).toThrow(/^STRATA_S3_BANDWIDTH: expected a rate/);
    expect(() => localS3Shaping({ bandwidth: "fast" }, {})).toThrow(/^--s3-bandwidth: expected a rate/);
  });
});

describe("the local runtime with a shaped S3", () => {
  it("answers its bucket's requests no sooner than the latency, and its queues at once", async () => {
    const rt = await startLocalRuntime({
      port: 0,
      scheduleIntervalMs: 0,
      s3Shaping: { latencyMs: 200, bandwidthBytesPerSecond: 20e6 },
      log: () => {},
    });
    try {
      const body = new Uint8Array(1 << 20);
      let t0 = performance.now();
      await rt.s3.put("probe", body);
      const got = await rt.s3.get("probe", { offset: 0, length: body.length });
      // A PUT and a GET, each one latency plus 1 MiB at 20 MB/s (52 ms).
      expect(got?.body.length).toBe(body.length);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * (200 + 52) - 5);
      const sqs = new SQSClient({ endpoint: rt.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
      try {
        await queueDepth(sqs, rt.queueUrl); // a connection made first
        t0 = performance.now();
        expect(await queueDepth(sqs, rt.queueUrl)).toBe(0);
        expect(performance.now() - t0).toBeLessThan(150);
      } finally {
        sqs.destroy();
      }
    } finally {
      await rt.stop();
    }
    await expect(startLocalRuntime({ endpoint: "http://127.0.0.1:1", s3Shaping: { latencyMs: 1 } })).rejects.toThrow(
      /s3Shaping needs the built-in emulator/,
    );
  });
});
