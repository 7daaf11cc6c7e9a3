/**
 * A chunk whose samples lie before the previous chunk's (its meta says otherwise: bucket
 * input is hostile). Thanos' expansion keeps them (its time floor restarts per chunk), so a
 * raw batch can open a window past its own last sample time; the batch loop used to spin
 * there forever instead of taking that sample.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  AggrType,
  BlockReader,
  BlockWriter,
  Encoding,
  MemoryBlock,
  RESOLUTION_5M,
  decodeAggrChunk,
  decodeXOR,
  encodeXOR,
} from "@strata/tsdb";
import { closeWorkers, downsampleBlock } from "../src/index.ts";

const T = 1_700_000_000_000;
const HOUR = 3_600_000;

function chunkAt(t0: number): Uint8Array {
  const ts = Float64Array.from({ length: 5 }, (_, i) => t0 + i * 30_000);
  const vs = Float64Array.from({ length: 5 }, (_, i) => i + 1);
  return encodeXOR(ts, vs, 0, 5);
}

async function steppingBack(): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  await w.addSymbols(["__name__", "up"]);
  await w.addSeries(
    [{ name: "__name__", value: "up" }],
    [
      { minTime: T, maxTime: T + 120_000, chunk: { encoding: Encoding.XOR, data: chunkAt(T) } },
      // Claims to follow the first chunk; its samples are an hour older.
      { minTime: T + 200_000, maxTime: T + 320_000, chunk: { encoding: Encoding.XOR, data: chunkAt(T - HOUR) } },
    ],
  );
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZ0",
    minTime: T - HOUR,
    maxTime: T + HOUR,
    stats: {},
    compaction: { level: 1, sources: ["01HZZZZZZZZZZZZZZZZZZZZZZ0"] },
    version: 1,
  });
  return b;
}

afterAll(closeWorkers);

describe("a raw chunk stepping back before the previous one", () => {
  it.each([0, 1])(
    "is aggregated as Thanos does, not looped over forever (%i workers)",
    async (workers) => {
      const out = new MemoryBlock("out");
      await downsampleBlock(await steppingBack(), out, {
        resolution: RESOLUTION_5M,
        ulid: "01HZZZZZZZZZZZZZZZZZZZZZZ1",
        workers,
      });
      const r = await BlockReader.open(out);
      const got: { minTime: number; maxTime: number; counts: number[]; times: number[] }[] = [];
      for await (const s of r.series()) {
        for (const c of s.chunks) {
          const count = decodeAggrChunk(c.chunk!.data)[AggrType.Count]!.data;
          const ts = new Float64Array(16);
          const vs = new Float64Array(16);
          const n = decodeXOR(count, ts, vs);
          got.push({
            minTime: c.minTime,
            maxTime: c.maxTime,
            counts: [...vs.subarray(0, n)],
            times: [...ts.subarray(0, n)],
          });
        }
      }
      await r.close();
      // Every window opened by the first chunk's samples ends at the batch's last sample
      // (an hour earlier) and holds one sample; the older samples join the last of them.
      const lastT = T - HOUR + 120_000;
      expect(got).toEqual([
        { minTime: lastT, maxTime: lastT, counts: [1, 1, 1, 1, 6], times: [lastT, lastT, lastT, lastT, lastT] },
      ]);
    },
    30_000,
  );
});
