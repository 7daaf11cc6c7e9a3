// Strata reads what Prometheus writes: for blocks made by
// `promtool tsdb create-blocks-from openmetrics`, `strata dump` must print
// exactly what `promtool tsdb dump` prints. For one block promtool's order is
// deterministic (series in index order, i.e. sorted by labels in Go byte
// order, samples by time), so the dumps are compared line by line, not as sets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertPromtool,
  diffLinesOrdered,
  makeStandardFixtures,
  promtoolDump,
  splitLines,
  type BlockInfo,
  type PromtoolFixture,
} from "@strata/testkit/promtool";
import { runStrataOk } from "@strata/testkit/cli";
import { TempDirs } from "@strata/testkit/tmp";

const TWO_HOURS = 2 * 3_600_000;
const tmp = new TempDirs();
let varied: PromtoolFixture;
let sixHour: PromtoolFixture;
let large: PromtoolFixture;

beforeAll(async () => {
  assertPromtool();
  [varied, sixHour, large] = await makeStandardFixtures(tmp, "", 11);
});

afterAll(() => tmp.cleanup());

async function strataDump(b: BlockInfo): Promise<string[]> {
  return splitLines((await runStrataOk(["dump", b.dir])).stdout);
}

async function expectSameDump(b: BlockInfo): Promise<number> {
  const [expected, actual] = await Promise.all([promtoolDump(b.dir), strataDump(b)]);
  expect(expected.length).toBe(b.meta.stats.numSamples);
  expect(diffLinesOrdered(expected, actual), `block ${b.ulid}`).toBe("");
  return expected.length;
}

describe("fixtures made by promtool", () => {
  it("cut the varied data into ≥ 3 blocks at 2h boundaries, keeping every sample", () => {
    expect(varied.blocks.length).toBeGreaterThanOrEqual(3);
    for (const b of varied.blocks) {
      // Each block lies within one 2h-aligned window; maxTime is last sample + 1.
      expect(Math.floor(b.meta.minTime / TWO_HOURS)).toBe(Math.floor((b.meta.maxTime - 1) / TWO_HOURS));
      expect(b.meta.compaction.level).toBe(1);
    }
    expect(varied.blocks.reduce((s, b) => s + (b.meta.stats.numSamples ?? 0), 0)).toBe(varied.gen.sampleCount);
    expect(varied.gen.counterResets).toBeGreaterThan(0);
    expect(varied.gen.unicodeSelector).not.toBeNull();
  });

  it("made one 6h block with multi-chunk series and thousands of series in the large case", () => {
    expect(sixHour.blocks.length).toBe(1);
    const m = sixHour.blocks[0]!.meta;
    expect(m.stats.numChunks!).toBeGreaterThan(2 * m.stats.numSeries!);
    expect(large.gen.seriesCount).toBeGreaterThanOrEqual(2900);
    expect(large.blocks.reduce((s, b) => s + (b.meta.stats.numSeries ?? 0), 0)).toBeGreaterThanOrEqual(
      large.gen.seriesCount,
    );
  });

  it("dump the same bytes twice (promtool's order is deterministic)", async () => {
    const b = varied.blocks[0]!;
    expect(await promtoolDump(b.dir)).toEqual(await promtoolDump(b.dir));
  });
});

describe("strata dump equals promtool tsdb dump", () => {
  it("for every block of the varied data", async () => {
    let lines = 0;
    for (const b of varied.blocks) lines += await expectSameDump(b);
    expect(lines).toBe(varied.gen.sampleCount);
  });

  it("for a 6h block with many chunks per series", async () => {
    await expectSameDump(sixHour.blocks[0]!);
  });

  it("for thousands of series", async () => {
    let lines = 0;
    for (const b of large.blocks) lines += await expectSameDump(b);
    expect(lines).toBe(large.gen.sampleCount);
  });
});

describe("strata inspect --json", () => {
  it("reports the block's meta and stats", async () => {
    for (const b of varied.blocks) {
      const report = JSON.parse((await runStrataOk(["inspect", b.dir, "--json"])).stdout) as {
        meta: { ulid: string; minTime: number; maxTime: number; stats: Record<string, number> };
        stats: Record<string, number>;
      };
      expect(report.meta.ulid).toBe(b.ulid);
      expect(report.meta.minTime).toBe(b.meta.minTime);
      expect(report.meta.maxTime).toBe(b.meta.maxTime);
      expect(report.meta.stats.numSamples).toBe(b.meta.stats.numSamples);
      // Stats are counted from the index and chunks, not copied from meta.json.
      expect(report.stats.samples ?? report.stats.numSamples).toBe(b.meta.stats.numSamples);
      expect(report.stats.series ?? report.stats.numSeries).toBe(b.meta.stats.numSeries);
      expect(report.stats.chunks ?? report.stats.numChunks).toBe(b.meta.stats.numChunks);
    }
  });
});
