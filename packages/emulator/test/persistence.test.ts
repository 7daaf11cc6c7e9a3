// The emulator with its data kept on disk (what `npm start` runs by default): a message made
// visible again by ChangeMessageVisibility 0 — `strata dlq list` does it after every look —
// stays on its queue, and is still there after a restart. fauxqs 2.4.1 lost it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "../src/index.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-emulator-persist-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withEmulator<T>(fn: (sqs: SQSClient, e: S3Emulator) => Promise<T>): Promise<T> {
  const e = await startS3Emulator({ dataDir: dir });
  const sqs = new SQSClient({ endpoint: e.endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  try {
    return await fn(sqs, e);
  } finally {
    sqs.destroy();
    await e.stop();
  }
}

const receive = async (sqs: SQSClient, QueueUrl: string) =>
  (
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30 }),
    )
  ).Messages ?? [];

describe("the emulator's SQS with its data on disk", () => {
  it("keeps a message made visible again, through looks and a restart", async () => {
    await withEmulator(async (sqs) => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "dead-letters" }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "a dead letter" }));
      for (let look = 0; look < 3; look++) {
        const got = await receive(sqs, QueueUrl!);
        expect(
          got.map((m) => m.Body),
          `look ${look}`,
        ).toEqual(["a dead letter"]);
        const r = await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl,
            Entries: [{ Id: "0", ReceiptHandle: got[0]!.ReceiptHandle!, VisibilityTimeout: 0 }],
          }),
        );
        expect(r.Failed ?? []).toEqual([]);
      }
    });
    await withEmulator(async (sqs) => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "dead-letters" }));
      expect((await receive(sqs, QueueUrl!)).map((m) => m.Body)).toEqual(["a dead letter"]);
    });
  });
});
