/**
 * A poller that feeds a handler the way Lambda's SQS event source mapping does:
 * ReceiveMessage (batch size, long-poll wait, all attributes) → a real-format `SQSEvent` →
 * the handler → delete what succeeded: every record when the response lists no
 * `batchItemFailures`, all but the listed ones otherwise, none when the handler throws or a
 * listed identifier is not one of the batch's ids (Lambda then fails the whole batch).
 * Failed messages stay hidden until their visibility timeout and are moved to the DLQ by the
 * queue's redrive policy after `maxReceiveCount` receives (the emulator does that).
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

/** What became of one invocation (for logs and tests). */
export interface InvocationOutcome {
  invocation: string;
  received: string[];
  deleted: string[];
  /** "ok" (response honoured), "threw" (whole batch kept), "killed" (abandoned: nothing deleted). */
  result: "ok" | "threw" | "killed";
  error?: string;
}

export type InvokeFn = (
  id: string,
  call: () => Promise<SQSBatchResponse | void>,
) => Promise<{ killed: boolean; result?: SQSBatchResponse | void; error?: unknown }>;

const plainInvoke: InvokeFn = (_id, call) =>
  call().then(
    (result) => ({ killed: false, result }),
    (error: unknown) => ({ killed: false, error: error ?? new Error("handler threw undefined") }),
  );

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  handler: SqsBatchHandler;
  batchSize: number;
  waitTimeSeconds: number;
  /** Concurrent invocations (Lambda's maximum concurrency for the mapping). */
  concurrency: number;
  /**
   * Runs one invocation; the default just calls it. The runtime wraps it to kill some
   * invocations mid-job ({ killed: true } → nothing is deleted, as when a worker dies).
   */
  invoke?: InvokeFn;
  /** Whether to deliver this message a second time, concurrently (at-least-once delivery). */
  duplicate?: (m: Message) => boolean;
  onOutcome?: (o: InvocationOutcome) => void;
  onError?: (e: unknown) => void;
}

export class SqsEventSourcePoller {
  private readonly opts: PollerOptions;
  private stopped = true;
  private loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private invocations = 0;
  /** Handler invocations running now. */
  busy = 0;
  /** When the last invocation ended (ms since the epoch). */
  lastActivity = Date.now();

  constructor(opts: PollerOptions) {
    this.opts = opts;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loops = Array.from({ length: Math.max(1, this.opts.concurrency) }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    const o = this.opts;
    while (!this.stopped) {
      let messages: Message[];
      try {
        const r = await o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: o.queueUrl,
            MaxNumberOfMessages: o.batchSize,
            WaitTimeSeconds: o.waitTimeSeconds,
            AttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = r.Messages ?? [];
      } catch (e) {
        if (this.stopped) return;
        o.onError?.(e);
        await sleep(500);
        continue;
      }
      if (messages.length === 0) continue;
      this.busy++;
      try {
        const dups = o.duplicate ? messages.filter((m) => o.duplicate!(m)) : [];
        await Promise.all([this.invoke(messages), ...dups.map((m) => this.invoke([m]))]);
      } finally {
        this.busy--;
        this.lastActivity = Date.now();
      }
    }
  }

  /** One handler invocation over `messages`, then the deletes Lambda would do. */
  private async invoke(messages: Message[]): Promise<void> {
    const o = this.opts;
    const id = `invocation-${++this.invocations}`;
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, o.queueArn, o.region)) };
    const call = () => o.handler(event, lambdaContext(id));
    const run = o.invoke ?? plainInvoke;
    const r = await run(id, call);
    const ids = event.Records.map((x) => x.messageId);
    const outcome: InvocationOutcome = {
      invocation: id,
      received: ids,
      deleted: [],
      result: r.killed ? "killed" : r.error !== undefined ? "threw" : "ok",
    };
    if (r.error !== undefined) outcome.error = r.error instanceof Error ? r.error.message : String(r.error);
    if (outcome.result === "ok") {
      const failures = (r.result as SQSBatchResponse | undefined)?.batchItemFailures ?? [];
      const failed = new Set(failures.map((f) => f.itemIdentifier));
      // An empty or unknown identifier fails the whole batch, as Lambda has it.
      const invalid = failures.some((f) => !f.itemIdentifier || !ids.includes(f.itemIdentifier));
      if (!invalid) {
        for (const rec of event.Records) {
          if (failed.has(rec.messageId)) continue;
          try {
            await o.sqs.send(new DeleteMessageCommand({ QueueUrl: o.queueUrl, ReceiptHandle: rec.receiptHandle }));
            outcome.deleted.push(rec.messageId);
          } catch (e) {
            o.onError?.(e); // the message comes back: handlers are idempotent
          }
        }
      }
    }
    o.onOutcome?.(outcome);
  }
}

/** A received message as Lambda hands it to a function. */
export function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attrs: SQSMessageAttributes = {};
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) {
    attrs[k] = {
      dataType: v.DataType ?? "String",
      stringValue: v.StringValue,
      binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString("base64") : undefined,
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString("base64")),
    };
  }
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: attrs,
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The parts of a Lambda context a handler may look at. */
export function lambdaContext(requestId: string, timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "strata-worker-local",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:strata-worker-local",
    memoryLimitInMB: "3008",
    awsRequestId: requestId,
    logGroupName: "/aws/lambda/strata-worker-local",
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
