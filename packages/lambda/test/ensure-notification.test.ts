// The run-time merge of Strata's upload rule into an adopted bucket's notification configuration,
// against the built-in emulator over the wire (S3 + SQS). The emulator accepts queue
// destinations only (it refuses TopicConfiguration on put), so "kept verbatim" is shown with
// foreign queue rules here and with a topic in the pure plan/merge cases below.
import {
  type Event,
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  type QueueConfiguration,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import type { LogFields, Logger } from "@strata/pipeline";
import { ensureUploadNotification, notificationManagement, planUploadNotification } from "../src/index.ts";
import { mergeNotificationConfiguration } from "../src/deploy.ts";

const BUCKET = "adopted-metrics";
let emu: S3Emulator;
let s3: S3Client;
let sqs: SQSClient;
let jobsArn: string;
let auditArn: string;
let archiveArn: string;

async function queueArn(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const url = QueueUrl!.replace(/^https?:\/\/[^/]+/, emu.endpoint);
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return r.Attributes!.QueueArn!;
}

beforeAll(async () => {
  emu = await startS3Emulator({ buckets: [BUCKET] });
  const client = { endpoint: emu.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  s3 = new S3Client({ ...client, forcePathStyle: true });
  sqs = new SQSClient({ ...client, useQueueUrlAsEndpoint: false });
  jobsArn = await queueArn("strata-jobs");
  auditArn = await queueArn("audit");
  archiveArn = await queueArn("archive");
});
afterAll(async () => {
  s3?.destroy();
  sqs?.destroy();
  await emu?.stop();
});

/** Another consumer's rules: deletions to an audit queue, and .gz uploads under logs/ to an archive queue. */
function foreignRules(): QueueConfiguration[] {
  return [
    { Id: "audit", QueueArn: auditArn, Events: ["s3:ObjectRemoved:*"] },
    {
      Id: "archive",
      QueueArn: archiveArn,
      Events: ["s3:ObjectCreated:Put"],
      Filter: {
        Key: {
          FilterRules: [
            { Name: "prefix", Value: "logs/" },
            { Name: "suffix", Value: ".gz" },
          ],
        },
      },
    },
  ];
}

async function put(config: NotificationConfiguration): Promise<void> {
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: BUCKET, NotificationConfiguration: config }));
}

async function get(): Promise<QueueConfiguration[]> {
  return (await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: BUCKET }))).QueueConfigurations ?? [];
}

function collectingLogger(lines: { level: string; event: string; fields?: LogFields }[]): Logger {
  const at = (level: string) => (event: string, fields?: LogFields) => void lines.push({ level, event, fields });
  return { info: at("info"), warn: at("warn"), error: at("error"), child: () => collectingLogger(lines) };
}

const ensure = (log?: Logger) => ensureUploadNotification({ s3Client: s3, bucket: BUCKET, queueArn: jobsArn, log });

