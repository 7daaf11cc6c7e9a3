// Blocks made by the real promtool (float series with counter resets, NaN and ±Inf, extreme
// floats, unicode, wide and sparse label sets) converted and read back through hyparquet, an
// independent Parquet reader. promtool 2.42 imports OpenMetrics text only: it cannot make
// native histograms (histograms.test.ts writes those blocks with @strata/tsdb).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertBlock, type ConvertOptions } from "@strata/parquet";
import { DirBlockSource, FileSink } from "@strata/tsdb/node";
import { JAN_2023_MS, writeOpenMetrics } from "@strata/testkit/openmetrics";
import { type BlockInfo, createBlocksFromOpenMetrics } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { readShard } from "./read-back.ts";
import { verifyConversion } from "./verify-output.ts";

const tmp = new TempDirs();
let generated: BlockInfo;
let sparse: BlockInfo;

/** Sparse: 40 label names spread thin over 120 series; wide: 3 series of 70 labels; NaN gauges. */
function sparseWideOpenMetrics(): string {
  const lines: string[] = [];
  const start = JAN_2023_MS / 1000 + 300;
  const step = 60;
  const n = 900; // 15h: promtool's last block spans 06:00 to 15:05
  lines.push("# TYPE sparse gauge");
  for (let i = 0; i < 120; i++) {
    for (let s = 0; s < n; s += 1 + (i % 3)) {
      lines.push(`sparse{k${i % 40}="v${i}",shard="${i % 3}"} ${(i * 7 + s) % 97} ${start + s * step}`);
    }
  }
  lines.push("# TYPE wide gauge");
  for (let i = 0; i < 3; i++) {
    const ls = Array.from({ length: 70 }, (_, k) => `w${String(k).padStart(2, "0")}="${i}-${k}"`).join(",");
    for (let s = 0; s < n; s++) lines.push(`wide{${ls}} ${s * 0.5} ${start + s * step}`);
  }
  lines.push("# TYPE nan_gauge gauge");
  for (let s = 0; s < n; s++) {
    const v = s % 5 === 0 ? "NaN" : s % 7 === 0 ? "+Inf" : String(-s);
    lines.push(`nan_gauge{Zone="A"} ${v} ${start + s * step}`);
  }
  lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}

async function convert(
  block: BlockInfo,
  opts: ConvertOptions,
): Promise<{ out: string; r: Awaited<ReturnType<typeof convertBlock>> }> {
  const out = await tmp.make("pq-out");
  const r = await convertBlock(new DirBlockSource(block.dir), { create: (n) => FileSink.create(join(out, n)) }, opts);
  return { out, r };
}

beforeAll(async () => {
  const dir = await tmp.make("pq-blocks");
  await writeOpenMetrics(join(dir, "gen.om"), {
    series: 150,
    startMs: JAN_2023_MS + 60_000,
    durationMs: 20 * 3600_000,
  });
  const a = await createBlocksFromOpenMetrics(join(dir, "gen.om"), join(dir, "a"), { maxBlockDuration: "24h" });
  await writeFile(join(dir, "sparse.om"), sparseWideOpenMetrics());
  const b = await createBlocksFromOpenMetrics(join(dir, "sparse.om"), join(dir, "b"), { maxBlockDuration: "24h" });
  // promtool cuts at 6h boundaries before widening up to 24h: take the longest block of each.
  const longest = (bs: BlockInfo[]): BlockInfo =>
    bs.reduce((x, y) => (y.meta.maxTime - y.meta.minTime > x.meta.maxTime - x.meta.minTime ? y : x));
  generated = longest(a);
  sparse = longest(b);
  expect(generated.meta.maxTime - generated.meta.minTime).toBeGreaterThan(8 * 3600_000);
  expect(sparse.meta.maxTime - sparse.meta.minTime).toBeGreaterThan(3 * 3600_000);
}, 120_000);

afterAll(() => tmp.cleanup());

