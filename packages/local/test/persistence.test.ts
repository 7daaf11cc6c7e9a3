// The local runtime keeps its data: blocks, marks, the bucket index and pending (here
// dead-lettered) messages survive a stop and a start on the same data directory, and the
// restarted pipeline neither redoes nor loses work.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { listAll } from "@strata/bucket";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  queueDepth,
  startLocalRuntime,
  uploadDemoBlocks,
  type LocalRuntime,
} from "../src/index.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function start(dataDir: string, lines: Record<string, unknown>[]): Promise<LocalRuntime> {
  return startLocalRuntime({
    port: 0,
    workers: 2,
    scheduleIntervalMs: 0,
    dataDir,
    settings: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, leaseTtlMs: 1_500, maxReceiveCount: 2 },
    log: (l) => lines.push(JSON.parse(l)),
  });
}

async function snapshot(rt: LocalRuntime): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const o of listAll(rt.s3, "")) out.set(o.key, o.size);
  return out;
}

async function dlqDepth(rt: LocalRuntime): Promise<number> {
  const sqs = new SQSClient({
    endpoint: rt.endpoint,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  try {
    return await queueDepth(sqs, rt.dlqUrl);
  } finally {
    sqs.destroy();
  }
}

describe("local runtime with a data directory", () => {
  it("keeps blocks, marks, the bucket index and dead letters across a restart, and redoes nothing", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "strata-local-data-"));
    dirs.push(dataDir);

    const first: Record<string, unknown>[] = [];
    let rt = await start(dataDir, first);
    let before: Map<string, number>;
    try {
      expect(rt.dataDir).toBe(dataDir);
      const metas = await uploadDemoBlocks(rt.s3, { tenant: "demo", series: 30, now: Date.UTC(2026, 0, 2) });
      const sqs = new SQSClient({
        endpoint: rt.endpoint,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
        useQueueUrlAsEndpoint: false,
      });
      await sqs.send(new SendMessageCommand({ QueueUrl: rt.queueUrl, MessageBody: '{"hello":"world"}' }));
      sqs.destroy();
      await rt.waitForIdle({ timeoutMs: 30_000 });
      expect(first.filter((l) => l.event === "block-indexed")).toHaveLength(6);
      expect(await dlqDepth(rt)).toBe(1);
      before = await snapshot(rt);
      const keys = [...before.keys()];
      expect(keys.some((k) => k.startsWith("demo/bucket-index"))).toBe(true);
      for (const m of metas.slice(0, 4)) expect(before.has(`demo/${m.ulid}/deletion-mark.json`)).toBe(true);
    } finally {
      await rt.stop();
    }

    const second: Record<string, unknown>[] = [];
    rt = await start(dataDir, second);
    try {
      await rt.waitForIdle({ timeoutMs: 30_000 });
      expect(await snapshot(rt)).toEqual(before);
      expect(await dlqDepth(rt)).toBe(1);
      // The schedule's re-sync over the kept bucket finds nothing to do.
      await rt.runScheduled();
      await rt.waitForIdle({ timeoutMs: 30_000 });
      const redone = second.filter((l) =>
        ["block-indexed", "compacted", "marked-for-deletion", "block-quarantined"].includes(String(l.event)),
      );
      expect(redone).toEqual([]);
      expect([...(await snapshot(rt)).keys()].sort()).toEqual([...before.keys()].sort());
    } finally {
      await rt.stop();
    }
  }, 120_000);
});
