// `strata status` and `strata replay` (including --from-dlq) against a running local runtime
// that has settled a demo tenant. The commands run in-process through main() so the
// runtime's emulator endpoint and queues come in through the environment, as for a user.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  queueDepth,
  startLocalRuntime,
  uploadDemoBlocks,
  type LocalRuntime,
} from "@strata/local";
import { main } from "../src/main.ts";

let rt: LocalRuntime;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    workers: 2,
    scheduleIntervalMs: 0,
    settings: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 2, leaseTtlMs: 1_500, maxReceiveCount: 2 },
    log: (l) => lines.push(JSON.parse(l)),
  });
});
afterAll(async () => {
  await rt?.stop();
});

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return { code: await main(args), out };
  } finally {
    spy.mockRestore();
    process.env = saved;
  }
}

describe("strata status and replay against the local runtime", () => {
  it("`strata status` shows a settled demo tenant's blocks by level", async () => {
    const metas = await uploadDemoBlocks(rt.s3, { tenant: "demo", series: 30, now: Date.UTC(2026, 0, 2) });
    await rt.waitForIdle({ timeoutMs: 30_000 });
    // The state the status below describes: five uploads and one output indexed, four inputs marked.
    expect(lines.filter((l) => l.event === "block-indexed").length).toBe(6);
    expect(new Set(lines.filter((l) => l.event === "marked-for-deletion").map((l) => l.block))).toEqual(
      new Set(metas.slice(0, 4).map((m) => m.ulid)),
    );

    const env = {
      AWS_ENDPOINT_URL: rt.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
    };
    const st = await cli(["status", `s3://${rt.bucket}`, "--tenant", "demo"], env);
    expect(st.code).toBe(0);
    expect(st.out).toContain("demo: 2 live blocks, 4 marked for deletion, index");
    expect(st.out).toContain("level 1 raw: 1");
    expect(st.out).toContain("level 2 raw: 1");
    expect(st.out).toContain("quarantined: 0");
  });

  it("`strata replay` re-sends verify jobs, and --from-dlq redrives dead letters", async () => {
    const env = {
      AWS_ENDPOINT_URL: rt.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: "us-east-1",
      STRATA_QUEUE_URL: rt.queueUrl,
      STRATA_DLQ_URL: rt.dlqUrl,
    };
    const before = lines.filter((l) => l.event === "job-skipped" && l.job === "verify").length;
    const r = await cli(["replay", `s3://${rt.bucket}`, "--tenant", "demo", "--all"], env);
    expect(r.code).toBe(0);
    expect(r.out).toContain("6 job(s) sent");
    await rt.waitForIdle({ timeoutMs: 20_000 });
    // Four inputs are marked for deletion: their verify jobs are acknowledged as such.
    expect(lines.filter((l) => l.event === "job-skipped" && l.job === "verify").length - before).toBe(4);

    // A malformed message fails twice (maxReceiveCount 2) and is dead-lettered; redriven, it fails again.
    const sqs = new SQSClient({
      endpoint: rt.endpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      useQueueUrlAsEndpoint: false,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: rt.queueUrl, MessageBody: '{"hello":"world"}' }));
    await rt.waitForIdle({ timeoutMs: 20_000 });
    expect(await queueDepth(sqs, rt.dlqUrl)).toBe(1);
    expect(lines.filter((l) => l.event === "message-invalid")).toHaveLength(2);
    const d = await cli(["replay", "--from-dlq"], env);
    expect(d.out).toContain("redrove 1 message(s)");
    expect(await queueDepth(sqs, rt.dlqUrl)).toBe(0);
    await rt.waitForIdle({ timeoutMs: 20_000 });
    expect(lines.filter((l) => l.event === "message-invalid")).toHaveLength(4);
    sqs.destroy();
  });
});
