/**
 * The bucket's one notification rule, in one place: infra/bucket.ts gives it to S3
 * (`bucket.notify`), and the local runtime puts it on its bucket with
 * PutBucketNotificationConfiguration (built-in emulator or LocalStack), so the emulator
 * triggers exactly what AWS would. Dependency-free on purpose: SST's config
 * bundle loads this file (through ./deploy.ts).
 */

export const UPLOAD_NOTIFICATION = {
  /** The notification's id: S3 puts it in each record's `s3.configurationId`. */
  name: "BlockUploaded",
  /** A block is complete when its meta.json (uploaded last) exists. */
  events: ["s3:ObjectCreated:*"],
  filterSuffix: "meta.json",
} as const;

/**
 * Whether S3 would notify for this event on this key. `eventName` is as in a record
 * (`ObjectCreated:Put`, no `s3:` prefix); a pattern's trailing `*` matches any suffix.
 */
export function matchesUploadNotification(eventName: string, key: string): boolean {
  if (!key.endsWith(UPLOAD_NOTIFICATION.filterSuffix)) return false;
  const full = `s3:${eventName}`;
  return UPLOAD_NOTIFICATION.events.some((p) => (p.endsWith("*") ? full.startsWith(p.slice(0, -1)) : full === p));
}
