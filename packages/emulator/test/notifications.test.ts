// The proxy's bucket notifications: the configuration as put is what Get answers and what
// decides which writes send S3's event, to which queue; a bad document is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  parseNotificationConfiguration,
  ruleMatches,
  startS3Emulator,
  type S3Emulator,
} from "../src/index.ts";

let emu: S3Emulator;
let s3: S3Client;
let sqs: SQSClient;
beforeAll(async () => {
  emu = await startS3Emulator({ buckets: ["notified"] });
  const base = { endpoint: emu.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  s3 = new S3Client({ ...base, forcePathStyle: true });
  sqs = new SQSClient({ ...base, useQueueUrlAsEndpoint: false });
});
afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  await emu?.stop();
});

async function drain(url: string): Promise<unknown[]> {
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return (r.Messages ?? []).map((m) => JSON.parse(m.Body ?? "null"));
}

describe("bucket notifications", () => {
  it("sends S3's events per the stored rules: queue, events, prefix and suffix", async () => {
    const made = await sqs.send(new CreateQueueCommand({ QueueName: "events" }));
    const url = made.QueueUrl!.replace(/^https?:\/\/[^/]+/, emu.endpoint);
    const arn = `arn:aws:sqs:${EMULATOR_REGION}:000000000000:events`;
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: "notified",
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: "metas",
              QueueArn: arn,
              Events: ["s3:ObjectCreated:*"],
              Filter: {
                Key: {
                  FilterRules: [
                    { Name: "prefix", Value: "t/" },
                    { Name: "suffix", Value: "meta.json" },
                  ],
                },
              },
            },
          ],
        },
      }),
    );
    expect(await drain(url)).toMatchObject([{ Event: "s3:TestEvent", Bucket: "notified" }]);
    for (const key of ["t/a/meta.json", "t/a/index", "u/a/meta.json"])
      await s3.send(new PutObjectCommand({ Bucket: "notified", Key: key, Body: "{}" }));
    await emu.proxy.notifications.settled();
    const events = (await drain(url)) as { Records: { s3: { configurationId: string; object: { key: string } } }[] }[];
    expect(events.map((e) => [e.Records[0]!.s3.configurationId, e.Records[0]!.s3.object.key])).toEqual([
      ["metas", "t/a/meta.json"],
    ]);
  });

  it("refuses a document it cannot honour, and a queue that does not exist", async () => {
    const put = (xml: string) => fetch(`${emu.endpoint}/notified?notification`, { method: "PUT", body: xml });
    const bad = await put("<NotificationConfiguration><TopicConfiguration/></NotificationConfiguration>");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("only QueueConfiguration");
    const missing = await put(
      "<NotificationConfiguration><QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:nope</Queue><Event>s3:ObjectCreated:*</Event></QueueConfiguration></NotificationConfiguration>",
    );
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain("nope");
    expect(await put("x".repeat(70 * 1024)).then((r) => r.status)).toBe(400);
  });

  it("matches events as S3 does", () => {
    const rules = parseNotificationConfiguration(
      "<NotificationConfiguration><QueueConfiguration><Id>a&amp;b</Id><Queue>arn:aws:sqs:r:1:q</Queue><Event>s3:ObjectCreated:Put</Event></QueueConfiguration></NotificationConfiguration>",
    );
    expect(rules).toEqual([{ id: "a&b", queueArn: "arn:aws:sqs:r:1:q", events: ["s3:ObjectCreated:Put"] }]);
    const [rule] = rules as Exclude<typeof rules, string>;
    expect(ruleMatches(rule!, "ObjectCreated:Put", "k")).toBe(true);
    expect(ruleMatches(rule!, "ObjectCreated:Copy", "k")).toBe(false);
  });
});
