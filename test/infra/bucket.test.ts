import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { deploySettings, infraSettings } from "../../infra/settings.ts";
import {
  DEPLOY_ONLY_SETTINGS,
  FORWARDED_SETTINGS,
  UPLOAD_NOTIFICATION,
  adoptedBucketSteps,
  lifecycleRules,
  mergeNotificationConfiguration,
} from "@strata/lambda/deploy";

const QUEUE = "arn:aws:sqs:eu-west-1:123456789012:strata-jobs";

describe("deploy-only settings", () => {
  it("keep the bucket and seven days of versions by default", () => {
    expect(infraSettings({})).toEqual({ removeBucketOnRemoval: false, noncurrentVersionDays: 7 });
  });

  it("read each variable, and refuse a malformed one naming it", () => {
    expect(
      infraSettings({
        STRATA_REMOVE_BUCKET_ON_REMOVAL: "true",
        STRATA_NONCURRENT_VERSION_DAYS: "30",
        STRATA_EXISTING_BUCKET: "acme-metrics",
        STRATA_ALARM_EMAIL: "oncall@example.com",
      }),
    ).toEqual({
      removeBucketOnRemoval: true,
      noncurrentVersionDays: 30,
      existingBucket: "acme-metrics",
      alarmEmail: "oncall@example.com",
    });
    expect(() => infraSettings({ STRATA_REMOVE_BUCKET_ON_REMOVAL: "yes" })).toThrow(
      /^STRATA_REMOVE_BUCKET_ON_REMOVAL="yes": expected true or false$/,
    );
    expect(() => infraSettings({ STRATA_NONCURRENT_VERSION_DAYS: "0" })).toThrow(/STRATA_NONCURRENT_VERSION_DAYS/);
    expect(() => infraSettings({ STRATA_EXISTING_BUCKET: "Not_A_Bucket" })).toThrow(/STRATA_EXISTING_BUCKET/);
    expect(() => infraSettings({ STRATA_ALARM_TOPIC_ARN: "arn:aws:sqs:x" })).toThrow(/STRATA_ALARM_TOPIC_ARN/);
    expect(() =>
      infraSettings({
        STRATA_ALARM_EMAIL: "a@b.co",
        STRATA_ALARM_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:ops",
      }),
    ).toThrow(/set one/);
  });

  it("are never forwarded to the functions, which do not read them", () => {
    const names = Object.keys(DEPLOY_ONLY_SETTINGS);
    for (const n of names) expect(FORWARDED_SETTINGS).not.toContain(n);
    expect(deploySettings(Object.fromEntries(names.map((n) => [n, "x"])))).toEqual({});
  });
});

describe("the bucket's lifecycle configuration", () => {
  it("holds every rule, ids unique: multipart aborts and non-current version expiry", () => {
    const rules = lifecycleRules(7);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    expect(rules.find((r) => r.id === "abort-incomplete-multipart-uploads")).toMatchObject({
      abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
    });
    expect(lifecycleRules(30).find((r) => r.id === "expire-noncurrent-versions")).toMatchObject({
      status: "Enabled",
      noncurrentVersionExpiration: { noncurrentDays: 30 },
    });
  });
});

describe("an adopted bucket's notification", () => {
  it("is merged into the existing configuration, keeping other subscribers", () => {
    const current = {
      ResponseMetadata: { RequestId: "x" },
      LambdaFunctionConfigurations: [
        { Id: "thumbs", LambdaFunctionArn: "arn:aws:lambda:…", Events: ["s3:ObjectCreated:*"] },
      ],
      QueueConfigurations: [
        { Id: "audit", QueueArn: "arn:aws:sqs:eu-west-1:123456789012:audit", Events: ["s3:ObjectRemoved:*"] },
        { Id: UPLOAD_NOTIFICATION.name, QueueArn: "arn:aws:sqs:eu-west-1:123456789012:old" },
      ],
    };
    const merged = mergeNotificationConfiguration(current, QUEUE);
    expect(merged).not.toHaveProperty("ResponseMetadata");
    expect(merged.LambdaFunctionConfigurations).toEqual(current.LambdaFunctionConfigurations);
    expect(merged.QueueConfigurations.map((q) => q.Id)).toEqual(["audit", UPLOAD_NOTIFICATION.name]);
    expect(merged.QueueConfigurations[1]).toEqual({
      Id: "BlockUploaded",
      QueueArn: QUEUE,
      Events: ["s3:ObjectCreated:*"],
      Filter: { Key: { FilterRules: [{ Name: "suffix", Value: "meta.json" }] } },
    });
    expect(mergeNotificationConfiguration({}, QUEUE).QueueConfigurations).toHaveLength(1);
  });

  it("the printed steps merge (never replace) and name the bucket and queue", () => {
    const steps = adoptedBucketSteps("acme-metrics", QUEUE, 7);
    expect(steps).toContain("aws s3api get-bucket-notification-configuration --bucket acme-metrics");
    expect(steps).toContain("put-bucket-notification-configuration --bucket acme-metrics");
    expect(steps).toContain(QUEUE);
    expect(steps).toContain('select(.Id != "BlockUploaded")');
  });

  it.skipIf(spawnSync("jq", ["--version"]).status !== 0)(
    "the printed jq program computes the same merge as mergeNotificationConfiguration",
    () => {
      const steps = adoptedBucketSteps("acme-metrics", QUEUE, 7);
      const program = /jq -s '(.*)' notification\.json/.exec(steps)![1]!;
      const current = {
        QueueConfigurations: [{ Id: "audit", QueueArn: "q", Events: ["s3:ObjectRemoved:*"] }],
        TopicConfigurations: [
          { Id: "t", TopicArn: "arn:aws:sns:eu-west-1:123456789012:t", Events: ["s3:ObjectCreated:*"] },
        ],
      };
      for (const input of [JSON.stringify(current), ""]) {
        const out = JSON.parse(execFileSync("jq", ["-s", program], { input, encoding: "utf8" }));
        expect(out).toEqual(mergeNotificationConfiguration(input ? current : {}, QUEUE));
      }
    },
  );
});
