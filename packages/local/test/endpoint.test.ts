// `endpoint`: the runtime set up on someone else's S3 + SQS (here a separately started
// built-in emulator, standing in for LocalStack) through the APIs only: bucket and queues
// created, the notification put with PutBucketNotificationConfiguration, and an upload
// verified and indexed from the events the endpoint sends for that configuration.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetBucketNotificationConfigurationCommand, S3Client } from "@aws-sdk/client-s3";
import { startS3Emulator, type S3Emulator } from "@strata/emulator";
import { UPLOAD_NOTIFICATION } from "@strata/lambda/deploy";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startLocalRuntime,
  uploadDemoBlocks,
  type LocalRuntime,
} from "../src/index.ts";

let emu: S3Emulator;
let rt: LocalRuntime;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  emu = await startS3Emulator();
  rt = await startLocalRuntime({
    endpoint: emu.endpoint,
    workers: 2,
    scheduleIntervalMs: 0,
    settings: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, leaseTtlMs: 1_500, maxReceiveCount: 2 },
    log: (l) => lines.push(JSON.parse(l)),
  });
});
afterAll(async () => {
  await rt?.stop();
  await emu?.stop();
});

describe("local runtime on an existing endpoint", () => {
  it("creates the bucket and queues there and puts the upload rule as the bucket's notification", async () => {
    expect(rt.endpoint).toBe(emu.endpoint);
    const s3 = new S3Client({
      endpoint: emu.endpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      forcePathStyle: true,
    });
    const conf = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: rt.bucket }));
    s3.destroy();
    expect(conf.QueueConfigurations).toEqual([
      {
        Id: UPLOAD_NOTIFICATION.name,
        QueueArn: expect.stringMatching(/:strata-jobs$/),
        Events: [...UPLOAD_NOTIFICATION.events],
        Filter: { Key: { FilterRules: [{ Name: "suffix", Value: UPLOAD_NOTIFICATION.filterSuffix }] } },
      },
    ]);
  });

  it("verifies and indexes an upload from the endpoint's own notifications", async () => {
    const metas = await uploadDemoBlocks(rt.s3, { tenant: "byo", blocks: 1, series: 10, now: Date.UTC(2026, 0, 2) });
    await rt.waitForIdle({ timeoutMs: 30_000, quietMs: 1_000 });
    expect(lines.some((l) => l.event === "s3-test-event-ignored" && l.bucket === rt.bucket)).toBe(true);
    expect(lines.filter((l) => l.event === "block-indexed").map((l) => l.block)).toEqual([metas[0]!.ulid]);
    expect(await rt.s3.head("byo/bucket-index.json.gz")).toBeDefined();
  });
});
