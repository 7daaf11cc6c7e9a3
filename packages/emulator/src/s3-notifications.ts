/**
 * S3 event notifications to SQS, which fauxqs 2.4.1 lacks: the proxy stores a bucket's
 * configuration on PutBucketNotificationConfiguration (answering GetBucketNotificationConfiguration
 * with it) and, after each object creation it forwarded, posts S3's event JSON to the queue of
 * every matching rule (QueueArn → queue, Events, Filter prefix/suffix), as S3 does. Queue
 * configurations only (no topics, no Lambda), kept in memory: whoever sets a bucket up puts its
 * configuration at each start, as the local runtime does.
 */
import { randomBytes } from "node:crypto";

export interface QueueNotificationRule {
  /** `Id`: S3 puts it in each record's `s3.configurationId`. */
  id: string;
  /** `arn:aws:sqs:<region>:<account>:<name>`. */
  queueArn: string;
  /** `s3:ObjectCreated:*`, `s3:ObjectCreated:Put`, … (a trailing `*` matches any suffix). */
  events: string[];
  prefix?: string;
  suffix?: string;
}

/** A notification the proxy sent, or failed to send (`error`). */
export interface NotificationSent {
  bucket: string;
  key: string;
  eventName: string;
  queueArn: string;
  error?: string;
}

/** Configuration bodies are small; anything larger is refused before it is read whole. */
export const MAX_NOTIFICATION_CONFIGURATION_BYTES = 64 * 1024;

/** The queue rules of a `NotificationConfiguration` document, or a message saying what is wrong. */
export function parseNotificationConfiguration(xml: string): QueueNotificationRule[] | string {
  if (!/<NotificationConfiguration[\s>]/.test(xml) && !/<NotificationConfiguration\/>/.test(xml))
    return "expected a NotificationConfiguration document";
  if (/<(TopicConfiguration|CloudFunctionConfiguration|LambdaFunctionConfiguration)[\s>/]/.test(xml))
    return "only QueueConfiguration is supported by the strata emulator";
  const rules: QueueNotificationRule[] = [];
  for (const m of xml.matchAll(/<QueueConfiguration>([\s\S]*?)<\/QueueConfiguration>/g)) {
    const body = m[1] ?? "";
    const queueArn = text(body, "Queue");
    if (!queueArn || !/^arn:[^:]+:sqs:[^:]*:[^:]*:[^:]+$/.test(queueArn))
      return `QueueConfiguration: expected <Queue> with an SQS queue ARN, got ${JSON.stringify(queueArn ?? "")}`;
    const events = [...body.matchAll(/<Event>([\s\S]*?)<\/Event>/g)].map((e) => unescapeXml((e[1] ?? "").trim()));
    if (events.length === 0 || events.some((e) => !e.startsWith("s3:")))
      return `QueueConfiguration ${queueArn}: expected one or more <Event>s3:…</Event>`;
    const rule: QueueNotificationRule = { id: text(body, "Id") ?? randomBytes(8).toString("hex"), queueArn, events };
    for (const f of body.matchAll(/<FilterRule>([\s\S]*?)<\/FilterRule>/g)) {
      const name = (text(f[1] ?? "", "Name") ?? "").toLowerCase();
      const value = text(f[1] ?? "", "Value") ?? "";
      if (name === "prefix") rule.prefix = value;
      else if (name === "suffix") rule.suffix = value;
      else
        return `QueueConfiguration ${queueArn}: FilterRule name must be prefix or suffix, got ${JSON.stringify(name)}`;
    }
    rules.push(rule);
  }
  return rules;
}

/** The document GetBucketNotificationConfiguration answers with. */
export function notificationConfigurationXml(rules: readonly QueueNotificationRule[]): string {
  const parts = rules.map((r) => {
    const filters = [
      ...(r.prefix !== undefined ? [["prefix", r.prefix] as const] : []),
      ...(r.suffix !== undefined ? [["suffix", r.suffix] as const] : []),
    ];
    return (
      `<QueueConfiguration><Id>${escapeXml(r.id)}</Id><Queue>${escapeXml(r.queueArn)}</Queue>` +
      r.events.map((e) => `<Event>${escapeXml(e)}</Event>`).join("") +
      (filters.length
        ? `<Filter><S3Key>${filters.map(([n, v]) => `<FilterRule><Name>${n}</Name><Value>${escapeXml(v)}</Value></FilterRule>`).join("")}</S3Key></Filter>`
        : "") +
      "</QueueConfiguration>"
    );
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join("")}</NotificationConfiguration>`;
}

/** Whether S3 would notify this rule of the event (`ObjectCreated:Put`, no `s3:` prefix) on the key. */
export function ruleMatches(rule: QueueNotificationRule, eventName: string, key: string): boolean {
  if (rule.prefix !== undefined && !key.startsWith(rule.prefix)) return false;
  if (rule.suffix !== undefined && !key.endsWith(rule.suffix)) return false;
  const full = `s3:${eventName}`;
  return rule.events.some((p) => (p.endsWith("*") ? full.startsWith(p.slice(0, -1)) : full === p));
}

/** `arn:aws:sqs:<region>:<account>:<name>` → its account and name. */
export function queueFromArn(arn: string): { account: string; name: string } {
  const parts = arn.split(":");
  return { account: parts[4] || "000000000000", name: parts[5] ?? "" };
}

export interface CreatedObject {
  bucket: string;
  /** The decoded key. */
  key: string;
  eventName: string;
  size: number;
  /** As the ETag header has it (quotes are removed here). */
  etag: string;
  region: string;
  /** The rule's id (`s3.configurationId`). */
  configurationId: string;
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
      configurationId: o.configurationId,
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

function text(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? unescapeXml((m[1] ?? "").trim()) : undefined;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d{1,7});/g, (m, d: string) => (Number(d) <= 0x10ffff ? String.fromCodePoint(Number(d)) : m))
    .replace(/&amp;/g, "&");
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
