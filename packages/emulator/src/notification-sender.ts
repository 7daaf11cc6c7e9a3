/**
 * The proxy's S3 → SQS notifications: the configuration each bucket was given, and the
 * messages sent for it (see s3-notifications.ts). Talks to fauxqs directly (SQS's JSON
 * protocol), never through the proxy, so injected faults never drop a notification.
 */
import {
  type NotificationSent,
  type QueueNotificationRule,
  notificationConfigurationXml,
  parseNotificationConfiguration,
  queueFromArn,
  ruleMatches,
  s3EventBody,
  s3TestEventBody,
} from "./s3-notifications.ts";

export class BucketNotifications {
  private readonly rules = new Map<string, QueueNotificationRule[]>();
  private readonly listeners: ((n: NotificationSent) => void)[] = [];
  private inFlight = 0;
  private tail: Promise<void> = Promise.resolve();

  private readonly upstream: URL;

  constructor(upstream: URL) {
    this.upstream = upstream;
  }

  /** Notifications not yet sent. */
  get pending(): number {
    return this.inFlight;
  }

  /** Resolves once every notification queued so far was sent (or failed). */
  settled(): Promise<void> {
    return this.tail;
  }

  onSent(listener: (n: NotificationSent) => void): void {
    this.listeners.push(listener);
  }

  configurationXml(bucket: string): string {
    return notificationConfigurationXml(this.rules.get(bucket) ?? []);
  }

  /**
   * PutBucketNotificationConfiguration: replaces the bucket's rules once every queue exists
   * (S3 refuses a destination it cannot reach), then sends each queue S3's `s3:TestEvent`.
   * Resolves to an error message for the client, or undefined.
   */
  async put(bucket: string, xml: string): Promise<string | undefined> {
    const rules = parseNotificationConfiguration(xml);
    if (typeof rules === "string") return rules;
    const urls = new Map<string, string>();
    for (const r of rules) {
      const url = await this.queueUrl(r.queueArn);
      if (!url) return `Unable to validate the following destination configurations: ${r.queueArn} (no such queue)`;
      urls.set(r.queueArn, url);
    }
    this.rules.set(bucket, rules);
    for (const url of urls.values())
      await this.sqs("SendMessage", { QueueUrl: url, MessageBody: s3TestEventBody(bucket) });
    return undefined;
  }

  /** After a successful object creation: one message per matching rule, in write order. */
  objectWritten(bucket: string, key: string, eventName: string): void {
    for (const rule of this.rules.get(bucket) ?? []) {
      if (!ruleMatches(rule, eventName, key)) continue;
      this.inFlight++;
      const sent: NotificationSent = { bucket, key, eventName, queueArn: rule.queueArn };
      this.tail = this.tail
        .then(() => this.send(rule, bucket, key, eventName))
        .catch((e: unknown) => {
          sent.error = e instanceof Error ? e.message : String(e);
        })
        .then(() => {
          this.inFlight--;
          for (const l of this.listeners) l(sent);
        });
    }
  }

  private async send(rule: QueueNotificationRule, bucket: string, key: string, eventName: string): Promise<void> {
    const url = await this.queueUrl(rule.queueArn);
    if (!url) throw new Error(`queue ${rule.queueArn} no longer exists`);
    const path = `/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;
    const h = await fetch(new URL(path, this.upstream), { method: "HEAD" });
    if (!h.ok) throw new Error(`HEAD ${path} after ${eventName}: HTTP ${h.status}`);
    const body = s3EventBody({
      bucket,
      key,
      eventName,
      size: Number(h.headers.get("content-length") ?? 0),
      etag: h.headers.get("etag") ?? "",
      region: rule.queueArn.split(":")[3] || "us-east-1",
      configurationId: rule.id,
    });
    await this.sqs("SendMessage", { QueueUrl: url, MessageBody: body });
  }

  private async queueUrl(arn: string): Promise<string | undefined> {
    const { account, name } = queueFromArn(arn);
    const r = await this.sqsRaw("GetQueueUrl", { QueueName: name, QueueOwnerAWSAccountId: account });
    if (!r.ok) return undefined;
    const url = ((await r.json()) as { QueueUrl?: string }).QueueUrl;
    // fauxqs names queues after the host it was reached by; its path names the queue.
    return url ? new URL(new URL(url).pathname, this.upstream).toString() : undefined;
  }

  private async sqs(action: string, body: unknown): Promise<void> {
    const r = await this.sqsRaw(action, body);
    if (!r.ok) throw new Error(`SQS ${action}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
    await r.arrayBuffer();
  }

  private sqsRaw(action: string, body: unknown): Promise<Response> {
    return fetch(this.upstream, {
      method: "POST",
      headers: { "x-amz-target": `AmazonSQS.${action}`, "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify(body),
    });
  }
}
