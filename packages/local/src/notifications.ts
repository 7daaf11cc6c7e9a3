/**
 * S3 event notifications for an emulator that sends none (fauxqs 2.4.1): after each object
 * creation the proxy saw, if the bucket's notification rule (the one infra/bucket.ts gives S3,
 * from @strata/lambda/deploy) matches, the same JSON S3 would send is posted to
 * the jobs queue. Plus the `s3:TestEvent` S3 sends when the configuration is put.
 */
import { randomBytes } from "node:crypto";
import { matchesUploadNotification, UPLOAD_NOTIFICATION } from "@strata/lambda/deploy";

export interface CreatedObject {
  bucket: string;
  /** The decoded key. */
  key: string;
  eventName: string;
  size: number;
  /** As the ETag header has it (quotes are removed here). */
  etag: string;
  region: string;
  time?: Date;
}

/**
 * A key as S3 writes it in a notification: URL-encoded form style (space → `+`; everything
 * but letters, digits, `-_.*` and the `/` separators percent-encoded as UTF-8), so that
 * `decodeURIComponent(key.replace(/\+/g, " "))` gives the key back.
 */
export function encodeS3EventKey(key: string): string {
  let out = "";
  for (const b of Buffer.from(key, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

let lastSequencer = 0n;
/** A hex sequencer that grows with every event of this process (S3's only orders one key's events). */
function nextSequencer(): string {
  const t = BigInt(Date.now()) << 16n;
  lastSequencer = t > lastSequencer ? t : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(18, "0");
}

/** One notification body (`{"Records":[…]}`) in S3's event message structure, version 2.1. */
export function s3EventBody(o: CreatedObject): string {
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  const record = {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: o.region,
    eventTime: (o.time ?? new Date()).toISOString(),
    eventName: o.eventName,
    userIdentity: { principalId: "AWS:STRATALOCAL" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: { "x-amz-request-id": requestId, "x-amz-id-2": randomBytes(24).toString("base64") },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: UPLOAD_NOTIFICATION.name,
      bucket: { name: o.bucket, ownerIdentity: { principalId: "STRATALOCAL" }, arn: `arn:aws:s3:::${o.bucket}` },
      object: {
        key: encodeS3EventKey(o.key),
        size: o.size,
        eTag: o.etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1"),
        sequencer: nextSequencer(),
      },
    },
  };
  return JSON.stringify({ Records: [record] });
}

/** The body S3 sends to a queue when the bucket's notification configuration is put. */
export function s3TestEventBody(bucket: string, time = new Date()): string {
  return JSON.stringify({
    Service: "Amazon S3",
    Event: "s3:TestEvent",
    Time: time.toISOString(),
    Bucket: bucket,
    RequestId: randomBytes(8).toString("hex").toUpperCase(),
    HostId: randomBytes(24).toString("base64"),
  });
}

/** Whether the bucket's rule selects this event: the same test S3 applies. */
export function shouldNotify(eventName: string, key: string): boolean {
  return matchesUploadNotification(eventName, key);
}
