/**
 * What each function may do, as data: infra/functions.ts gives these statements to SST as
 * `permissions` (instead of `link`, which grants s3:* and sqs:*), and test/infra checks that
 * none is a wildcard. Generic over the ARN type: infra passes Pulumi outputs, tests strings.
 *
 * Not here: the worker's sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
 * GetQueueAttributes and GetQueueUrl on the jobs queue, which SST's `queue.subscribe` adds to
 * the subscribed function itself (queue-lambda-subscriber.ts), and CloudWatch Logs, which
 * SST's function role carries. No s3:prefix condition on ListBucket: the worker and the
 * schedule list from the bucket's root (tenant discovery), so any prefix would be "".
 */

export interface Statement<A> {
  actions: string[];
  resources: A[];
}

export interface StrataArns<A> {
  /** The bucket's ARN (`arn:aws:s3:::name`), for ListBucket. */
  bucket: A;
  /** The bucket's objects (`arn:aws:s3:::name/*`), for the object actions. */
  objects: A;
  /** The jobs queue's ARN. */
  jobs: A;
}

/**
 * The worker reads, writes and deletes blocks, lists the bucket and enqueues follow-up jobs.
 * Multipart uploads (large outputs) are PutObject's; aborting one, when a job stops or fails
 * mid-upload, is its own action, without which the parts would be left in the bucket.
 */
export function workerPermissions<A>(arns: StrataArns<A>): Statement<A>[] {
  return [
    {
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: [arns.objects],
    },
    { actions: ["s3:ListBucket"], resources: [arns.bucket] },
    { actions: ["sqs:SendMessage"], resources: [arns.jobs] },
  ];
}

/**
 * The schedule sends the first page of its fan-out (runSchedule); the worker lists the tenants
 * and enqueues their jobs. s3:ListBucket is no longer used by it, kept until the runbook
 * (alarm-scheduled-errors, mirrored in the root README) stops naming it. On an
 * adopted bucket it also reads and merges the bucket's notification configuration
 * (ensure-notification.ts); on a bucket Strata created, infra writes it and the function may not.
 */
export function scheduledPermissions<A>(arns: StrataArns<A>, opts: { adopted?: boolean } = {}): Statement<A>[] {
  return [
    { actions: ["s3:ListBucket"], resources: [arns.bucket] },
    { actions: ["sqs:SendMessage"], resources: [arns.jobs] },
    ...(opts.adopted
      ? [{ actions: ["s3:GetBucketNotification", "s3:PutBucketNotification"], resources: [arns.bucket] }]
      : []),
  ];
}

/** Why a statement is too broad, or undefined: a wildcard action or a resource of "*". */
export function wildcardIn(statements: readonly Statement<string>[]): string | undefined {
  for (const s of statements) {
    for (const a of s.actions) if (a.includes("*")) return `action ${a} is a wildcard`;
    for (const r of s.resources) if (r === "*" || r.endsWith(":*")) return `resource ${r} is a wildcard`;
    if (s.actions.length === 0 || s.resources.length === 0) return "a statement without actions or resources";
  }
  return undefined;
}

/**
 * The jobs queue's resource policy: S3 may send, but only for this bucket in this account
 * (without the conditions any bucket anywhere could be configured to notify the queue).
 * Replaces SST's `Queue.createPolicy`, which `bucket.notify` uses and which has no condition.
 */
export function s3ToQueuePolicy(args: { queueArn: string; bucketArn: string; account: string }) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "S3BlockUploads",
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: args.queueArn,
        Condition: {
          ArnEquals: { "aws:SourceArn": args.bucketArn },
          StringEquals: { "aws:SourceAccount": args.account },
        },
      },
    ],
  };
}