describe("ensureUploadNotification (emulator)", () => {
  beforeEach(async () => {
    await put({});
  });

  it("an empty configuration: writes Strata's rule, then leaves it alone", async () => {
    const lines: { level: string; event: string; fields?: LogFields }[] = [];
    expect(await ensure(collectingLogger(lines))).toEqual({ outcome: "written", replaced: false });
    const rules = await get();
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ Id: "BlockUploaded", QueueArn: jobsArn, Events: ["s3:ObjectCreated:*"] });
    expect(rules[0]!.Filter?.Key?.FilterRules).toEqual([{ Name: "suffix", Value: "meta.json" }]);
    expect(await ensure(collectingLogger(lines))).toEqual({ outcome: "unchanged" });
    expect(lines.map((l) => l.event)).toEqual(["upload-notification-written", "upload-notification-unchanged"]);
  });

  it("other consumers' rules are kept verbatim and ours is added; a second run changes nothing", async () => {
    await put({ QueueConfigurations: foreignRules() });
    const before = await get();
    expect(await ensure()).toEqual({ outcome: "written", replaced: false });
    const after = await get();
    expect(after.filter((r) => r.Id !== "BlockUploaded")).toEqual(before);
    expect(after.map((r) => r.Id)).toEqual(["audit", "archive", "BlockUploaded"]);
    expect(await ensure()).toEqual({ outcome: "unchanged" });
    expect(await get()).toEqual(after);
  });

  it("restores the rule after another tool overwrote the configuration, and replaces a stale version", async () => {
    expect((await ensure()).outcome).toBe("written");
    await put({ QueueConfigurations: foreignRules().slice(0, 1) }); // someone put theirs only
    expect(await ensure()).toEqual({ outcome: "written", replaced: false });
    expect((await get()).map((r) => r.Id)).toEqual(["audit", "BlockUploaded"]);
    // An older rule of ours (another suffix): replaced in place, not duplicated.
    await put({
      QueueConfigurations: [
        { Id: "BlockUploaded", QueueArn: jobsArn, Events: ["s3:ObjectCreated:Put"] },
        ...foreignRules().slice(0, 1),
      ],
    });
    expect(await ensure()).toEqual({ outcome: "written", replaced: true });
    const rules = await get();
    expect(rules.map((r) => r.Id)).toEqual(["audit", "BlockUploaded"]);
    expect(rules[1]).toMatchObject({ Events: ["s3:ObjectCreated:*"] });
  });

  it("an overlapping foreign rule: refused with the reason and the manual steps, nothing written", async () => {
    const clash: QueueConfiguration = {
      Id: "indexer",
      QueueArn: archiveArn,
      Events: ["s3:ObjectCreated:Put"],
      Filter: { Key: { FilterRules: [{ Name: "suffix", Value: ".json" }] } },
    };
    await put({ QueueConfigurations: [...foreignRules().slice(0, 1), clash] });
    const before = await get();
    const lines: { level: string; event: string; fields?: LogFields }[] = [];
    const r = await ensure(collectingLogger(lines));
    expect(r.outcome).toBe("refused");
    expect(r.outcome === "refused" && r.reason).toMatch(/QueueConfiguration indexer .* overlaps Strata's rule/);
    expect(await get()).toEqual(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn", event: "upload-notification-refused" });
    expect(String(lines[0]!.fields?.manualSteps)).toContain(`put-bucket-notification-configuration --bucket ${BUCKET}`);
  });

  it("our Id on another queue (another deployment): refused, not taken over", async () => {
    await put({
      QueueConfigurations: [
        {
          Id: "BlockUploaded",
          QueueArn: archiveArn,
          Events: ["s3:ObjectCreated:*"],
          Filter: { Key: { FilterRules: [{ Name: "suffix", Value: "meta.json" }] } },
        },
      ],
    });
    const r = await ensure();
    expect(r.outcome === "refused" && r.reason).toMatch(/already sends to .*archive/);
    expect((await get())[0]?.QueueArn).toBe(archiveArn);
  });

  it("an S3 error (a destination S3 cannot validate) is an outcome, not a throw", async () => {
    const gone = jobsArn.replace(/strata-jobs$/, "deleted-queue");
    const r = await ensureUploadNotification({ s3Client: s3, bucket: BUCKET, queueArn: gone });
    expect(r.outcome === "failed" && r.reason).toMatch(/^PutBucketNotificationConfiguration: .*deleted-queue/);
    expect(await get()).toEqual([]);
  });
});

describe("planUploadNotification and the merge (topics, which the emulator does not store)", () => {
  const QUEUE = "arn:aws:sqs:eu-west-1:123456789012:strata-jobs";
  const topic = (events: string[], suffix?: string): NotificationConfiguration => ({
    TopicConfigurations: [
      {
        Id: "t",
        TopicArn: "arn:aws:sns:eu-west-1:123456789012:t",
        Events: events as Event[],
        ...(suffix ? { Filter: { Key: { FilterRules: [{ Name: "Suffix" as "suffix", Value: suffix }] } } } : {}),
      },
    ],
  });

  it("a topic on other events or keys is kept verbatim beside our rule", () => {
    for (const config of [topic(["s3:ObjectRemoved:*"]), topic(["s3:ObjectCreated:*"], ".parquet")]) {
      expect(planUploadNotification(config, QUEUE)).toEqual({ outcome: "write", replaced: false });
      const merged = mergeNotificationConfiguration({ ...config, EventBridgeConfiguration: {} }, QUEUE);
      expect(merged.TopicConfigurations).toEqual(config.TopicConfigurations);
      expect(merged.EventBridgeConfiguration).toEqual({});
    }
  });

  it("a topic on every upload, or on .json (S3 answers Suffix capitalised), overlaps ours", () => {
    for (const config of [topic(["s3:ObjectCreated:*"]), topic(["s3:ObjectCreated:Put"], ".json")])
      expect(planUploadNotification(config, QUEUE)).toMatchObject({ outcome: "refused" });
  });

  // The SDK types filter names lowercase; S3 itself answers "Prefix"/"Suffix".
  it("our rule as S3 answers it (Name: Suffix) is identical", () => {
    const ours: NotificationConfiguration = {
      QueueConfigurations: [
        {
          Id: "BlockUploaded",
          QueueArn: QUEUE,
          Events: ["s3:ObjectCreated:*"],
          Filter: { Key: { FilterRules: [{ Name: "Suffix" as "suffix", Value: "meta.json" }] } },
        },
      ],
    };
    expect(planUploadNotification(ours, QUEUE)).toEqual({ outcome: "unchanged" });
  });

  it("STRATA_MANAGE_NOTIFICATION: unset is off, merge needs the queue's ARN, anything else is one line", () => {
    expect(notificationManagement({})).toBeUndefined();
    expect(notificationManagement({ STRATA_MANAGE_NOTIFICATION: "merge", STRATA_QUEUE_ARN: QUEUE })).toEqual({
      queueArn: QUEUE,
    });
    expect(() => notificationManagement({ STRATA_MANAGE_NOTIFICATION: "merge" })).toThrow(/STRATA_QUEUE_ARN/);
    expect(() => notificationManagement({ STRATA_MANAGE_NOTIFICATION: "yes" })).toThrow(/expected merge or unset/);
  });
});
