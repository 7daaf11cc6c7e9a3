// The Lambda-like poller over real fauxqs: batches, partial failures, a throwing handler,
// redrive to the DLQ after maxReceiveCount; and the S3 notification JSON.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { parseQueueBody } from "@strata/pipeline";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  SqsEventSourcePoller,
  encodeS3EventKey,
  queueDepth,
  s3EventBody,
  s3TestEventBody,
  shouldNotify,
  startS3Emulator,
  type S3Emulator,
  type SqsBatchHandler,
} from "../src/index.ts";

let emu: S3Emulator;
let sqs: SQSClient;
beforeAll(async () => {
  emu = await startS3Emulator();
  sqs = new SQSClient({
    endpoint: emu.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
});
afterAll(async () => {
  sqs?.destroy();
  await emu?.stop();
});

let n = 0;
async function queues(maxReceiveCount: number) {
  const name = `q${++n}`;
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  const url = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: "1",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }),
        },
      }),
    )
  ).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  return { url, arn, dlq };
}

async function until(cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function poller(q: { url: string; arn: string }, handler: SqsBatchHandler, batchSize = 10) {
  return new SqsEventSourcePoller({
    sqs,
    queueUrl: q.url,
    queueArn: q.arn,
    region: EMULATOR_REGION,
    handler,
    batchSize,
    waitTimeSeconds: 1,
    concurrency: 1,
  });
}

describe("SqsEventSourcePoller", () => {
  it("delivers real-format batches and redelivers only the failed ids of a partial failure", async () => {
    const q = await queues(5);
    for (const b of ["ok-1", "fail", "ok-2"])
      await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: b }));
    const seen: { body: string; count: string }[] = [];
    const events: SQSEvent[] = [];
    const p = poller(q, async (event) => {
      events.push(event);
      for (const r of event.Records) seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
      const failed = event.Records.filter((r) => r.body === "fail" && r.attributes.ApproximateReceiveCount === "1");
      return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    p.start();
    await until(() => seen.some((s) => s.body === "fail" && s.count === "2"));
    await until(async () => (await queueDepth(sqs, q.url)) === 0 && p.busy === 0);
    await p.stop();
    expect(seen.filter((s) => s.body !== "fail").map((s) => s.count)).toEqual(["1", "1"]);
    expect(seen.filter((s) => s.body === "fail").map((s) => s.count)).toEqual(["1", "2"]);
    const r = events[0]!.Records[0]!;
    expect(r).toMatchObject({
      eventSource: "aws:sqs",
      eventSourceARN: q.arn,
      awsRegion: "us-east-1",
      messageAttributes: {},
    });
    expect(r.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(r.attributes.SentTimestamp)).toBeGreaterThan(0);
  });

  it("redelivers the whole batch when the handler throws, and dead-letters after maxReceiveCount", async () => {
    const q = await queues(2);
    for (const b of ["a", "b"]) await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: b }));
    const counts: string[] = [];
    const p = poller(q, async (event) => {
      for (const r of event.Records) counts.push(`${r.body}:${r.attributes.ApproximateReceiveCount}`);
      throw new Error("handler crashed");
    });
    p.start();
    await until(async () => {
      const r = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: q.dlq, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      return Number(r.Attributes!.ApproximateNumberOfMessages) === 2;
    });
    await p.stop();
    expect(counts.sort()).toEqual(["a:1", "a:2", "b:1", "b:2"]);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlq, MaxNumberOfMessages: 10 }));
    expect(dead.Messages!.map((m) => m.Body).sort()).toEqual(["a", "b"]);
  });

  it("fails the whole batch when a batchItemFailures id is not in the batch (as Lambda does)", async () => {
    const q = await queues(5);
    await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: "x" }));
    const counts: string[] = [];
    const p = poller(q, async (event) => {
      counts.push(event.Records[0]!.attributes.ApproximateReceiveCount);
      return { batchItemFailures: counts.length === 1 ? [{ itemIdentifier: "" }] : [] };
    });
    p.start();
    await until(() => counts.length === 2);
    await until(async () => (await queueDepth(sqs, q.url)) === 0);
    await p.stop();
    expect(counts).toEqual(["1", "2"]);
  });
});

describe("S3 notifications", () => {
  it("writes S3's event JSON: form-encoded key, unquoted eTag, sequencer, the rule's configuration id", () => {
    const body = JSON.parse(
      s3EventBody({
        bucket: "strata-blocks",
        key: "team a/x+y (1)/meta.json",
        eventName: "ObjectCreated:Put",
        size: 42,
        etag: '"0123456789abcdef0123456789abcdef"',
        region: "us-east-1",
        time: new Date(0),
      }),
    );
    expect(body.Records).toHaveLength(1);
    const r = body.Records[0];
    expect(r).toMatchObject({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "1970-01-01T00:00:00.000Z",
      eventName: "ObjectCreated:Put",
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "BlockUploaded",
        bucket: { name: "strata-blocks", arn: "arn:aws:s3:::strata-blocks" },
        object: { key: "team+a/x%2By+%281%29/meta.json", size: 42, eTag: "0123456789abcdef0123456789abcdef" },
      },
    });
    expect(r.s3.object.sequencer).toMatch(/^[0-9A-F]{18}$/);
    expect(Object.keys(r)).toEqual([
      "eventVersion",
      "eventSource",
      "awsRegion",
      "eventTime",
      "eventName",
      "userIdentity",
      "requestParameters",
      "responseElements",
      "s3",
    ]);
    // The worker's parser decodes it back (and ignores it: not a ULID directory).
    const parsed = parseQueueBody(JSON.stringify(body));
    expect(parsed).toMatchObject({ kind: "s3", records: [], ignored: [{ key: "team a/x+y (1)/meta.json" }] });
    expect(encodeS3EventKey("a-b_c.d*e/é")).toBe("a-b_c.d*e/%C3%A9");
    expect(parseQueueBody(s3TestEventBody("strata-blocks"))).toEqual({ kind: "test-event", bucket: "strata-blocks" });
  });

  it("notifies for ObjectCreated events on meta.json keys only (the infra rule)", () => {
    expect(shouldNotify("ObjectCreated:Put", "t/01J/meta.json")).toBe(true);
    expect(shouldNotify("ObjectCreated:CompleteMultipartUpload", "01J/meta.json")).toBe(true);
    expect(shouldNotify("ObjectCreated:Put", "t/01J/index")).toBe(false);
    expect(shouldNotify("ObjectRemoved:Delete", "t/01J/meta.json")).toBe(false);
  });
});
