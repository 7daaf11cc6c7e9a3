// Shared by the `strata replay` and `strata dlq` tests: the emulator (S3 + SQS over the wire),
// a `file://` and an `s3://` bucket seeded with indexed blocks, queues with a real redrive
// policy, and `main()` run in-process with the environment a user would set.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vi } from "vitest";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { FsStore, openStore, type ObjectStore } from "@strata/bucket";
import type { BlockMeta } from "@strata/tsdb";
import { rebuildIndex } from "@strata/pipeline/operations";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startS3Emulator,
  uploadDemoBlocks,
  type S3Emulator,
} from "@strata/local";
import { writeLongBlock } from "@strata/testkit/pipeline";
import { main } from "../src/main.ts";

const HOUR = 3_600_000;

export interface TestBucket {
  kind: "file" | "s3";
  url: string;
  store: ObjectStore;
}

export interface Harness {
  emu: S3Emulator;
  sqs: SQSClient;
  buckets: TestBucket[];
  /** What a user sets to reach the emulator. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** The emulator, an SQS client on it, and two empty buckets: a directory and an emulated S3 bucket. */
export async function startHarness(name: string): Promise<Harness> {
  const emu = await startS3Emulator({ buckets: [name] });
  const client = { endpoint: emu.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  const sqs = new SQSClient({ ...client, useQueueUrlAsEndpoint: false });
  const dir = await mkdtemp(join(tmpdir(), `strata-${name}-`));
  const s3 = await openStore(`s3://${name}`, { clientConfig: { ...client, forcePathStyle: true } });
  return {
    emu,
    sqs,
    buckets: [
      { kind: "file", url: `file://${dir}`, store: new FsStore(dir) },
      { kind: "s3", url: `s3://${name}`, store: s3 },
    ],
    env: {
      AWS_ENDPOINT_URL: emu.endpoint,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_REGION: EMULATOR_REGION,
    },
    async close() {
      await s3.close?.();
      sqs.destroy();
      await emu.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Seeded {
  /** Five 2h blocks ending around now: the first four make a compaction. */
  demo: BlockMeta[];
  /** One 48h block: due for downsampling to 5m. */
  long: BlockMeta;
}

/** Writes and indexes (verified) the blocks of tenants `demo` and `long`. */
export async function seedBucket(store: ObjectStore): Promise<Seeded> {
  const now = Date.now();
  const demo = await uploadDemoBlocks(store, { tenant: "demo", series: 6, now });
  const long = await writeLongBlock(store, "long", now - 50 * HOUR);
  for (const t of ["demo", "long"]) {
    const r = await rebuildIndex(store, t);
    if (r.quarantined.length || r.incomplete.length) throw new Error(`fixture ${t}: ${JSON.stringify(r)}`);
  }
  return { demo, long };
}

/** A jobs queue and its DLQ; a message goes to the DLQ on its second receive (maxReceiveCount 1). */
export async function createQueues(
  sqs: SQSClient,
  endpoint: string,
  name: string,
): Promise<{ queue: string; dlq: string }> {
  const create = async (n: string, attributes: Record<string, string> = {}) => {
    const r = await sqs.send(new CreateQueueCommand({ QueueName: n, Attributes: attributes }));
    return r.QueueUrl!.replace(/^https?:\/\/[^/]+/, endpoint);
  };
  const dlq = await create(`${name}-dlq`);
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  const queue = await create(name, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: "1" }),
  });
  return { queue, dlq };
}

/** Every body on the queue, consumed. */
export async function drain(sqs: SQSClient, url: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) {
      out.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

/** Messages visible now, and in flight (received, hidden). */
export async function depth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number }> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Fails `body` on the jobs queue until SQS dead-letters it, as a failing worker would; returns its message id. */
export async function deadLetter(sqs: SQSClient, q: { queue: string; dlq: string }, body: string): Promise<string> {
  const sent = await sqs.send(new SendMessageCommand({ QueueUrl: q.queue, MessageBody: body }));
  // First receive: the worker fails it (visible again at once); the second moves it to the DLQ.
  for (let i = 0; i < 2; i++)
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.queue, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
  return sent.MessageId!;
}

/** `strata <args>` in-process, with `env` added to the environment; stdout and stderr captured. */
export async function cli(args: string[], env: Record<string, string | undefined>) {
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.env = saved;
  }
}
