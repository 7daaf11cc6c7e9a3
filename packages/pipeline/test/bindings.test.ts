// The real bindings over a directory bucket (FsStore): a verify job on a good block indexes
// it, on a corrupted one quarantines it with a report and mirrored marks; a compaction job
// writes the output, indexes it, then marks its inputs.
import { mkdtemp, rm, readFile, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@strata/bucket";
import { StoreBlockSource } from "@strata/bucket";
import { BlockReader, labelsToString, newUlid, parseMarker, type BlockMeta } from "@strata/tsdb";
import {
  bindPipeline,
  handleRecord,
  jsonLogger,
  pipelineLayout,
  QUARANTINE_REASON,
  VERIFY_REPORT_FILE,
  type Job,
  type WorkerDeps,
} from "@strata/pipeline";
import { bucketStatus } from "../src/status.ts";
import { writeStoreBlock } from "./store-blocks.ts";
import { replayJobs } from "../src/replay.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
let dir: string;
let store: FsStore;
const sent: Job[] = [];
const lines: Record<string, unknown>[] = [];
let deps: WorkerDeps;
const layout = pipelineLayout();

const writeBlock = (tenant: string, minT: number, seed: number, labels?: Record<string, string>): Promise<BlockMeta> =>
  writeStoreBlock(store, tenant, minT, seed, labels);

const run = (job: Job) => handleRecord(JSON.stringify(job), deps, { messageId: `m-${job.type}` });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-bindings-"));
  store = new FsStore(dir);
  deps = bindPipeline({
    store,
    queue: { send: async (j) => void sent.push(j) },
    log: jsonLogger((l) => lines.push(JSON.parse(l))),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("bindings over a directory bucket", () => {
  let good: BlockMeta[];
  it("verifies good blocks into the index and plans a compaction of a full 8h window", async () => {
    good = [];
    for (let i = 0; i < 5; i++) good.push(await writeBlock("team-a", T0 + 2 * i * HOUR, i + 1));
    for (const m of good)
      expect((await run({ version: 1, type: "verify", tenant: "team-a", block: m.ulid })).results[0]!.status).toBe(
        "done",
      );
    const live = await deps.index.blocks("team-a");
    expect(live.map((b) => b.meta.ulid).sort()).toEqual(good.map((m) => m.ulid).sort());
    expect(live[0]!.meta.compaction.sources).toHaveLength(1); // full metas, not index entries
    const compacts = sent.filter((j) => j.type === "compact");
    expect(compacts).toHaveLength(1);
    expect(compacts[0]!.type === "compact" && compacts[0]!.plan.inputs).toEqual(good.slice(0, 4).map((m) => m.ulid));
  });

  it("quarantines a corrupted block: report, no-compact mark next to it and in markers/, not indexed", async () => {
    const bad = await writeBlock("team-a", T0 + 10 * HOUR, 9);
    const seg = join(dir, "team-a", bad.ulid, "chunks", "000001");
    const bytes = await readFile(seg);
    bytes[200]! ^= 0xff;
    await writeFile(seg, bytes);
    const r = await run({ version: 1, type: "verify", tenant: "team-a", block: bad.ulid });
    expect(r.results[0]!.status).toBe("quarantined");
    const report = JSON.parse(await readFile(join(dir, "team-a", bad.ulid, VERIFY_REPORT_FILE), "utf8"));
    expect(report.ok).toBe(false);
    expect(report.problems.length).toBeGreaterThan(0);
    const mark = parseMarker(
      "no-compact-mark.json",
      await readFile(join(dir, "team-a", bad.ulid, "no-compact-mark.json")),
    );
    expect(mark.reason).toBe(QUARANTINE_REASON);
    expect(await readdir(join(dir, "team-a", "markers"))).toContain(`${bad.ulid}-no-compact-mark.json`);
    expect((await deps.index.blocks("team-a")).map((b) => b.meta.ulid)).not.toContain(bad.ulid);
    // A rebuild from a listing sees its meta.json but still leaves it out.
    await deps.index.rebuild("team-a");
    const rebuilt = (await deps.index.blocks("team-a")).map((b) => b.meta.ulid);
    expect(rebuilt).not.toContain(bad.ulid);
    expect(rebuilt).toHaveLength(5);
    const status = await bucketStatus(store, { tenant: "team-a" });
    expect(status[0]!.quarantined.map((q) => q.block)).toEqual([bad.ulid]);
  });

  it("a retried verify finishes a quarantine whose global mirror a crash left unwritten", async () => {
    const bad = await writeBlock("team-a", T0 + 12 * HOUR, 11);
    const seg = join(dir, "team-a", bad.ulid, "chunks", "000001");
    const bytes = await readFile(seg);
    bytes[200]! ^= 0xff;
    await writeFile(seg, bytes);
    expect((await run({ version: 1, type: "verify", tenant: "team-a", block: bad.ulid })).results[0]!.status).toBe(
      "quarantined",
    );
    // The crash: the block's own mark was written, its mirror in markers/ was not.
    const mirror = join(dir, "team-a", "markers", `${bad.ulid}-no-compact-mark.json`);
    await rm(mirror);
    expect((await run({ version: 1, type: "verify", tenant: "team-a", block: bad.ulid })).results[0]!.status).toBe(
      "skipped",
    );
    expect(await readdir(join(dir, "team-a", "markers"))).toContain(`${bad.ulid}-no-compact-mark.json`);
    await deps.index.rebuild("team-a");
    expect((await deps.index.blocks("team-a")).map((b) => b.meta.ulid)).not.toContain(bad.ulid);
  });

  it("compacts the planned window: output uploaded and indexed, then the inputs marked", async () => {
    const job = sent.find((j) => j.type === "compact")!;
    await run(job);
    const live = await deps.index.blocks("team-a");
    const out = live.find((b) => b.meta.compaction.level === 2)!;
    expect(out.meta.compaction.sources).toEqual(
      good
        .slice(0, 4)
        .map((m) => m.ulid)
        .sort(),
    );
    for (const m of good.slice(0, 4)) {
      expect(live.find((b) => b.meta.ulid === m.ulid)!.deletionTime).toBeGreaterThan(0);
      expect(await readdir(join(dir, "team-a", "markers"))).toContain(`${m.ulid}-deletion-mark.json`);
    }
    const marked = lines.filter((l) => l.event === "marked-for-deletion").map((l) => l.block);
    expect(new Set(marked)).toEqual(new Set(good.slice(0, 4).map((m) => m.ulid)));
    const status = await bucketStatus(store, { tenant: "team-a" });
    expect(status[0]).toMatchObject({
      live: 2,
      markedForDeletion: 4,
      blocks: { "1/0": 1, "2/0": 1 },
      pendingCompactions: [],
    });
    expect(status[0]!.indexAgeSeconds).toBeGreaterThanOrEqual(0);
  });

  it("replay sends verify jobs for selected blocks, and the planner's compactions", async () => {
    const bodies: string[] = [];
    const r = await replayJobs(store, {
      tenant: "team-a",
      blocks: [good[4]!.ulid],
      job: "verify",
      send: async (b) => void bodies.push(b),
    });
    expect("messages" in r && r.messages.map((m) => [m.type, m.tenant, m.target])).toEqual([
      ["verify", "team-a", good[4]!.ulid],
    ]);
    expect(JSON.parse(bodies[0]!)).toMatchObject({
      version: 1,
      type: "verify",
      tenant: "team-a",
      block: good[4]!.ulid,
    });
    expect(await replayJobs(store, { job: "compact", send: async () => undefined })).toEqual({
      messages: [],
      sent: true,
    }); // nothing due
  });
});

describe("bindings with split-and-merge (STRATA_SPLIT_SHARDS)", () => {
  it("splits a window into shard blocks holding every series once, indexed before the inputs are marked", async () => {
    const splitSent: Job[] = [];
    const d = bindPipeline({
      store,
      queue: { send: async (j) => void splitSent.push(j) },
      log: jsonLogger(() => undefined),
      engine: { split: { shardCount: 2 } },
    });
    const inputs: BlockMeta[] = [];
    for (let i = 0; i < 5; i++) inputs.push(await writeBlock("team-split", T0 + 2 * i * HOUR, i + 1));
    for (const m of inputs)
      await handleRecord(JSON.stringify({ version: 1, type: "verify", tenant: "team-split", block: m.ulid }), d, {
        messageId: "v",
      });
    const jobs = splitSent.filter((j) => j.type === "compact");
    expect(jobs.length).toBeGreaterThan(0);
    const split = jobs.find((j) => j.type === "compact" && j.plan.shardCount === 2);
    expect(split, JSON.stringify(jobs)).toBeDefined();
    if (split?.type !== "compact") return;
    expect((await handleRecord(JSON.stringify(split), d, { messageId: "c" })).results[0]!.status).toBe("done");

    const live = await d.index.blocks("team-split");
    const outs = live.filter((b) => b.meta.compaction.level === 2).map((b) => b.meta);
    expect(outs.map((o) => o.thanos?.labels?.__compactor_shard_id__).sort()).toEqual(["1_of_2", "2_of_2"]);
    // Every series of the inputs lands in exactly one shard, with all its samples.
    const seriesOf = async (ulid: string) => {
      const r = await BlockReader.open(new StoreBlockSource(store, layout.blockPrefix("team-split", ulid)));
      const out: string[] = [];
      for await (const s of r.series()) out.push(`${labelsToString(s.labels)} ${s.chunks.length}`);
      await r.close();
      return out;
    };
    const inShards = (await Promise.all(outs.map((o) => seriesOf(o.ulid)))).flat().sort();
    const perInput = split.plan.inputs.length * 4;
    expect(inShards).toEqual([
      '{__name__="up", i="0"} ' + perInput,
      '{__name__="up", i="1"} ' + perInput,
      '{__name__="up", i="2"} ' + perInput,
    ]);
    for (const id of split.plan.inputs) expect(live.find((b) => b.meta.ulid === id)!.deletionTime).toBeGreaterThan(0);
  });
});

describe("the bucket-root tenant beside a ULID-shaped tenant folder", () => {
  let rootDir: string;
  let s: FsStore;
  let now = Date.now();
  let d: WorkerDeps;
  const T = newUlid(T0, new Uint8Array(10).fill(77)); // a "tenant" named like a block
  const B = newUlid(T0, new Uint8Array(10).fill(78));
  const P = newUlid(T0, new Uint8Array(10).fill(79)); // a real root partial upload
  const tenantKeys = [`${T}/${B}/chunks/000001`, `${T}/${B}/index`, `${T}/${B}/meta.json`, `${T}/bucket-index.json.gz`];
  beforeAll(async () => {
    rootDir = await mkdtemp(join(tmpdir(), "strata-root-tenant-"));
    s = new FsStore(rootDir);
    d = bindPipeline({
      store: s,
      queue: { send: async () => {} },
      log: jsonLogger(() => {}),
      clock: { now: () => now },
    });
    for (const k of tenantKeys) await s.put(k, "x");
    await s.put(`${P}/chunks/000001`, "x");
  });
  afterAll(async () => {
    await rm(rootDir, { recursive: true, force: true });
  });

  it("listBlocks never reports the tenant folder as a partial upload, so cleanup never deletes it", async () => {
    expect((await d.storage.listBlocks("")).map((b) => [b.block, b.hasMeta])).toEqual([[P, false]]);
    const day = 86_400_000;
    now += 3 * day; // past the partial-upload age: P is marked
    expect(
      (await handleRecord(JSON.stringify({ version: 1, type: "cleanup", tenant: "" }), d, { messageId: "c1" }))
        .results[0]!.status,
    ).toBe("done");
    expect((await d.storage.listBlocks("")).map((b) => [b.block, b.deletionTime !== undefined])).toEqual([[P, true]]);
    now += 3 * day; // past the delete delay: P is deleted
    expect(
      (await handleRecord(JSON.stringify({ version: 1, type: "cleanup", tenant: "" }), d, { messageId: "c2" }))
        .results[0]!.status,
    ).toBe("done");
    expect(await d.storage.listBlocks("")).toEqual([]);
    const left: string[] = [];
    for await (const o of (await import("@strata/bucket")).listAll(s, "")) left.push(o.key);
    expect(left.filter((k) => k.startsWith(`${T}/`)).sort()).toEqual([...tenantKeys].sort());
    expect(left.some((k) => k.startsWith(`${P}/`))).toBe(false);
  });

  it("the schedule sees no tenant in it: only the root tenant (a real root block exists)", async () => {
    await s.put(`${P}/chunks/000001`, "x");
    expect(await d.storage.listTenants()).toEqual([""]);
    await s.delete(`${P}/chunks/000001`);
    expect(await d.storage.listTenants()).toEqual([]);
  });
});

describe("an index that cannot be read", () => {
  it("is refused with BucketIndexInvalidError at bounded cost, and the binding's rebuild replaces it without reading it", async () => {
    const { BucketIndexInvalidError } = await import("@strata/bucket");
    const { StoreBucketIndex } = await import("@strata/pipeline");
    const { gzipSync } = await import("node:zlib");
    const bombDir = await mkdtemp(join(tmpdir(), "strata-index-bomb-"));
    try {
      const s = new FsStore(bombDir);
      const d = bindPipeline({ store: s, queue: { send: async () => {} }, log: jsonLogger(() => {}) });
      const index = d.index as InstanceType<typeof StoreBucketIndex>;
      const saved = store;
      store = s; // writeBlock writes into `store`
      const meta = await writeBlock("team-b", T0, 3).finally(() => (store = saved));
      const verify = { version: 1, type: "verify", tenant: "team-b", block: meta.ulid } as const;
      expect((await handleRecord(JSON.stringify(verify), d, { messageId: "v" })).results[0]!.status).toBe("done");
      // 8 KiB of gzip, 4M entries: it cost 2.7 GB of RSS to refuse.
      const bomb = gzipSync(
        `{"version":2,"blocks":[${"0,".repeat(4_000_000)}0],"block_deletion_marks":[],"updated_at":1}`,
        { level: 9 },
      );
      expect(bomb.length).toBeLessThan(8 * 1024);
      await s.put(layout.indexKey("team-b"), bomb);
      await expect(index.updater.read("team-b")).rejects.toBeInstanceOf(BucketIndexInvalidError);
      await expect(index.updater.read("team-b")).rejects.toThrow(
        /team-b\/bucket-index\.json\.gz: bucket index unreadable: expected at most 2000000 blocks and deletion marks/,
      );
      // rebuild (index-sync) only HEADs the old index for its compare-and-swap.
      await index.rebuild("team-b");
      expect((await index.updater.read("team-b"))?.index.blocks.map((b) => b.block_id)).toEqual([meta.ulid]);
      expect((await index.blocks("team-b")).map((b) => b.meta.ulid)).toEqual([meta.ulid]);
      // blocks() meeting an unreadable index rebuilds it and goes on.
      await s.put(layout.indexKey("team-b"), bomb);
      expect((await index.blocks("team-b")).map((b) => b.meta.ulid)).toEqual([meta.ulid]);
    } finally {
      await rm(bombDir, { recursive: true, force: true });
    }
  });
});
