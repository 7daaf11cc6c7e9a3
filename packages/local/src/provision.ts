/**
 * One set-up path for the built-in emulator, LocalStack and AWS: the bucket, the jobs queue
 * and its DLQ (redrive as in infra/) created through the APIs when missing, and the bucket's
 * notification put with PutBucketNotificationConfiguration from the rule infra/ deploys
 * (`UPLOAD_NOTIFICATION`). The endpoint then sends S3's events itself.
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { UPLOAD_NOTIFICATION } from "@strata/lambda/deploy";

export const JOBS_QUEUE = "strata-jobs";
export const DLQ_QUEUE = "strata-jobs-dlq";

export interface Provisioned {
  queueUrl: string;
  dlqUrl: string;
  queueArn: string;
}

export async function provisionPipeline(p: {
  s3: S3Client;
  sqs: SQSClient;
  /** Queue URLs are rewritten to this endpoint (emulators name queues after the host they were reached by). */
  endpoint: string;
  bucket: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
}): Promise<Provisioned> {
  await ensureBucket(p.s3, p.bucket);
  // The DLQ first: its ARN goes into the jobs queue's redrive policy.
  const dlqUrl = await createQueue(p.sqs, p.endpoint, DLQ_QUEUE, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const dlqArn = await queueArn(p.sqs, dlqUrl);
  const queueUrl = await createQueue(p.sqs, p.endpoint, JOBS_QUEUE, {
    VisibilityTimeout: String(p.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(p.maxReceiveCount) }),
  });
  const jobsArn = await queueArn(p.sqs, queueUrl);
  await p.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: p.bucket,
      NotificationConfiguration: { QueueConfigurations: [uploadQueueConfiguration(jobsArn)] },
    }),
  );
  return { queueUrl, dlqUrl, queueArn: jobsArn };
}

/** infra/bucket.ts's rule as a QueueConfiguration for the jobs queue. */
export function uploadQueueConfiguration(queueArn: string) {
  return {
    Id: UPLOAD_NOTIFICATION.name,
    QueueArn: queueArn,
    Events: [...UPLOAD_NOTIFICATION.events],
    Filter: { Key: { FilterRules: [{ Name: "suffix" as const, Value: UPLOAD_NOTIFICATION.filterSuffix }] } },
  };
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (e: { $metadata?: { httpStatusCode?: number } }) => {
      if (e.$metadata?.httpStatusCode === 404) return false;
      throw e;
    },
  );
  if (exists) return;
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((e: Error) => {
    if (e.name !== "BucketAlreadyOwnedByYou") throw e;
  });
}

async function createQueue(
  sqs: SQSClient,
  endpoint: string,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const r = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })).catch(async (e) => {
    // Kept from an earlier run with other settings: take it and apply this run's (as a deploy would).
    if (!String((e as Error).name).endsWith("QueueNameExists")) throw e;
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: found.QueueUrl, Attributes: attributes }));
    return found;
  });
  // Give clients the endpoint's own address, which resolves everywhere (the path names the queue).
  return r.QueueUrl!.replace(/^https?:\/\/[^/]+/, endpoint);
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return r.Attributes!.QueueArn!;
}
