import { describe, expect, it } from "vitest";
import { BlockReader, MemoryBlock, Tombstones, encodeTombstones, readMeta } from "@strata/tsdb";
import { Code, NotRepairableError, repairBlock, verifyBlock } from "../src/index.ts";
import { T0, STEP, cloneBlock, xorChunk } from "./helpers.ts";
import { rawBlock, type RawChunk } from "./raw-block.ts";

const c1 = xorChunk(T0, 10, 1);
const c2 = xorChunk(T0 + 10 * STEP, 10, 2);
const c3 = xorChunk(T0 + 20 * STEP, 10, 3); // starts exactly at maxTime: issue 347
const far = xorChunk(T0 + 1000 * STEP, 10, 4); // wholly outside
const ch = (c: typeof c1): RawChunk => ({ minT: c.minTime, maxT: c.maxTime, chunk: c.chunk });

async function samplesOf(b: MemoryBlock): Promise<string[]> {
  const r = await BlockReader.open(b);
  const out: string[] = [];
  for await (const s of r.series())
    out.push(
      `${s.labels.map((l) => `${l.name}=${l.value}`).join(",")}:${s.chunks.map((c) => `${c.minTime}-${c.maxTime}`).join("|")}`,
    );
  await r.close();
  return out;
}

describe("repairBlock", () => {
  it("fixes every repairable problem into a new block and leaves the old one alone", async () => {
    const { block } = rawBlock({
      series: [
        {
          labels: [
            ["i", "a"],
            ["__name__", "m"],
          ],
          chunks: [ch(c2), ch(c1), ch(c1), ch(c3), ch(far)],
        },
        {
          labels: [
            ["__name__", "m"],
            ["i", "b"],
          ],
          chunks: [ch(c1), ch(c2)],
        },
        {
          labels: [
            ["__name__", "m"],
            ["i", "b"],
          ],
          chunks: [ch(c1)],
        },
      ],
      minTime: T0,
      maxTime: T0 + 20 * STEP,
      meta: {
        stats: { numSeries: 1n },
        thanos: { labels: { r: "1" }, downsample: { resolution: 0 }, source: "sidecar" },
      },
    });
    const before = structuredClone([...block.files]);
    const report = await verifyBlock(block);
    expect(report.ok).toBe(false);
    expect(report.problems.every((p) => p.severity !== "reject")).toBe(true);
    for (const c of [
      Code.OutOfOrderLabels,
      Code.OutOfOrderChunks,
      Code.DuplicatedChunks,
      Code.Issue347OutsideChunks,
      Code.CompleteOutsideChunks,
      Code.DuplicateSeries,
      Code.MetaStatsMismatch,
    ]) {
      expect(report.counts[c], c).toBeGreaterThan(0);
    }
    const out = new MemoryBlock("repaired");
    const written = await repairBlock(block, out, report);
    expect([...block.files]).toEqual(before);
    const again = await verifyBlock(out, { expectedUlid: written.meta.ulid });
    expect(again.problems).toEqual([]);
    expect(await samplesOf(out)).toEqual([
      `__name__=m,i=a:${c1.minTime}-${c1.maxTime}|${c2.minTime}-${c2.maxTime}`,
      `__name__=m,i=b:${c1.minTime}-${c1.maxTime}|${c2.minTime}-${c2.maxTime}`,
    ]);
    const meta = await readMeta(out);
    expect(meta.ulid).not.toBe((await readMeta(block)).ulid);
    expect(meta.thanos?.source).toBe("compactor.repair");
    expect(meta.stats.numSeries).toBe(2n);
    // The original is a raw level-1 block: its copy lists itself, as a block as cut does.
    expect((await readMeta(block)).compaction).toMatchObject({ level: 1 });
    expect(meta.compaction.sources).toEqual([meta.ulid]);
  });

  it("applies tombstones and rebuilds broken postings", async () => {
    const { block } = rawBlock({
      series: [
        {
          labels: [
            ["__name__", "m"],
            ["i", "a"],
          ],
          chunks: [ch(c1), ch(c2)],
        },
      ],
      postings: (l) => l.get("i\0a")!.pop(),
    });
    const r = await BlockReader.open(block);
    const id = (await r.index.allPostings())[0]!;
    await r.close();
    const t = new Tombstones();
    t.add(id, { mint: c2.minTime, maxt: c2.maxTime });
    block.files.set("tombstones", encodeTombstones(t));
    const report = await verifyBlock(block);
    expect(Object.keys(report.counts).sort()).toEqual([
      Code.MetaStatsMismatch,
      Code.PostingsEmpty,
      Code.PostingsMissingSeries,
    ]);
    const out = new MemoryBlock("r");
    await repairBlock(block, out);
    expect((await verifyBlock(out)).problems).toEqual([]);
    expect(await samplesOf(out)).toEqual([`__name__=m,i=a:${c1.minTime}-${c1.maxTime}`]);
  });

  it("refuses blocks with problems it cannot fix", async () => {
    const { block } = rawBlock({
      series: [{ labels: [["__name__", "m"]], chunks: [ch(c1), ch(xorChunk(T0, 10, 9))] }],
    });
    const err = await repairBlock(cloneBlock(block), new MemoryBlock("x")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotRepairableError);
    expect((err as NotRepairableError).problems.map((p) => p.code)).toEqual([Code.OverlappingChunks]);
  });
});
