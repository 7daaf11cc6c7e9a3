// The local runtime end to end, small: notifications from the proxy's writes (exact keys,
// only meta.json), the worker settling a demo tenant, dead letters. `strata status` and `strata replay`
// against a running runtime are the CLI's tests (packages/cli/test/local-runtime.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  queueDepth,
  startLocalRuntime,
  uploadDemoBlocks,
  type LocalRuntime,
} from "../src/index.ts";

let rt: LocalRuntime;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    workers: 2,
    scheduleIntervalMs: 0,
    settings: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, leaseTtlMs: 1_500, maxReceiveCount: 2 },
    log: (l) => lines.push(JSON.parse(l)),
  });
});
afterAll(async () => {
  await rt?.stop();
});

describe("local runtime", () => {
  it("acknowledges its start-up TestEvent and notifies meta.json writes only, with the key S3 would send", async () => {
    await rt.s3.put("team a/x+y/meta.json", "{}");
    await rt.s3.put("team a/x+y/index", "x");
    await rt.waitForIdle({ timeoutMs: 20_000 });
    expect(lines.some((l) => l.event === "s3-test-event-ignored" && l.bucket === rt.bucket)).toBe(true);
    const notified = lines.filter((l) => l.event === "s3-notification").map((l) => l.key);
    expect(notified).toEqual(["team a/x+y/meta.json"]);
    expect(lines.find((l) => l.event === "s3-record-ignored")).toMatchObject({
      key: "team a/x+y/meta.json",
      eventName: "ObjectCreated:Put",
      bucket: "strata-blocks",
    });
    await rt.s3.delete("team a/x+y/meta.json");
    await rt.s3.delete("team a/x+y/index");
  });

  it("verifies, compacts and marks a demo tenant's uploads", async () => {
    const metas = await uploadDemoBlocks(rt.s3, { tenant: "demo", series: 30, now: Date.UTC(2026, 0, 2) });
    await rt.waitForIdle({ timeoutMs: 30_000 });
    const events = lines.map((l) => l.event);
    expect(events.filter((e) => e === "block-indexed").length).toBe(6); // five uploads, one output
    expect(lines.find((l) => l.event === "compacted")!.output).toMatch(/^[0-9A-Z]{26}$/);
    expect(new Set(lines.filter((l) => l.event === "marked-for-deletion").map((l) => l.block))).toEqual(
      new Set(metas.slice(0, 4).map((m) => m.ulid)),
    );
  });

  it("dead-letters a malformed message after maxReceiveCount receives", async () => {
    // A malformed message fails twice (maxReceiveCount 2) and is dead-lettered.
    const sqs = new SQSClient({
      endpoint: rt.endpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      useQueueUrlAsEndpoint: false,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: rt.queueUrl, MessageBody: '{"hello":"world"}' }));
    await rt.waitForIdle({ timeoutMs: 20_000 });
    expect(await queueDepth(sqs, rt.dlqUrl)).toBe(1);
    expect(lines.filter((l) => l.event === "message-invalid")).toHaveLength(2);
    sqs.destroy();
  });
});
