// `strata replay`: send job messages for blocks already in a bucket, or redrive dead letters.
// The SQS SDK is loaded by the command only (every other command's start-up stays light).
import type { SQSClient } from "@aws-sdk/client-sqs";
import { tenantFromName } from "@strata/bucket";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

const JOBS = ["verify", "compact", "downsample"] as const;

export const replayCommand: Command = {
  summary: "send verify/compact/downsample jobs for a bucket's blocks to the jobs queue, or redrive the DLQ",
  usage:
    "replay <bucket-url> [--tenant T] [--block ULID | --since TIME | --all] [--job verify|compact|downsample] [--queue URL] | replay --from-dlq [--dlq URL] [--queue URL]   (queues from STRATA_QUEUE_URL / STRATA_DLQ_URL; endpoint from AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL)",
  options: {
    tenant: { type: "string" },
    block: { type: "string" },
    since: { type: "string" },
    all: { type: "boolean" },
    job: { type: "string" },
    queue: { type: "string" },
    dlq: { type: "string" },
    "from-dlq": { type: "boolean" },
  },
  async run(positionals, values) {
    const queueUrl = (values.queue as string | undefined) ?? process.env.STRATA_QUEUE_URL;
    if (!queueUrl) throw new UsageError("the jobs queue is unknown: pass --queue URL or set STRATA_QUEUE_URL");
    const sdk = await import("@aws-sdk/client-sqs");
    const sqs = sqsClient(sdk);
    try {
      if (values["from-dlq"]) {
        if (positionals.length) throw new UsageError("--from-dlq takes no bucket URL");
        const dlq = (values.dlq as string | undefined) ?? process.env.STRATA_DLQ_URL;
        if (!dlq) throw new UsageError("the DLQ is unknown: pass --dlq URL or set STRATA_DLQ_URL");
        const n = await redrive(sdk, sqs, dlq, queueUrl);
        process.stdout.write(`redrove ${n} message(s) from ${dlq} to ${queueUrl}\n`);
        return 0;
      }
      const [url, ...extra] = positionals;
      if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
      if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      const job = (values.job as string | undefined) ?? "verify";
      if (!(JOBS as readonly string[]).includes(job))
        throw new UsageError(`--job: expected one of ${JOBS.join(", ")}, got ${JSON.stringify(job)}`);
      const selectors = [values.block !== undefined, values.since !== undefined, values.all === true].filter(
        Boolean,
      ).length;
      if (selectors !== 1) throw new UsageError("choose exactly one of --block ULID, --since TIME, --all");
      const since = values.since !== undefined ? parseSince(String(values.since)) : undefined;
      const store = await openBucketArg(url);
      try {
        const { replayJobs } = await import("@strata/pipeline/operations");
        const sent = await replayJobs(store, {
          tenant: tenantArg(values.tenant),
          block: values.block as string | undefined,
          since,
          job: job as (typeof JOBS)[number],
          send: async (body) =>
            void (await sqs.send(new sdk.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))),
        });
        for (const s of sent) process.stdout.write(`sent ${s}\n`);
        process.stdout.write(`${sent.length} job(s) sent to ${queueUrl}\n`);
        return 0;
      } finally {
        await store.close?.();
      }
    } finally {
      sqs.destroy();
    }
  },
};

/** `--tenant`: the root tenant's name (`__root__`) stands for the root tenant itself (""). */
export function tenantArg(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  return tenantFromName(String(v));
}

/** An ISO time or a duration ago ("6h", "2d"). */
export function parseSince(s: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(s);
  if (m) return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[m[2] as "s"];
  const t = Date.parse(s);
  if (Number.isNaN(t))
    throw new UsageError(`--since: expected an ISO time or a duration like 6h, got ${JSON.stringify(s)}`);
  return t;
}

type Sdk = typeof import("@aws-sdk/client-sqs");

/** With a custom endpoint (an emulator), the queue URL's host must not be used as the endpoint. */
function sqsClient(sdk: Sdk): SQSClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL;
  return new sdk.SQSClient(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {});
}

async function redrive(
  { ReceiveMessageCommand, SendMessageCommand, DeleteMessageCommand }: Sdk,
  sqs: SQSClient,
  from: string,
  to: string,
): Promise<number> {
  let n = 0;
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: from,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) return n;
    for (const m of msgs) {
      // Send first, delete second: a crash in between duplicates a message, never loses one.
      await sqs.send(
        new SendMessageCommand({ QueueUrl: to, MessageBody: m.Body ?? "", MessageAttributes: m.MessageAttributes }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: from, ReceiptHandle: m.ReceiptHandle! }));
      n++;
    }
  }
}
