// Every kind of block Strata writes passes its own verifier, with the meta.json meaning
// checks and the downsampled-chunk rules: compactions (plain and split into shards), 5m and
// 1h downsamples, repairs and rewrites, all made by the real engines from blocks the real
// promtool wrote (counters resetting inside 5m windows, gauges, NaN, gaps, jitter).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  BlockReader,
  RESOLUTION_1H,
  RESOLUTION_5M,
  newUlid,
  parseMeta,
  rewriteBlock,
  serializeMeta,
  type BlockMeta,
} from "@strata/tsdb";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { compactBlocks } from "@strata/compact";
import { downsampleBlock } from "@strata/downsample";
import { repairBlock, verifyBlock, type VerifyReport } from "@strata/verify";
import { makePromtoolFixture, type PromtoolFixture } from "@strata/testkit/promtool";
import { TempDirs, copyDir } from "@strata/testkit/tmp";

const tmp = new TempDirs();
let fx: PromtoolFixture;
let out: string;
/** The compaction of the first three promtool blocks. */
let compacted: string;

afterAll(() => tmp.cleanup());

beforeAll(async () => {
  // 9h from 00:17: five 2h promtool blocks (the first and last partial).
  fx = await makePromtoolFixture(tmp, {
    label: "written-verify",
    seed: 1207,
    series: 40,
    durationMs: 9 * 3_600_000,
    intervalMs: 15_000,
    features: {
      counterResets: true,
      gaps: true,
      specialValues: true,
      jitter: true,
      extremeFloats: false,
      unicode: false,
      goQuoting: false,
      escapes: false,
    },
  });
  out = await tmp.make("written-verify-out");
  compacted = (await compactTo(fx.blocks.slice(0, 3).map((b) => b.dir)))[0]!;
}, 120_000);

/** verifyBlock on a directory; fails listing every problem that is not a warning. */
async function expectVerifies(dir: string, what: string): Promise<VerifyReport> {
  const ulid = dir.split("/").pop()!;
  const r = await verifyBlock(new DirBlockSource(dir), { expectedUlid: ulid });
  const serious = r.problems.filter((p) => p.severity !== "warn");
  expect(serious, `${what} (${dir}):\n${JSON.stringify(serious, null, 2)}`).toEqual([]);
  expect(r.ok, `${what}: ${JSON.stringify(r.counts)}`).toBe(true);
  expect(r.stats.series).toBeGreaterThan(0);
  return r;
}

async function metaOf(dir: string): Promise<BlockMeta> {
  return parseMeta(await readFile(join(dir, "meta.json")));
}

async function compactTo(dirs: string[], shards?: number): Promise<string[]> {
  const sinks: DirBlockSink[] = [];
  const r = await compactBlocks(
    dirs.map((d) => new DirBlockSource(d)),
    (_shard, ulid) => {
      const s = new DirBlockSink(out, ulid);
      sinks.push(s);
      return s;
    },
    { shards },
  );
  const written: string[] = [];
  for (const o of r.outputs) written.push(await (o.sink as DirBlockSink).commit());
  return written;
}

async function downsampleTo(dir: string, resolution: typeof RESOLUTION_5M | typeof RESOLUTION_1H): Promise<string> {
  const sink = new DirBlockSink(out, newUlid());
  await downsampleBlock(new DirBlockSource(dir), sink, { resolution, ulid: sink.ulid, workers: 0 });
  return sink.commit();
}

/** What `strata rewrite <dir> --out … [--reencode]` does. */
async function rewriteTo(dir: string, reencode: boolean): Promise<string> {
  const block = await BlockReader.open(new DirBlockSource(dir));
  const sink = new DirBlockSink(out, newUlid());
  try {
    await rewriteBlock(block, sink, { reencode, ulid: sink.ulid });
    return await sink.commit();
  } finally {
    await block.close();
  }
}

