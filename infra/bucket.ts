// The blocks bucket and its single notification rule: a block is complete when its meta.json
// exists (uploaded last), so that object's creation is the pipeline's trigger.
// The rule itself is shared with the local runtime's notification bridge.
import { UPLOAD_NOTIFICATION, s3ToQueuePolicy } from "@strata/lambda/deploy";

export function createBucket(): sst.aws.Bucket {
  const bucket = new sst.aws.Bucket("Blocks");
  // Uploads cut off by a timeout leave multipart parts that cost storage and never list.
  // Not through `lifecycle:` on the bucket: S3 keeps one lifecycle configuration per bucket.
  new aws.s3.BucketLifecycleConfiguration("BlocksAbortIncompleteUploads", {
    bucket: bucket.name,
    rules: [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
      },
    ],
  });
  return bucket;
}

/**
 * The upload rule on the jobs queue. Not `bucket.notify`: its queue policy (SST's
 * Queue.createPolicy) lets S3, SNS and EventBridge send from anywhere. Here the queue policy
 * admits S3 for this bucket in this account only, and the notification waits for it (S3 sends
 * a test event on creation, which fails without the policy). `events` is always given.
 */
export function notifyUploads(bucket: sst.aws.Bucket, jobs: sst.aws.Queue): void {
  const account = aws.getCallerIdentityOutput().accountId;
  const policy = new aws.sqs.QueuePolicy("JobsS3Policy", {
    queueUrl: jobs.url,
    policy: $resolve([jobs.arn, bucket.arn, account]).apply(([queueArn, bucketArn, account]) =>
      JSON.stringify(s3ToQueuePolicy({ queueArn, bucketArn, account })),
    ),
  });
  new aws.s3.BucketNotification(
    "BlocksNotification",
    {
      bucket: bucket.name,
      queues: [
        {
          id: UPLOAD_NOTIFICATION.name,
          queueArn: jobs.arn,
          events: [...UPLOAD_NOTIFICATION.events],
          filterSuffix: UPLOAD_NOTIFICATION.filterSuffix,
        },
      ],
    },
    { dependsOn: [policy] },
  );
}
