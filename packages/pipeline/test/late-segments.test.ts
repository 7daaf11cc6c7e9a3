// An upload in any order (`aws s3 cp --recursive`): meta.json and the index have landed, a chunk
// segment has not. Through the real bindings over a directory bucket:
//  - a segment that lands while the block is being verified makes the verdict "upload in
//    progress" (the job asks again shortly), not a quarantine;
//  - a segment that lands after the verdict (the block quarantined as broken) brings the block
//    back: the index re-sync sends it to verification, which indexes it and lifts the quarantine.
// Before, the block stayed quarantined for good: nothing verified it again.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BucketIndexUpdater, FsStore, type ObjectStore } from "@strata/bucket";
import { bindPipeline, handleRecord, jsonLogger, pipelineLayout, type Job, type WorkerDeps } from "@strata/pipeline";
import { writeStoreBlock } from "./store-blocks.ts";

const T0 = Date.UTC(2026, 0, 1);
const layout = pipelineLayout();
let dir: string;
let store: FsStore;
const sent: Job[] = [];
const lines: Record<string, unknown>[] = [];
/** Runs once when the verifier first reads a block's index (a file landing mid-verification). */
let onIndexRead: (() => Promise<void>) | undefined;
let deps: WorkerDeps;

const run = (job: Job, messageId: string) => handleRecord(JSON.stringify(job), deps, { messageId });
const indexed = async (tenant: string) =>
  (await new BucketIndexUpdater(store, { layout }).read(tenant))?.index.blocks.map((b) => b.block_id) ?? [];

/** A block of three segments whose second has not landed yet; returns it and a way to land it. */
async function lateSegmentBlock(tenant: string, seed: number) {
  const m = await writeStoreBlock(store, tenant, T0, seed, { cluster: "a" }, { segmentSize: 1024 });
  const key = layout.blockFile(tenant, m.ulid, "chunks/000002");
  const bytes = (await store.get(key))!.body;
  expect(await store.head(layout.blockFile(tenant, m.ulid, "chunks/000003"))).toBeDefined();
  await store.delete(key);
  return { block: m.ulid, land: async () => void (await store.put(key, bytes)) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-late-segments-"));
  store = new FsStore(dir);
  const watched: ObjectStore = Object.create(store);
  watched.get = async (key, range) => {
    if (onIndexRead && key.endsWith("/index")) {
      const f = onIndexRead;
      onIndexRead = undefined;
      await f();
    }
    return store.get(key, range);
  };
  deps = bindPipeline({
    store: watched,
    queue: { send: async (j) => void sent.push(j) },
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a chunk segment that lands after meta.json", () => {
  it("while the block is verified: no verdict, the job asks again", async () => {
    const b = await lateSegmentBlock("team-l1", 1);
    onIndexRead = b.land;
    sent.length = 0;
    const r = await run({ version: 1, type: "verify", tenant: "team-l1", block: b.block }, "v1");
    expect(r.results[0]!.status).not.toBe("quarantined");
    expect(r.results[0]!.reason).toMatch(/files changed while it was verified/);
    expect(sent).toMatchObject([{ type: "verify", block: b.block, retry: 1 }]);
    expect(await store.head(layout.blockFile("team-l1", b.block, "no-compact-mark.json"))).toBeUndefined();

    // The re-sent job finds the whole block and indexes it.
    expect((await run(sent[0]!, "v2")).results[0]!.status).toBe("done");
    expect(await indexed("team-l1")).toEqual([b.block]);
  });

  it("after its verdict: the re-sync sends the quarantined block to verification again, which admits it", async () => {
    const b = await lateSegmentBlock("team-l2", 2);
    const first = await run({ version: 1, type: "verify", tenant: "team-l2", block: b.block }, "v3");
    expect(first.results[0]!.status).toBe("quarantined");
    expect(await indexed("team-l2")).toEqual([]);

    // Nothing changed: the re-sync leaves the quarantine alone.
    sent.length = 0;
    await run({ version: 1, type: "index-sync", tenant: "team-l2" }, "s1");
    expect(sent.filter((j) => j.type === "verify")).toEqual([]);

    await new Promise((r) => setTimeout(r, 20)); // the segment's time is after the report's
    await b.land();
    sent.length = 0;
    await run({ version: 1, type: "index-sync", tenant: "team-l2" }, "s2");
    const again = sent.filter((j) => j.type === "verify");
    expect(again).toEqual([{ version: 1, type: "verify", tenant: "team-l2", block: b.block }]);
    expect((await run(again[0]!, "v4")).results[0]!.status).toBe("done");
    expect(await indexed("team-l2")).toEqual([b.block]);
    expect(await store.head(layout.blockFile("team-l2", b.block, "no-compact-mark.json"))).toBeUndefined();
    expect(lines.some((l) => l.event === "quarantine-lifted" && l.block === b.block)).toBe(true);
  });
});
