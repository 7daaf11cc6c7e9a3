/**
 * The bucket's protection and adoption, as data: the deploy-only settings (read by infra from
 * the environment of `sst deploy`, never forwarded to the functions, which do not read them),
 * the lifecycle rules, and the notification configuration to merge into a bucket Strata
 * adopts (the scheduled function does, ensure-notification.ts; by hand as the fallback).
 * infra/bucket.ts is thin wiring over these; test/infra checks them.
 */
import { DEPLOY_ONLY_VARIABLES } from "@strata/pipeline/settings";
import { UPLOAD_NOTIFICATION } from "./notify-rule.ts";

/** Variables read only by infra at deploy time (declared beside every other STRATA_* name). */
export const DEPLOY_ONLY_SETTINGS = DEPLOY_ONLY_VARIABLES;

export type DeployOnlySetting = keyof typeof DEPLOY_ONLY_SETTINGS;

export interface DeployOnly {
  removeBucketOnRemoval: boolean;
  noncurrentVersionDays: number;
  existingBucket?: string;
  alarmEmail?: string;
  alarmTopicArn?: string;
}

export const DEFAULT_NONCURRENT_VERSION_DAYS = 7;

/** Parse the deploy-only settings; throws one line naming the variable and the form expected. */
export function parseDeployOnly(env: Record<string, string | undefined>): DeployOnly {
  const get = (k: DeployOnlySetting) => (env[k] === undefined || env[k] === "" ? undefined : env[k]!.trim());
  const bad = (k: DeployOnlySetting, want: string) => {
    throw new Error(`${k}=${JSON.stringify(env[k])}: expected ${want}`);
  };
  const remove = get("STRATA_REMOVE_BUCKET_ON_REMOVAL");
  if (remove !== undefined && remove !== "true" && remove !== "false")
    bad("STRATA_REMOVE_BUCKET_ON_REMOVAL", "true or false");
  const days = get("STRATA_NONCURRENT_VERSION_DAYS");
  if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days))
    bad("STRATA_NONCURRENT_VERSION_DAYS", "a whole number of days from 1 to 99999");
  const existing = get("STRATA_EXISTING_BUCKET");
  // S3's bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, alphanumeric ends.
  if (existing !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(existing))
    bad("STRATA_EXISTING_BUCKET", "an S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')");
  const email = get("STRATA_ALARM_EMAIL");
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) bad("STRATA_ALARM_EMAIL", "an e-mail address");
  const topic = get("STRATA_ALARM_TOPIC_ARN");
  if (topic !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$/.test(topic))
    bad("STRATA_ALARM_TOPIC_ARN", "an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)");
  if (email !== undefined && topic !== undefined)
    throw new Error(
      "STRATA_ALARM_EMAIL and STRATA_ALARM_TOPIC_ARN: set one (subscribe the address to the topic yourself)",
    );
  return {
    removeBucketOnRemoval: remove === "true",
    noncurrentVersionDays: days === undefined ? DEFAULT_NONCURRENT_VERSION_DAYS : Number(days),
    ...(existing !== undefined ? { existingBucket: existing } : {}),
    ...(email !== undefined ? { alarmEmail: email } : {}),
    ...(topic !== undefined ? { alarmTopicArn: topic } : {}),
  };
}

/**
 * The bucket's whole lifecycle configuration (S3 keeps one per bucket, so every rule is here),
 * in the shape of aws.s3.BucketLifecycleConfiguration's `rules`.
 */
export function lifecycleRules(noncurrentVersionDays: number) {
  return [
    {
      // Uploads cut off by a timeout leave multipart parts that cost storage and never list.
      id: "abort-incomplete-multipart-uploads",
      status: "Enabled",
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
    },
    {
      // Versioning keeps what a deletion or overwrite removed, for this long: time to undo a
      // mistaken retention, cleanup or `strata` command. Delete markers left alone expire too.
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: noncurrentVersionDays },
      expiration: { expiredObjectDeleteMarker: true },
    },
  ];
}

