import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  s3ToQueuePolicy,
  scheduledPermissions,
  wildcardIn,
  workerPermissions,
  type StrataArns,
} from "@strata/lambda/deploy";

const ARNS: StrataArns<string> = {
  bucket: "arn:aws:s3:::strata-blocks",
  objects: "arn:aws:s3:::strata-blocks/*",
  jobs: "arn:aws:sqs:eu-west-1:123456789012:strata-jobs",
};

describe("least privilege", () => {
  it("the functions' statements name their actions and resources, never a wildcard", () => {
    for (const statements of [
      workerPermissions(ARNS),
      scheduledPermissions(ARNS),
      scheduledPermissions(ARNS, { adopted: true }),
    ]) {
      expect(wildcardIn(statements)).toBeUndefined();
      for (const s of statements) {
        for (const a of s.actions) expect(a).not.toMatch(/\*/);
        for (const r of s.resources) expect(r).not.toBe("*");
      }
    }
  });

  it("the check catches s3:*, sqs:*, * and a resource of *", () => {
    expect(wildcardIn([{ actions: ["s3:*"], resources: [ARNS.objects] }])).toMatch(/s3:\*/);
    expect(wildcardIn([{ actions: ["sqs:*"], resources: [ARNS.jobs] }])).toMatch(/sqs:\*/);
    expect(wildcardIn([{ actions: ["*"], resources: [ARNS.jobs] }])).toMatch(/wildcard/);
    expect(wildcardIn([{ actions: ["s3:GetObject"], resources: ["*"] }])).toMatch(/resource/);
  });

  it("object actions on the objects, ListBucket on the bucket, SendMessage on the jobs queue", () => {
    const by = (ss: ReturnType<typeof workerPermissions<string>>) =>
      Object.fromEntries(ss.flatMap((s) => s.actions.map((a) => [a, s.resources])));
    expect(by(workerPermissions(ARNS))).toEqual({
      "s3:GetObject": [ARNS.objects],
      "s3:PutObject": [ARNS.objects],
      "s3:DeleteObject": [ARNS.objects],
      "s3:AbortMultipartUpload": [ARNS.objects],
      "s3:ListBucket": [ARNS.bucket],
      "sqs:SendMessage": [ARNS.jobs],
    });
    // runSchedule only lists tenants and enqueues: no object access at all.
    expect(by(scheduledPermissions(ARNS))).toEqual({ "s3:ListBucket": [ARNS.bucket], "sqs:SendMessage": [ARNS.jobs] });
    // SST's subscribe grants the receive side; granting it again would only widen the scheduled function.
    const all = [...workerPermissions(ARNS), ...scheduledPermissions(ARNS)].flatMap((s) => s.actions);
    expect(all.filter((a) => /Receive|DeleteMessage|ChangeMessageVisibility/.test(a))).toEqual([]);
  });

  it("grants every S3 action the worker's store makes, read from the store's own source", () => {
    // Each request S3Store sends (its SDK commands, and lib-storage's Upload) and the IAM
    // action it needs; a command added to the store without a line here fails this test.
    const needs: Record<string, string[]> = {
      GetObjectCommand: ["s3:GetObject"],
      HeadObjectCommand: ["s3:GetObject"],
      PutObjectCommand: ["s3:PutObject"],
      DeleteObjectCommand: ["s3:DeleteObject"],
      ListObjectsV2Command: ["s3:ListBucket"],
      // CreateMultipartUpload, UploadPart, CompleteMultipartUpload, and the abort on failure.
      Upload: ["s3:PutObject", "s3:AbortMultipartUpload"],
    };
    const source = readFileSync(new URL("../../packages/bucket/src/s3/s3-store.ts", import.meta.url), "utf8");
    const used = [...new Set([...source.matchAll(/new (\w+Command|Upload)\(/g)].map((m) => m[1]!))];
    expect(used.length).toBeGreaterThan(4);
    const granted = workerPermissions(ARNS).flatMap((s) => s.actions);
    for (const c of used) {
      expect(needs[c], `S3Store sends ${c}: say which IAM action it needs`).toBeDefined();
      for (const a of needs[c]!) expect(granted, `${c} needs ${a}`).toContain(a);
    }
  });

  it("only on an adopted bucket may the scheduled function read and write its notification configuration", () => {
    const actions = (ss: ReturnType<typeof scheduledPermissions<string>>) => ss.flatMap((s) => s.actions);
    const notification = ["s3:GetBucketNotification", "s3:PutBucketNotification"];
    for (const a of notification) {
      expect(actions(scheduledPermissions(ARNS))).not.toContain(a);
      expect(actions(workerPermissions(ARNS))).not.toContain(a);
    }
    const adopted = scheduledPermissions(ARNS, { adopted: true });
    expect(adopted.find((s) => s.actions.includes(notification[0]!))).toEqual({
      actions: notification,
      resources: [ARNS.bucket],
    });
  });

  it("the queue accepts S3's events only from this bucket in this account", () => {
    const p = s3ToQueuePolicy({ queueArn: ARNS.jobs, bucketArn: ARNS.bucket, account: "123456789012" });
    expect(p.Statement).toHaveLength(1);
    expect(p.Statement[0]).toMatchObject({
      Principal: { Service: "s3.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: ARNS.jobs,
      Condition: {
        ArnEquals: { "aws:SourceArn": ARNS.bucket },
        StringEquals: { "aws:SourceAccount": "123456789012" },
      },
    });
  });
});