describe("convertBlock on promtool blocks, read back with hyparquet", () => {
  it("a 14h generated block: rows, row groups, metadata and every sample", async () => {
    const { out, r } = await convert(generated, { rowGroupSize: 64 });
    expect(r.shards).toHaveLength(1);
    expect(r.mark).toBe("parquet-converter-mark.json");
    const expected = await verifyConversion(generated.dir, out, r, { colDurationMs: 8 * 3600_000, rowGroupSize: 64 });
    expect(r.series).toBe(expected.length);
    expect(expected.length).toBe(generated.meta.stats.numSeries);
    const samples = expected.reduce((s, e) => s + e.ts.length, 0);
    expect(samples).toBe(generated.meta.stats.numSamples);
    // NaN payloads survive (the generator writes NaN), and more than one row group was cut.
    expect(
      expected.some((e) =>
        e.bits.some((b) => (b & 0x7ff0000000000000n) === 0x7ff0000000000000n && (b & 0xfffffffffffffn) !== 0n),
      ),
    ).toBe(true);
    expect(r.shards[0]!.labels.rowGroups).toBeGreaterThan(1);
  });

  it("with spillDir (column chunks in scratch files) the files are byte for byte the same, and the scratch is gone", async () => {
    const a = await convert(generated, { rowGroupSize: 64 });
    const scratch = await tmp.make("pq-spill");
    const b = await convert(generated, { rowGroupSize: 64, spillDir: scratch });
    for (const f of ["0.labels.parquet", "0.chunks.parquet", "parquet-converter-mark.json"]) {
      expect(Buffer.compare(await readFile(join(a.out, f)), await readFile(join(b.out, f))), f).toBe(0);
    }
    expect(await readdir(scratch)).toEqual([]);
  });

  it("sparse and wide label sets with 30m columns (more than 10 data columns, ordered as strings)", async () => {
    const { out, r } = await convert(sparse, { colDurationMs: 1_800_000 });
    await verifyConversion(sparse.dir, out, r, { colDurationMs: 1_800_000, rowGroupSize: 1_000_000 });
    const { labels, chunks } = await readShard(out, 0);
    expect(chunks.md.schema.length - 1).toBeGreaterThan(10);
    expect(chunks.md.schema.slice(1).map((s) => s.name)).toEqual(
      Array.from({ length: chunks.md.schema.length - 1 }, (_, i) => `s_data_${i}`).sort(),
    );
    // 40 sparse names + shard + 70 wide names + Zone + __name__.
    expect(labels.md.schema.length - 1).toBe(40 + 1 + 70 + 1 + 1 + 2);
  });

  it("shards when the label columns pass maxColumns; each file stays within it", async () => {
    // 115 columns in one file (113 label names + 2): at 80 a wide series (73) cannot join a sparse shard.
    const { out, r } = await convert(sparse, { maxColumns: 80 });
    expect(r.shards.length).toBeGreaterThan(1);
    for (const s of r.shards) expect(s.labels.columns).toBeLessThanOrEqual(80);
    await verifyConversion(sparse.dir, out, r, { colDurationMs: 8 * 3600_000, rowGroupSize: 1_000_000 });
  });

  it("extra sort labels (Cortex's per-tenant sort columns): rows leave index order, read by id", async () => {
    const sortBy = ["__name__", "shard"];
    const { out, r } = await convert(sparse, { sortBy, rowGroupSize: 40 });
    const expected = await verifyConversion(sparse.dir, out, r, {
      colDurationMs: 8 * 3600_000,
      rowGroupSize: 40,
      sortBy,
    });
    // The order differs from the index's (k<i> labels sort before shard), so the by-id path ran.
    const shards = expected
      .filter((e) => e.labels.some((l) => l.name === "shard"))
      .map((e) => e.labels.find((l) => l.name === "shard")!.value);
    expect(shards).toEqual([...shards].sort());
    const { labels } = await readShard(out, 0);
    expect(labels.md.row_groups[0]!.sorting_columns).toEqual([
      {
        column_idx: labels.md.schema.slice(1).findIndex((e) => e.name === "l___name__"),
        descending: false,
        nulls_first: false,
      },
      {
        column_idx: labels.md.schema.slice(1).findIndex((e) => e.name === "l_shard"),
        descending: false,
        nulls_first: false,
      },
    ]);
  });

  it("shards by rows with numRowGroups: ceil(series / (numRowGroups × rowGroupSize)) even shards", async () => {
    const { out, r } = await convert(sparse, { numRowGroups: 1, rowGroupSize: 50 });
    expect(r.series).toBe(124);
    // 124 series, 50 per shard at most: 3 shards of ceil(124 / 3) = 42, the last one 40.
    expect(r.shards.map((s) => s.rows)).toEqual([42, 42, 40]);
    await verifyConversion(sparse.dir, out, r, { colDurationMs: 8 * 3600_000, rowGroupSize: 50 });
  });
});