/**
 * For an adopted bucket: the QueueConfiguration to add to its notification configuration.
 * S3's PutBucketNotificationConfiguration replaces the whole configuration (as would an
 * aws.s3.BucketNotification resource), so no deploy-time resource writes it: the scheduled
 * function merges this entry into what GetBucketNotificationConfiguration returns
 * (ensure-notification.ts), or the operator does by hand.
 */
export function queueNotificationEntry(queueArn: string) {
  return {
    Id: UPLOAD_NOTIFICATION.name,
    QueueArn: queueArn,
    Events: [...UPLOAD_NOTIFICATION.events],
    Filter: { Key: { FilterRules: [{ Name: "suffix", Value: UPLOAD_NOTIFICATION.filterSuffix }] } },
  };
}

/** Merge Strata's entry into a bucket's current notification configuration (replacing a previous Strata entry). */
export function mergeNotificationConfiguration(
  current: Record<string, unknown>,
  queueArn: string,
): Record<string, unknown> & { QueueConfigurations: { Id?: string; [k: string]: unknown }[] } {
  const queues = Array.isArray(current.QueueConfigurations)
    ? (current.QueueConfigurations as { Id?: string }[]).filter((q) => q.Id !== UPLOAD_NOTIFICATION.name)
    : [];
  const { ResponseMetadata: _, $metadata: __, ...rest } = current;
  return { ...rest, QueueConfigurations: [...queues, queueNotificationEntry(queueArn)] };
}

/** Set by infra on the scheduled function when it adopts a bucket: `merge` (ensure-notification.ts). */
export const MANAGE_NOTIFICATION_VARIABLE = "STRATA_MANAGE_NOTIFICATION";
/** The jobs queue's ARN, set beside it: the notification's destination. */
export const QUEUE_ARN_VARIABLE = "STRATA_QUEUE_ARN";

/** The scheduled function's extra environment on an adopted bucket. */
export function adoptedScheduledEnvironment<A>(queueArn: A): Record<string, A | string> {
  return { [MANAGE_NOTIFICATION_VARIABLE]: "merge", [QUEUE_ARN_VARIABLE]: queueArn };
}

/**
 * The fallback when the scheduled function refuses the merge (another consumer's rule overlaps
 * Strata's): get, merge with jq, put, by hand once the conflict is resolved.
 */
export function notificationMergeSteps(bucket: string, queueArn: string): string[] {
  const entry = JSON.stringify(queueNotificationEntry(queueArn));
  return [
    `   aws s3api get-bucket-notification-configuration --bucket ${bucket} > notification.json`,
    // -s: the CLI prints nothing for a bucket without notifications.
    `   jq -s '(.[0] // {}) | .QueueConfigurations = ((.QueueConfigurations // []) | map(select(.Id != "${UPLOAD_NOTIFICATION.name}")) + [${entry}])' notification.json > merged.json`,
    `   aws s3api put-bucket-notification-configuration --bucket ${bucket} --notification-configuration file://merged.json`,
  ];
}

/** What `sst deploy` prints for an adopted bucket and returns as an output. */
export function adoptedBucketSteps(bucket: string, queueArn: string, noncurrentVersionDays: number): string {
  return [
    `Strata adopted bucket ${bucket}. Its scheduled function merges Strata's upload notification into the bucket's`,
    `notification configuration, keeping every other rule: once right after deploy, then hourly (it restores the rule`,
    `if another tool overwrote the configuration). Its log says upload-notification-written or -unchanged. If it says`,
    `upload-notification-refused (another rule overlaps Strata's), resolve the overlap, then wait for the next run or`,
    `merge by hand (S3 replaces the whole configuration on put):`,
    ...notificationMergeSteps(bucket, queueArn),
    `Recommended, for deletions to be undoable: enable versioning, then add two rules to the bucket's lifecycle`,
    `configuration (get-bucket-lifecycle-configuration, merge, put: it too is replaced whole): NoncurrentVersionExpiration`,
    `NoncurrentDays=${noncurrentVersionDays}, and AbortIncompleteMultipartUpload DaysAfterInitiation=2.`,
    `   aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`,
  ].join("\n");
}
