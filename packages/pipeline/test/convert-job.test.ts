// The convert job: Parquet for blocks at or above the Parquet range once they are indexed,
// off by default, idempotent, bounded in retries, and never touching the TSDB block.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BucketIndexUpdater, FsStore, StoreBlockSource, listAll } from "@strata/bucket";
import { inspectParquet } from "@strata/parquet";
import { verifyBlock } from "@strata/verify";
import {
  bindPipeline,
  encodeJob,
  handleRecord,
  jsonLogger,
  pipelineLayout,
  BlockEngines,
  CONVERT_ROW_GROUP_BYTES,
  DEFAULT_CONFIG,
  DEFAULT_ENGINE_SETTINGS,
  convertRowGroupRows,
  type Job,
  type WorkerDeps,
} from "@strata/pipeline";
import { listBucketBlocks } from "@strata/pipeline/operations";
import { harness, meta, T0, writeLongBlock } from "@strata/testkit/pipeline";

const HOUR = 3_600_000;
const ON = { parquet: { enabled: true, minRangeMs: 12 * HOUR } };
const convertJob = (tenant: string, block: string): Job => ({ version: 1, type: "convert", tenant, block });

async function run(deps: WorkerDeps, job: Job): Promise<void> {
  await handleRecord(encodeJob(job), deps);
}

