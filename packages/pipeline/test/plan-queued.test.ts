// The "already queued" note of planning, through the real bindings over a directory bucket: a
// plan whose send never reached the queue (the worker died, SQS refused it) must not leave a
// note that holds the compaction back; a plan that did send it is not sent again until the
// job starts. Found by the lifecycle test with faults on, whose clock stands still: a worker
// killed between the note and the send left life-a without its 14d compaction.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { bindPipeline, handleRecord, jsonLogger, type Job, type WorkerDeps } from "@strata/pipeline";
import { HOUR, writeStoreBlock } from "./store-blocks.ts";

const T0 = Date.UTC(2026, 0, 1);
const TENANT = "team-q";
let dir: string;
let store: FsStore;
const sent: Job[] = [];
const lines: Record<string, unknown>[] = [];
let failSends = 0;
let deps: WorkerDeps;

const run = (job: Job, messageId: string) => handleRecord(JSON.stringify(job), deps, { messageId });
const planned = () => lines.filter((l) => l.event === "planned").at(-1);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-queued-"));
  store = new FsStore(dir);
  const now = T0 + 30 * HOUR;
  deps = bindPipeline({
    store,
    queue: {
      send: async (j) => {
        if (failSends > 0) {
          failSends--;
          throw new Error("queue unavailable (test)");
        }
        sent.push(j);
      },
    },
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
    clock: { now: () => now },
  });
  // Five 2h blocks (an 8h window and the newest, held back), indexed by their verify jobs with sends failing, so no
  // compaction is on the queue yet.
  failSends = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const m = await writeStoreBlock(store, TENANT, T0 + 2 * i * HOUR, i + 1);
    // The last one completes the window and fails on its send (and is left to SQS to redeliver).
    await run({ version: 1, type: "verify", tenant: TENANT, block: m.ulid }, `verify-${i}`).catch(() => undefined);
  }
  failSends = 0;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("planning's queued note", () => {
  it("is written only once the compaction was sent, so a failed send is sent again by the next plan", async () => {
    sent.length = 0;
    failSends = 100; // every attempt of the batched sender fails
    await expect(run({ version: 1, type: "plan", tenant: TENANT }, "plan-1")).rejects.toThrow(/not sent to the queue/);
    expect(sent).toEqual([]);

    // The redelivered (or any later) plan sends the compaction: no note claims it is queued.
    failSends = 0;
    expect((await run({ version: 1, type: "plan", tenant: TENANT }, "plan-1")).results[0]!.status).toBe("done");
    expect(planned()).toMatchObject({ compactions: 1, alreadyQueued: 0 });
    expect(sent.map((j) => j.type)).toEqual(["compact"]);

    // Sent: a further plan trusts the note and does not send it again.
    expect((await run({ version: 1, type: "plan", tenant: TENANT }, "plan-2")).results[0]!.status).toBe("done");
    expect(planned()).toMatchObject({ compactions: 1, alreadyQueued: 1 });
    expect(sent.map((j) => j.type)).toEqual(["compact"]);
  });
});
