// The deployed scheduled handler on an adopted bucket (the environment infra/schedules.ts sets:
// STRATA_MANAGE_NOTIFICATION=merge, STRATA_QUEUE_ARN), against the built-in emulator: its run
// merges the upload rule beside the bucket's other rule, then enqueues as usual.
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import { scheduledHandler } from "../src/index.ts";

const BUCKET = "adopted-metrics";
let emu: S3Emulator;
let s3: S3Client;
let sqs: SQSClient;
const saved = { ...process.env };

async function createQueue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = QueueUrl!.replace(/^https?:\/\/[^/]+/, emu.endpoint);
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return { url, arn: r.Attributes!.QueueArn! };
}

beforeAll(async () => {
  emu = await startS3Emulator({ buckets: [BUCKET] });
  const client = { endpoint: emu.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  s3 = new S3Client({ ...client, forcePathStyle: true });
  sqs = new SQSClient({ ...client, useQueueUrlAsEndpoint: false });
});
afterAll(async () => {
  process.env = saved;
  s3?.destroy();
  sqs?.destroy();
  await emu?.stop();
});

it("the scheduled handler merges the upload rule into an adopted bucket, then runs the schedule", async () => {
  const jobs = await createQueue("strata-jobs");
  const audit = await createQueue("audit");
  const foreign = { Id: "audit", QueueArn: audit.arn, Events: ["s3:ObjectRemoved:*" as const] };
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: BUCKET,
      NotificationConfiguration: { QueueConfigurations: [foreign] },
    }),
  );
  Object.assign(process.env, emu.env(), {
    AWS_ENDPOINT_URL_SQS: emu.endpoint,
    STRATA_BUCKET: BUCKET,
    STRATA_QUEUE_URL: jobs.url,
    STRATA_MANAGE_NOTIFICATION: "merge",
    STRATA_QUEUE_ARN: jobs.arn,
  });
  const outcome = await scheduledHandler({}, { functionName: "strata-scheduled" } as Context);
  // The schedule's one message: the first page of its fan-out over the tenants.
  expect(outcome).toEqual({ enqueued: 1, run: expect.stringMatching(/^schedule-/) });
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }));
  expect(got.QueueConfigurations?.map((q) => [q.Id, q.QueueArn])).toEqual([
    ["audit", audit.arn],
    ["BlockUploaded", jobs.arn],
  ]);
});
