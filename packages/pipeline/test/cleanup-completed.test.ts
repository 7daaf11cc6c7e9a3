// Cleanup's abandoned-upload mark is a guess from a directory without meta.json; through the
// real bindings over a directory bucket, a directory whose meta.json came after the mark (a
// writer still at work when a clock ahead of the store's called it abandoned) is a block:
// cleanup keeps it, removes both copies of its mark and sends it to verification, which
// indexes it. Before, cleanup deleted it after the delete delay, block and all.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BucketIndexUpdater, FsStore, listAll } from "@strata/bucket";
import { bindPipeline, handleRecord, jsonLogger, pipelineLayout, type Job, type WorkerDeps } from "@strata/pipeline";
import { HOUR, writeStoreBlock } from "./store-blocks.ts";

const DAY = 24 * HOUR;
const TENANT = "team-c";
const layout = pipelineLayout();
let dir: string;
let store: FsStore;
const sent: Job[] = [];
const lines: Record<string, unknown>[] = [];
let now = Date.now() + 3 * DAY; // ahead of the store's clock, past the partial-upload age (2d)
let deps: WorkerDeps;

const run = (job: Job, messageId: string) => handleRecord(JSON.stringify(job), deps, { messageId });
const keys = async (prefix: string) => {
  const out: string[] = [];
  for await (const o of listAll(store, prefix)) out.push(o.key);
  return out;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-cleanup-completed-"));
  store = new FsStore(dir);
  deps = bindPipeline({
    store,
    queue: { send: async (j) => void sent.push(j) },
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
    clock: { now: () => now },
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("cleanup and an upload that completes after it was called abandoned", () => {
  it("keeps the block, removes its mark and sends it to verification instead of deleting it", async () => {
    const m = await writeStoreBlock(store, TENANT, Date.UTC(2026, 0, 1), 1);
    const metaKey = layout.metaKey(TENANT, m.ulid);
    const meta = (await store.get(metaKey))!.body;
    await store.delete(metaKey); // its writer has not stored meta.json yet

    expect((await run({ version: 1, type: "cleanup", tenant: TENANT }, "c1")).results[0]!.status).toBe("done");
    expect(await keys(`${TENANT}/`)).toContain(layout.blockFile(TENANT, m.ulid, "deletion-mark.json"));

    await store.put(metaKey, meta); // the writer finishes
    now += 3 * DAY; // past the delete delay
    sent.length = 0;
    expect((await run({ version: 1, type: "cleanup", tenant: TENANT }, "c2")).results[0]!.status).toBe("done");
    const left = await keys(`${TENANT}/`);
    expect(left).toContain(metaKey);
    expect(left).toContain(layout.blockFile(TENANT, m.ulid, "index"));
    expect(left.filter((k) => k.includes("deletion-mark"))).toEqual([]); // both copies gone
    expect(sent).toEqual([{ version: 1, type: "verify", tenant: TENANT, block: m.ulid }]);
    expect(lines.find((l) => l.event === "abandoned-upload-completed")).toMatchObject({ blocks: [m.ulid] });

    // Its verification admits it.
    expect((await run(sent[0]!, "v1")).results[0]!.status).toBe("done");
    const idx = await new BucketIndexUpdater(store, { layout }).read(TENANT);
    expect(idx?.index.blocks.map((b) => b.block_id)).toEqual([m.ulid]);
  });
});
