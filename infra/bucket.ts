// The blocks bucket and its single notification rule: a block is complete when its meta.json
// exists (uploaded last), so that object's creation is the pipeline's trigger.
// The rule itself is shared with the local runtime's notification bridge.
import {
  UPLOAD_NOTIFICATION,
  adoptedBucketSteps,
  lifecycleRules,
  s3ToQueuePolicy,
  type DeployOnly,
} from "@strata/lambda/deploy";

export interface Blocks {
  bucket: sst.aws.Bucket;
  /**
   * Set when the bucket is adopted (STRATA_EXISTING_BUCKET): no deploy-time resource changes it;
   * the scheduled function merges the upload notification into it at run time.
   */
  adopted: boolean;
}

/**
 * A new bucket: versioned, retained by `sst remove` on every stage unless
 * STRATA_REMOVE_BUCKET_ON_REMOVAL=true (an explicit false overrides SST's own `removal`), with
 * its one lifecycle configuration. An adopted bucket (STRATA_EXISTING_BUCKET) is only referenced.
 */
export function createBucket(settings: DeployOnly): Blocks {
  if (settings.existingBucket !== undefined) {
    return { bucket: sst.aws.Bucket.get("Blocks", settings.existingBucket), adopted: true };
  }
  const retainOnDelete = !settings.removeBucketOnRemoval;
  // Component options reach its children: the bucket and its versioning resource.
  const bucket = new sst.aws.Bucket("Blocks", { versioning: true }, { retainOnDelete });
  // Not through `lifecycle:` on the bucket: S3 keeps one lifecycle configuration per bucket,
  // and every rule is in lifecycleRules. The name is kept from when it held one rule: updated, not replaced.
  new aws.s3.BucketLifecycleConfiguration(
    "BlocksAbortIncompleteUploads",
    { bucket: bucket.name, rules: lifecycleRules(settings.noncurrentVersionDays) },
    { retainOnDelete },
  );
  return { bucket, adopted: false };
}

/**
 * The upload rule on the jobs queue. Not `bucket.notify`: its queue policy (SST's
 * Queue.createPolicy) lets S3, SNS and EventBridge send from anywhere. Here the queue policy
 * admits S3 for this bucket in this account only, and the notification waits for it (S3 sends
 * a test event on creation, which fails without the policy). `events` is always given.
 *
 * On an adopted bucket no resource writes the notification (S3's API and aws.s3.BucketNotification
 * replace the bucket's whole notification configuration, dropping its other subscribers): the
 * scheduled function merges it at run time (infra/schedules.ts, @strata/lambda's
 * ensureUploadNotification), once right after deploy (infra/index.ts) and hourly. What that means, and the steps
 * to merge by hand if it refuses (another rule overlaps), are returned and printed.
 */
export function notifyUploads(
  blocks: Blocks,
  jobs: sst.aws.Queue,
  settings: DeployOnly,
): $util.Output<string> | undefined {
  const { bucket } = blocks;
  const account = aws.getCallerIdentityOutput().accountId;
  const policy = new aws.sqs.QueuePolicy("JobsS3Policy", {
    queueUrl: jobs.url,
    policy: $resolve([jobs.arn, bucket.arn, account]).apply(([queueArn, bucketArn, account]) =>
      JSON.stringify(s3ToQueuePolicy({ queueArn, bucketArn, account })),
    ),
  });
  if (blocks.adopted) {
    return $resolve([bucket.name, jobs.arn]).apply(([name, queueArn]) => {
      const steps = adoptedBucketSteps(name, queueArn, settings.noncurrentVersionDays);
      console.warn(steps);
      return steps;
    });
  }
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
    {
      dependsOn: [policy],
      // The resource `bucket.notify` created before: updated in place, not created anew and the
      // old one deleted (deleting a BucketNotification empties the bucket's notifications).
      aliases: [
        `urn:pulumi:${$app.stage}::${$app.name}::sst:aws:BucketNotification$aws:s3/bucketNotification:BucketNotification::BlocksNotificationsNotification`,
      ],
    },
  );
  return undefined;
}