describe("blocks Strata writes verify with every check", () => {
  it("the promtool inputs verify, and counters reset inside 5m windows", async () => {
    expect(fx.blocks.length).toBeGreaterThanOrEqual(5);
    expect(fx.gen.counterResets).toBeGreaterThan(10);
    for (const b of fx.blocks) await expectVerifies(b.dir, `promtool block ${b.ulid}`);
  });

  it("a compaction of three blocks", async () => {
    const dir = compacted;
    const meta = await metaOf(dir);
    expect(meta.compaction.level).toBe(2);
    expect(meta.compaction.sources).toEqual(
      fx.blocks
        .slice(0, 3)
        .map((b) => b.ulid)
        .sort(),
    );
    await expectVerifies(dir, "compaction");
  });

  it("a split into three shards", async () => {
    const dirs = await compactTo(
      fx.blocks.slice(1, 4).map((b) => b.dir),
      3,
    );
    expect(dirs).toHaveLength(3);
    for (const d of dirs) {
      const meta = await metaOf(d);
      expect(meta.thanos?.labels?.__compactor_shard_id__).toMatch(/^[1-3]_of_3$/);
      await expectVerifies(d, `shard ${meta.thanos?.labels?.__compactor_shard_id__}`);
    }
  });

  it("a 5m downsample and a 1h downsample of it", async () => {
    const m5 = await downsampleTo(compacted, RESOLUTION_5M);
    const r5 = await expectVerifies(m5, "5m downsample");
    const meta5 = await metaOf(m5);
    expect(meta5.thanos?.downsample?.resolution).toBe(RESOLUTION_5M);
    expect(meta5.compaction).toEqual((await metaOf(compacted)).compaction);
    expect(r5.stats.chunks).toBeGreaterThan(0);
    const h1 = await downsampleTo(m5, RESOLUTION_1H);
    await expectVerifies(h1, "1h downsample");
    expect((await metaOf(h1)).thanos?.downsample?.resolution).toBe(RESOLUTION_1H);
    // A raw level-1 block downsampled straight away keeps its single source (itself before).
    await expectVerifies(await downsampleTo(fx.blocks[2]!.dir, RESOLUTION_5M), "5m downsample of a level-1 block");
  });

  it("repairs of blocks with wrong meta stats, with and without a Thanos section", async () => {
    for (const thanos of [false, true]) {
      const src = join(await tmp.make("written-verify-broken"), fx.blocks[1]!.ulid);
      await copyDir(fx.blocks[1]!.dir, src);
      const meta = await metaOf(src);
      meta.stats = { ...meta.stats, numSeries: (meta.stats.numSeries ?? 0n) + 3n, numSamples: 1n };
      if (thanos) meta.thanos = { labels: { replica: "a" }, downsample: { resolution: 0 }, source: "sidecar" };
      await writeFile(join(src, "meta.json"), serializeMeta(meta, { style: thanos ? "thanos" : "prometheus" }));
      const report = await verifyBlock(new DirBlockSource(src));
      expect(Object.keys(report.counts)).toEqual(["MetaStatsMismatch"]);
      const sink = new DirBlockSink(out, newUlid());
      await repairBlock(new DirBlockSource(src), sink, report, { ulid: sink.ulid });
      const dir = await sink.commit();
      const repaired = await metaOf(dir);
      // A copy of a block as cut is itself a block as cut: it lists itself (copiedSources).
      expect(repaired.compaction.sources).toEqual([sink.ulid]);
      if (thanos) expect(repaired.thanos?.source).toBe("compactor.repair");
      await expectVerifies(dir, `repair (thanos section: ${thanos})`);
    }
  });

  it("rewrites of a raw block (re-encoded) and of a compacted one", async () => {
    await expectVerifies(await rewriteTo(fx.blocks[0]!.dir, true), "rewrite of a promtool block, re-encoded");
    await expectVerifies(await rewriteTo(compacted, false), "rewrite of a compaction");
  });
});