describe("convert jobs (scripted engines)", () => {
  it("are sent by the verify job for a block at or above the Parquet range, only when Parquet is on", async () => {
    for (const enabled of [false, true]) {
      const h = harness({ parquet: { enabled, minRangeMs: 12 * HOUR } });
      const big = h.bucket.upload("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR }));
      const small = h.bucket.upload("t", meta({ minTime: T0, maxTime: T0 + 2 * HOUR }));
      // A downsampled block: parquet-common holds raw chunks only.
      const m5 = h.bucket.upload("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR, resolution: 300_000 }));
      await run(h.deps, { version: 1, type: "verify", ...big });
      await run(h.deps, { version: 1, type: "verify", ...small });
      await run(h.deps, { version: 1, type: "verify", ...m5 });
      const converts = h.queue.sent.filter((j) => j.type === "convert");
      expect(converts).toEqual(enabled ? [expect.objectContaining({ tenant: "t", block: big.block })] : []);
    }
  });

  it("convert once, mirror the mark and record it in the index; a repeat converts nothing", async () => {
    const h = harness(ON);
    const ref = await h.bucket.uploadIndexed("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR }));
    await run(h.deps, convertJob("t", ref.block));
    await run(h.deps, convertJob("t", ref.block));
    expect(h.engines.calls.filter((c) => c.startsWith("convert"))).toEqual([`convert ${ref.block}`]);
    expect(h.bucket.parquetMirrors.get(`t/${ref.block}`)).toEqual({ version: 2, shards: 1 });
    expect(h.bucket.applied.filter((a) => a.parquet).map((a) => a.parquet)).toEqual([
      [{ block: ref.block, mark: { version: 2, shards: 1 } }],
      [{ block: ref.block, mark: { version: 2, shards: 1 } }],
    ]);
  });

  it("skip a tenant with Parquet off, a block below the range, one marked for deletion", async () => {
    const h = harness({ parquet: { enabled: false, minRangeMs: 12 * HOUR } });
    const a = await h.bucket.uploadIndexed("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR }));
    await run(h.deps, convertJob("t", a.block));
    h.deps.config = { ...DEFAULT_CONFIG, ...ON };
    const b = await h.bucket.uploadIndexed("t", meta({ minTime: T0, maxTime: T0 + 2 * HOUR }));
    await run(h.deps, convertJob("t", b.block));
    h.bucket.get(a)!.deletion = { id: a.block, version: 1, deletion_time: 1 };
    await run(h.deps, convertJob("t", a.block));
    expect(h.engines.calls.filter((c) => c.startsWith("convert"))).toEqual([]);
    expect(h.lines.filter((l) => l.event === "job-skipped").map((l) => l.reason)).toEqual([
      "Parquet conversion is off for this tenant (STRATA_PARQUET, overrides)",
      "block's range is below STRATA_PARQUET_MIN_RANGE",
      "block is marked for deletion",
    ]);
  });

  it("stop after the attempts allowed: the block gets strata-parquet-refused.json and stays as it was", async () => {
    const h = harness({ ...ON, maxJobAttempts: 2 });
    const ref = await h.bucket.uploadIndexed("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR }));
    h.engines.convertFails = 5;
    for (let i = 0; i < 2; i++) await expect(run(h.deps, convertJob("t", ref.block))).rejects.toThrow(/injected/);
    await run(h.deps, convertJob("t", ref.block)); // refused, not run
    await run(h.deps, convertJob("t", ref.block)); // skipped from now on
    expect(h.engines.calls.filter((c) => c.startsWith("convert"))).toHaveLength(2);
    const refused = await h.bucket.readReport(ref, "strata-parquet-refused.json");
    expect(refused?.body).toContain("injected conversion failure");
    expect(h.bucket.get(ref)?.meta).toBeDefined();
    expect(h.bucket.get(ref)?.deletion).toBeUndefined();
    expect(h.bucket.index.get("t")?.has(ref.block)).toBe(true);
  });
});

describe("convert jobs within the function's limits", () => {
  it("a block too big for one job is refused before anything is written, and not tried again", async () => {
    const h = harness(ON);
    const ref = await h.bucket.uploadIndexed("t", meta({ minTime: T0, maxTime: T0 + 24 * HOUR }));
    h.engines.tooBigToConvert.set(ref.block, "converting ~40 GB takes ~2000 s, more than the job budget's 600 s");
    await run(h.deps, convertJob("t", ref.block));
    await run(h.deps, convertJob("t", ref.block));
    expect(h.engines.calls.filter((c) => c.startsWith("convert"))).toEqual([]);
    expect((await h.bucket.readReport(ref, "strata-parquet-refused.json"))?.body).toContain("job budget");
  });

  it("the estimate and the row groups follow the block's size", () => {
    const m = (chunkBytes: number, series: number) => {
      const b = meta({ minTime: 0, maxTime: 1 });
      b.stats = { numSeries: BigInt(series) };
      b.thanos!.files = [{ rel_path: "chunks/000001", size_bytes: chunkBytes }];
      return b;
    };
    const engines = new BlockEngines(
      new FsStore(tmpdir()),
      pipelineLayout(),
      { ...DEFAULT_ENGINE_SETTINGS, jobBudget: { seconds: 600, memoryBytes: 2 ** 31 } },
      Date.now,
    );
    expect(engines.convertDoesNotFit(m(1e9, 1000))).toBeUndefined();
    expect(engines.convertDoesNotFit(m(50e9, 1000))).toMatch(/more than the job budget's 600 s/);
    // Cortex's 1M rows for small series; fewer when a series carries many bytes (≤ 256 MiB a group).
    expect(convertRowGroupRows(m(1e8, 1_000_000))).toBe(1_000_000);
    expect(convertRowGroupRows(m(64e9, 1_000_000))).toBe(Math.floor(CONVERT_ROW_GROUP_BYTES / 64_000));
  });
});

describe("convert jobs (real bindings, a directory bucket)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "strata-convert-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("write parquet-common's files and Cortex's mark beside the block, its mirror and the index field", async () => {
    const store = new FsStore(dir);
    const layout = pipelineLayout();
    const deps = bindPipeline({ store, queue: { send: async () => undefined }, log: jsonLogger(() => {}), config: ON });
    const m = await writeLongBlock(store, "t", Date.now() - 50 * HOUR);
    await run(deps, { version: 1, type: "verify", tenant: "t", block: m.ulid });
    await run(deps, convertJob("t", m.ulid));
    const prefix = layout.blockPrefix("t", m.ulid);
    const names: string[] = [];
    for await (const o of listAll(store, prefix)) names.push(o.key.slice(prefix.length));
    expect(names).toEqual(
      expect.arrayContaining(["0.labels.parquet", "0.chunks.parquet", "parquet-converter-mark.json"]),
    );
    expect(new TextDecoder().decode((await store.get(`${prefix}parquet-converter-mark.json`))!.body)).toBe(
      '{"version":2,"shards":1}',
    );
    expect((await store.get(layout.parquetMarkerKey("t", m.ulid)))?.body).toBeDefined();
    const index = await new BucketIndexUpdater(store, { layout }).read("t");
    expect(index?.index.blocks.find((b) => b.block_id === m.ulid)?.parquet).toEqual({ version: 2, shards: 1 });
    // The Parquet files read back; the TSDB block still verifies as it did.
    const block = new StoreBlockSource(store, prefix);
    const labels = await inspectParquet(await block.open("0.labels.parquet"));
    expect(labels.rows).toBe(1);
    expect((await verifyBlock(new StoreBlockSource(store, prefix))).ok).toBe(true);
    // strata ls shows it.
    const listed = await listBucketBlocks(store, { tenant: "t" });
    expect(listed.blocks.find((b) => b.block === m.ulid)?.parquet).toBe(true);
  });
});
