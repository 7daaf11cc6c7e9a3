// The blocks bucket and its single notification rule: a block is complete when its meta.json
// exists (uploaded last), so that object's creation is the pipeline's trigger.
// The rule itself is shared with the local runtime's notification bridge.
import { UPLOAD_NOTIFICATION } from "@strata/lambda/deploy";

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
 * `notify` may be called once per bucket (a second call throws), so every subscriber belongs
 * here. `events` is always given: omitted, it defaults to nearly every event type.
 */
export function notifyUploads(bucket: sst.aws.Bucket, jobs: sst.aws.Queue): void {
  bucket.notify({
    notifications: [
      {
        name: UPLOAD_NOTIFICATION.name,
        queue: jobs,
        events: [...UPLOAD_NOTIFICATION.events],
        filterSuffix: UPLOAD_NOTIFICATION.filterSuffix,
      },
    ],
  });
}
