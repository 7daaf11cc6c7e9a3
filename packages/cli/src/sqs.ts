// The jobs queue and its DLQ for `strata replay` and `strata dlq`: which queues (flags, then
// STRATA_QUEUE_URL / STRATA_DLQ_URL), the client (endpoint from AWS_ENDPOINT_URL_SQS /
// AWS_ENDPOINT_URL) and the few operations both commands use. The SDK is imported by
// `openSqs` only, when a command runs: loading it costs start-up every other command must not pay.
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import { UsageError } from "./command.ts";

type Sdk = typeof import("@aws-sdk/client-sqs");

export interface Sqs {
  sdk: Sdk;
  client: SQSClient;
}

/** The help text both commands give for their queue options. */
export const QUEUE_HELP = {
  queue: "the jobs queue's URL (default $STRATA_QUEUE_URL)",
  dlq: "the dead-letter queue's URL (default $STRATA_DLQ_URL)",
  env: "The SQS endpoint comes from AWS_ENDPOINT_URL_SQS or AWS_ENDPOINT_URL (for the local runtime: http://127.0.0.1:4566), credentials and region from the usual AWS variables (the region, when unset, from an AWS queue URL).",
} as const;

/** `--queue` / `--dlq`, or the environment; a usage error when neither names a well-formed URL. */
export function queueArg(values: Record<string, unknown>, which: "queue" | "dlq"): string {
  const env = which === "queue" ? "STRATA_QUEUE_URL" : "STRATA_DLQ_URL";
  const url = (values[which] as string | undefined) ?? process.env[env];
  const name = which === "queue" ? "the jobs queue" : "the DLQ";
  if (!url) throw new UsageError(`${name} is unknown: pass --${which} URL or set ${env}`);
  let u: URL | undefined;
  try {
    u = new URL(url);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== "https:" && u.protocol !== "http:") || u.pathname.split("/").filter(Boolean).length < 2)
    throw new UsageError(
      `--${which}: expected a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), got ${JSON.stringify(url)}`,
    );
  return url;
}

/**
 * A client (the caller destroys it); with a custom endpoint (an emulator) the queue URL's host
 * is not used as the endpoint.
 */
export async function openSqs(queueUrl: string): Promise<Sqs> {
  const sdk = await import("@aws-sdk/client-sqs");
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  const region =
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    /^sqs\.([a-z0-9-]+)\.amazonaws\.com$/.exec(new URL(queueUrl).hostname)?.[1];
  const client = new sdk.SQSClient({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {}),
  });
  return { sdk, client };
}

/**
 * An SQS failure a person can act on (no such queue, no credentials, nothing listening), as
 * one line; undefined for anything else (a bug, reported with its stack).
 */
export function sqsProblem(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  const service = "$metadata" in e || "$fault" in e;
  const environment =
    e.name === "CredentialsProviderError" ||
    /region is missing/i.test(e.message) ||
    (typeof code === "string" && ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"].includes(code));
  if (!service && !environment) return undefined;
  return `SQS: ${e.name === "Error" ? "" : `${e.name}: `}${e.message.split("\n")[0]}`;
}

export async function sendBody(sqs: Sqs, queueUrl: string, body: string): Promise<void> {
  await sqs.client.send(new sqs.sdk.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** A message as received, with SQS's attributes (receive count, first receive, sent time). */
export type Received = Message & { MessageId: string; ReceiptHandle: string };

/** How long a look hides the messages it received, at most (they are made visible again at once after it). */
const PEEK_VISIBILITY_SECONDS = 30;

/**
 * Receives up to `max` distinct messages, hidden for a short while (a message seen twice keeps
 * its newest receipt). The caller acts on some and must `release` the rest.
 */
async function receiveUpTo(sqs: Sqs, url: string, max: number): Promise<Map<string, Received>> {
  const got = new Map<string, Received>();
  while (got.size < max) {
    const r = await sqs.client.send(
      new sqs.sdk.ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, max - got.size),
        WaitTimeSeconds: 1,
        VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const msgs = (r.Messages ?? []).filter((m): m is Received => !!m.MessageId && !!m.ReceiptHandle);
    const fresh = msgs.filter((m) => !got.has(m.MessageId)).length;
    for (const m of msgs) got.set(m.MessageId, m);
    if (fresh === 0) break;
  }
  return got;
}

/** Makes the messages visible again now (ChangeMessageVisibility 0), ten per call. */
async function release(sqs: Sqs, url: string, msgs: readonly Received[]): Promise<void> {
  for (let i = 0; i < msgs.length; i += 10) {
    await sqs.client.send(
      new sqs.sdk.ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: msgs.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/**
 * Up to `max` messages of the queue, without consuming them: received with a short visibility
 * timeout, then made visible again at once. SQS counts the look as a receive.
 */
export async function peek(sqs: Sqs, url: string, max: number): Promise<Received[]> {
  const got = [...(await receiveUpTo(sqs, url, max)).values()];
  await release(sqs, url, got);
  return got;
}

/** Moves one message: sent to `to` first, deleted from `from` second (a crash duplicates it, never loses it). */
async function move(sqs: Sqs, m: Received, from: string, to: string): Promise<void> {
  await sqs.client.send(
    new sqs.sdk.SendMessageCommand({ QueueUrl: to, MessageBody: m.Body ?? "", MessageAttributes: m.MessageAttributes }),
  );
  await sqs.client.send(new sqs.sdk.DeleteMessageCommand({ QueueUrl: from, ReceiptHandle: m.ReceiptHandle }));
}

/**
 * Moves messages from `from` (the DLQ) back to `to` (the jobs queue), bodies and attributes
 * as they are. Without `ids`: every message (at most `max`), until a receive finds none. With
 * `ids`: those only, looked for among up to `max` messages; when one is not found nothing is
 * moved and the others are made visible again.
 */
export async function redrive(
  sqs: Sqs,
  from: string,
  to: string,
  opts: { ids?: readonly string[]; max?: number } = {},
): Promise<{ moved: string[] } | { missing: string[]; looked: number }> {
  const max = opts.max ?? Number.POSITIVE_INFINITY;
  if (opts.ids === undefined) {
    const moved: string[] = [];
    while (moved.length < max) {
      const r = await sqs.client.send(
        new sqs.sdk.ReceiveMessageCommand({
          QueueUrl: from,
          MaxNumberOfMessages: Math.min(10, max - moved.length),
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
        }),
      );
      const msgs = (r.Messages ?? []).filter((m): m is Received => !!m.MessageId && !!m.ReceiptHandle);
      if (msgs.length === 0) break;
      for (const m of msgs) {
        await move(sqs, m, from, to);
        moved.push(m.MessageId);
      }
    }
    return { moved };
  }
  const got = await receiveUpTo(sqs, from, Number.isFinite(max) ? max : 1000);
  const missing = opts.ids.filter((id) => !got.has(id));
  const chosen = new Set(missing.length ? [] : opts.ids);
  try {
    for (const id of chosen) await move(sqs, got.get(id)!, from, to);
  } finally {
    await release(
      sqs,
      from,
      [...got.values()].filter((m) => !chosen.has(m.MessageId)),
    );
  }
  return missing.length ? { missing, looked: got.size } : { moved: [...chosen] };
}
