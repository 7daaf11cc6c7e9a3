// Tombstones: parquet-common reads series through tsdb.NewBlockChunkSeriesSet, which drops
// deleted samples; a series left with none has no row.
import { parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { expect, it } from "vitest";
import { convertBlock, decodeDataColumn } from "@strata/parquet";
import {
  BlockReader,
  BlockWriter,
  compareStrings,
  Encoding,
  encodeTombstones,
  encodeXOR,
  labelsFrom,
  MemoryBlock,
  Tombstones,
} from "@strata/tsdb";
import { xorSamples } from "./read-back.ts";

const MIN = 60_000;

it("deleted samples are left out, a wholly deleted series has no row", async () => {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const series = ["a", "b", "c"].map((n) => labelsFrom({ __name__: n }));
  await w.addSymbols(["__name__", "a", "b", "c"].sort(compareStrings));
  const ts = Float64Array.from({ length: 240 }, (_, i) => i * MIN);
  const vs = Float64Array.from({ length: 240 }, (_, i) => i);
  for (const s of series) {
    await w.addSeries(s, [
      { minTime: 0, maxTime: 119 * MIN, chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 0, 120) } },
      { minTime: 120 * MIN, maxTime: 239 * MIN, chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, 120, 240) } },
    ]);
  }
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    minTime: 0,
    maxTime: 240 * MIN,
    stats: {},
    compaction: { level: 1, sources: ["01HZZZZZZZZZZZZZZZZZZZZZZZ"] },
    version: 1,
  });
  const r0 = await BlockReader.open(b);
  const ids: number[] = [];
  for await (const s of r0.series({ withChunks: false })) ids.push(s.id);
  await r0.close();
  const t = new Tombstones();
  t.add(ids[0]!, { mint: 100 * MIN, maxt: 149 * MIN }); // a: 50 samples across both chunks
  t.add(ids[1]!, { mint: 0, maxt: 239 * MIN }); // b: all of it
  b.files.set("tombstones", encodeTombstones(t));

  const out = new MemoryBlock("out");
  const r = await convertBlock(b, out, { colDurationMs: 8 * 3600_000 });
  expect(r.shards[0]!.rows).toBe(2);
  const file = (n: string) => {
    const x = out.files.get(n)!;
    return x.buffer.slice(x.byteOffset, x.byteOffset + x.length) as ArrayBuffer;
  };
  const labels = await parquetReadObjects({ file: file("0.labels.parquet"), compressors });
  expect(labels.map((l) => l.l___name__)).toEqual(["a", "c"]);
  const chunks = (await parquetReadObjects({ file: file("0.chunks.parquet"), compressors, utf8: false })) as Record<
    string,
    Uint8Array
  >[];
  const times = chunks.map((row) =>
    Object.values(row).flatMap((v) => decodeDataColumn(v).flatMap((c) => xorSamples(c.data).ts)),
  );
  const all = Array.from({ length: 240 }, (_, i) => i * MIN);
  expect(times[0]).toEqual(all.filter((x) => x < 100 * MIN || x > 149 * MIN));
  expect(times[1]).toEqual(all);
});
