/**
 * The hourly schedule at 10,000 tenants, over the wire: the deployed scheduled handler against
 * the emulator's SQS, then the worker's handler (createWorkerHandler over the real bindings and
 * Lambda's SQS adapter) running each schedule-page message it finds on the queue. Every tenant
 * gets its retention, cleanup and index-sync exactly once; the scheduled function makes one
 * SQS call; each page one listing, at most 300 SendMessageBatch calls and one SendMessage.
 * Also over the wire: S3 continuation tokens across pages, SQS's per-entry failures (reported,
 * not dropped) and a failed batch call (retried).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore, type ObjectStore } from "@strata/bucket";
import { S3Store } from "@strata/bucket/s3";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startS3Emulator, type S3Emulator } from "@strata/emulator";
import {
  JOB_MESSAGE_VERSION,
  QueueSendError,
  SCHEDULED_TENANT_JOBS,
  StoreStorage,
  bindPipeline,
  jobTenant,
  jsonLogger,
  parseQueueBody,
  pipelineLayout,
  sendJobs,
  type Job,
  type WorkerDeps,
} from "@strata/pipeline";
import { createWorkerHandler, scheduledHandler, sqsJobQueue } from "../src/index.ts";

const BUCKET = "fanout-blocks";
const TENANTS = 10_000;
let emu: S3Emulator;
let sqs: SQSClient;
/** SQS calls by command name, made by the clients built here (the worker's adapter). */
const calls = new Map<string, number>();
let dir: string;
const saved = { ...process.env };
const context = { functionName: "strata-test", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

/** `direct`: to fauxqs itself, not through the S3 proxy (which SQS only passes through): less CPU for 3,000 calls. */
function countingSqs(direct = false): SQSClient {
  const client = new SQSClient({
    endpoint: direct ? emu.rawEndpoint : emu.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  client.middlewareStack.add(
    (next, ctx) => (args) => {
      calls.set(ctx.commandName ?? "?", (calls.get(ctx.commandName ?? "?") ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCalls" },
  );
  return client;
}

async function createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return QueueUrl!.replace(/^https?:\/\/[^/]+/, emu.endpoint);
}

/**
 * Every message now on the queue, 10 a call, a few calls in flight (not deleted: hidden for 10
 * minutes). Read back straight from fauxqs in SQS's JSON protocol: the test's reading is not
 * what is measured, and the SDK's signing of 3,000 receives would double the test's time.
 */
async function receiveAll(url: string): Promise<Message[]> {
  const out: Message[] = [];
  let empty = false;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (!empty) {
        const r = await fetch(emu.rawEndpoint, {
          method: "POST",
          headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.ReceiveMessage" },
          body: JSON.stringify({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
        });
        if (!r.ok) throw new Error(`ReceiveMessage: HTTP ${r.status} ${await r.text()}`);
        const got = ((await r.json()) as { Messages?: Message[] }).Messages ?? [];
        if (got.length === 0) {
          empty = true;
          break;
        }
        out.push(...got);
      }
    }),
  );
  return out;
}

function jobOf(m: Message): Job {
  const p = parseQueueBody(m.Body!);
  if (p.kind !== "job") throw new Error(`not a job: ${m.Body}`);
  return p.job;
}

function pageEvent(m: Message): SQSEvent {
  return {
    Records: [
      {
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(Date.now()),
          SenderId: "test",
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:strata-jobs",
        awsRegion: EMULATOR_REGION,
      },
    ],
  };
}

interface Run {
  /** tenant → the job types it got. */
  tenants: Map<string, string[]>;
  pages: number;
  /** Per page: wall time (ms) and SQS calls by command. */
  perPage: { ms: number; batch: number; send: number }[];
}

/** Runs the worker on each schedule-page message found on the queue until none is left. */
async function runPages(deps: WorkerDeps, url: string): Promise<Run> {
  const handler = createWorkerHandler(deps);
  const run: Run = { tenants: new Map(), pages: 0, perPage: [] };
  for (;;) {
    const msgs = await receiveAll(url);
    const pages = msgs.filter((m) => jobOf(m).type === "schedule-page");
    for (const m of msgs) {
      const j = jobOf(m);
      if (j.type === "schedule-page") continue;
      const t = jobTenant(j)!;
      run.tenants.set(t, [...(run.tenants.get(t) ?? []), j.type]);
    }
    if (pages.length === 0) return run;
    for (const m of pages) {
      const before = { batch: calls.get("SendMessageBatchCommand") ?? 0, send: calls.get("SendMessageCommand") ?? 0 };
      const t0 = performance.now();
      expect(await handler(pageEvent(m), context)).toEqual({ batchItemFailures: [] });
      run.perPage.push({
        ms: performance.now() - t0,
        batch: (calls.get("SendMessageBatchCommand") ?? 0) - before.batch,
        send: (calls.get("SendMessageCommand") ?? 0) - before.send,
      });
      run.pages++;
    }
  }
}

function workerDeps(store: ObjectStore, url: string, client: SQSClient): WorkerDeps {
  return bindPipeline({ store, queue: sqsJobQueue(client, url), log: jsonLogger(() => undefined), overrides: false });
}

beforeAll(async () => {
  emu = await startS3Emulator({ buckets: [BUCKET] });
  sqs = new SQSClient({
    endpoint: emu.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  // 10k small files: in memory where the machine has a tmpfs, so a busy disk does not set the pace.
  dir = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "strata-fanout-"));
});
afterAll(async () => {
  process.env = saved;
  sqs?.destroy();
  await emu?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("the schedule's fan-out over the wire", () => {
  it("visits each of 10,000 tenants once a run: one call from the scheduled function, bounded work per page", async () => {
    const tSetup = performance.now();
    // 10k tenants as listTenants finds them: one object under each top-level folder, written
    // straight into the directory FsStore serves (its put is atomic, and 10k of them slow).
    const names = Array.from({ length: TENANTS }, (_, i) => `tenant-${String(i).padStart(5, "0")}`);
    for (const t of names) {
      mkdirSync(join(dir, t));
      writeFileSync(join(dir, t, "bucket-index.json.gz"), "x");
    }
    const store = new FsStore(dir);
    expect((await store.list(`${names[9_999]}/`)).objects.map((o) => o.key)).toEqual([
      `${names[9_999]}/bucket-index.json.gz`,
    ]);
    const url = await createQueue("strata-jobs-10k");
    const setupMs = performance.now() - tSetup;

    // The deployed scheduled function: one SendMessage, whatever the tenant count.
    Object.assign(process.env, emu.env(), {
      AWS_ENDPOINT_URL_SQS: emu.endpoint,
      STRATA_BUCKET: BUCKET,
      STRATA_QUEUE_URL: url,
    });
    const forwarded = emu.proxy.stats.forwarded;
    const t0 = performance.now();
    const outcome = await scheduledHandler({}, context);
    const scheduledMs = performance.now() - t0;
    expect(outcome).toEqual({ enqueued: 1, run: expect.stringMatching(/^schedule-/) });
    expect(emu.proxy.stats.forwarded - forwarded).toBe(1);
    expect(scheduledMs).toBeLessThan(5_000);

    const client = countingSqs(true);
    try {
      const t1 = performance.now();
      const run = await runPages(workerDeps(store, url, client), url);
      const pagesMs = performance.now() - t1;
      // Every tenant, each of its three jobs exactly once.
      expect(run.tenants.size).toBe(TENANTS);
      const want = [...SCHEDULED_TENANT_JOBS].sort().join(",");
      const wrong = names.filter((t) => run.tenants.get(t)?.sort().join(",") !== want);
      expect(wrong).toEqual([]);
      // ⌈10,000 / 1,000⌉ pages; 3,000 jobs a page in 300 batches; 9 next-page sends.
      expect(run.pages).toBe(10);
      expect(calls.get("SendMessageBatchCommand")).toBe((TENANTS * 3) / 10);
      expect(calls.get("SendMessageCommand")).toBe(9);
      for (const p of run.perPage) {
        expect(p.batch).toBeLessThanOrEqual(300);
        expect(p.send).toBeLessThanOrEqual(1);
      }
      const ms = run.perPage.map((p) => p.ms).sort((a, b) => a - b);
      console.log(
        `schedule fan-out, ${TENANTS} tenants (set up in ${setupMs.toFixed(0)} ms): scheduled function ${scheduledMs.toFixed(0)} ms (1 SQS call); ` +
          `${run.pages} pages in ${pagesMs.toFixed(0)} ms incl. receiving, per page median ${ms[ms.length >> 1]!.toFixed(0)} ms, ` +
          `max ${ms[ms.length - 1]!.toFixed(0)} ms, sum ${ms.reduce((a, b) => a + b, 0).toFixed(0)} ms; ${calls.get("SendMessageBatchCommand")} SendMessageBatch calls`,
      );
    } finally {
      client.destroy();
    }
  }, 60_000);

  it("follows S3's continuation tokens across pages, the root tenant once", async () => {
    const s3 = new S3Store({
      bucket: BUCKET,
      clientConfig: {
        endpoint: emu.endpoint,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
        forcePathStyle: true,
      },
    });
    const tenants = Array.from({ length: 25 }, (_, i) => `team-${String(i).padStart(2, "0")}`);
    for (const t of tenants) await s3.put(`${t}/bucket-index.json.gz`, "x");
    // Root-tenant blocks: ULID folders among the tenant folders, spanning pages of 10.
    for (const id of ["01KA0000000000000000000001", "01KA0000000000000000000002", "01KA0000000000000000000003"])
      await s3.put(`${id}/meta.json`, "{}");
    const url = await createQueue("strata-jobs-s3");
    const client = countingSqs();
    try {
      const deps = workerDeps(s3, url, client);
      deps.storage = new StoreStorage(s3, pipelineLayout(), { tenantPageSize: 10 });
      await deps.queue.send({ version: JOB_MESSAGE_VERSION, type: "schedule-page", page: 0 });
      const run = await runPages(deps, url);
      expect(run.pages).toBe(3); // 28 top-level folders, 10 a page
      expect([...run.tenants.keys()].sort()).toEqual(["", ...tenants]);
      for (const types of run.tenants.values()) expect(types.sort()).toEqual([...SCHEDULED_TENANT_JOBS].sort());
    } finally {
      client.destroy();
      await s3.close();
    }
  });

  it("reports an entry SQS refuses, sends the rest, and retries a failed call", async () => {
    // SQS's smallest message size: a plan job with a long group key is refused (a sender fault).
    const url = await createQueue("strata-jobs-small", { MaximumMessageSize: "1024" });
    const client = countingSqs();
    try {
      const queue = sqsJobQueue(client, url);
      const jobs: Job[] = Array.from({ length: 20 }, (_, i) => ({
        version: JOB_MESSAGE_VERSION,
        type: "index-sync",
        tenant: `t${i}`,
      }));
      const big: Job = { version: JOB_MESSAGE_VERSION, type: "plan", tenant: "t7", groupKey: "g".repeat(2000) };
      const err = await sendJobs(queue, [...jobs.slice(0, 5), big, ...jobs.slice(5)], { backoffMs: 1 }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(QueueSendError);
      const e = err as QueueSendError;
      expect(e.sent).toBe(20);
      expect(e.unsent).toEqual([
        { job: big, code: "InvalidParameterValue", message: expect.stringContaining("1024"), senderFault: true },
      ]);
      expect(
        (await receiveAll(url))
          .map((m) => jobTenant(jobOf(m)))
          .sort((a, b) => Number(a!.slice(1)) - Number(b!.slice(1))),
      ).toEqual(jobs.map((j) => jobTenant(j)));

      // Three answers of 503 in a row outlast the SDK's own three attempts; sendJobs sends the batch again.
      emu.proxy.injectFault({ method: "POST", path: /^\/$/, status: 503, code: "ServiceUnavailable", count: 3 });
      expect(await sendJobs(queue, jobs.slice(0, 10), { backoffMs: 1 })).toEqual({ sent: 10, calls: 2, retried: 10 });
      expect(await receiveAll(url)).toHaveLength(10);
    } finally {
      emu.proxy.clearFaults();
      client.destroy();
    }
  });
});
