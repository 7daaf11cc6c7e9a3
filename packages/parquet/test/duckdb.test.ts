// A second independent reader: DuckDB's Parquet reader (C++) reads every row of both files the
// same as hyparquet, sees the codecs, encodings and metadata, and probes the bloom filters.
import { join } from "node:path";
import { DuckDBBlobValue, DuckDBInstance } from "@duckdb/node-api";
import { afterAll, expect, it } from "vitest";
import { convertBlock } from "@strata/parquet";
import { makeBenchBlock } from "@strata/testkit";
import { TempDirs } from "@strata/testkit/tmp";
import { DirBlockSource, FileSink } from "@strata/tsdb/node";
import { readShard } from "./read-back.ts";

const tmp = new TempDirs();
afterAll(() => tmp.cleanup());

const hex = (b: unknown): string =>
  Buffer.from(b instanceof DuckDBBlobValue ? b.bytes : (b as Uint8Array)).toString("hex");

it("DuckDB reads the files as hyparquet does; metadata, codecs, encodings and bloom filters as written", async () => {
  const block = await makeBenchBlock(await tmp.make("pq-duck"), 30, 240);
  const out = await tmp.make("pq-duck-out");
  const r = await convertBlock(
    new DirBlockSource(block),
    { create: (n) => FileSink.create(join(out, n)) },
    { rowGroupSize: 7 },
  );
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjects();
    const lf = join(out, "0.labels.parquet");
    const cf = join(out, "0.chunks.parquet");
    const { labels, chunks } = await readShard(out, 0);

    const lrows = await q(`select * from read_parquet('${lf}')`);
    expect(lrows.length).toBe(r.series);
    lrows.forEach((row, i) => {
      const h = labels.rows[i]!;
      expect(row.l___name__).toBe(h.l___name__);
      expect(hex(row.s_col_indexes)).toBe(hex(h.s_col_indexes));
      expect(hex(row.s_series_hash)).toBe(hex(h.s_series_hash));
    });
    const crows = await q(`select * from read_parquet('${cf}')`);
    crows.forEach((row, i) => {
      for (const [k, v] of Object.entries(row)) expect(hex(v), `${k} of row ${i}`).toBe(hex(chunks.rows[i]![k]));
    });

    const md = await q(
      `select path_in_schema as col, compression, encodings, bloom_filter_offset as bloom from parquet_metadata('${lf}')`,
    );
    for (const m of md) {
      expect(m.compression).toBe("ZSTD");
      if (String(m.col).startsWith("l_")) expect(m.encodings).toBe("PLAIN, RLE, RLE_DICTIONARY");
      expect(m.bloom !== null).toBe(m.col === "l___name__");
    }
    const kv = await q(`select decode(key) as k, decode(value) as v from parquet_kv_metadata('${lf}') order by k`);
    expect(kv.map((e) => [e.k, e.v])).toEqual([
      ["data_col_duration_ms", "28800000"],
      ["maxT", String(r.maxTime)],
      ["minT", String(r.minTime)],
    ]);

    // The bloom filter of each row group excludes exactly the names it does not hold.
    const names = [...new Set(labels.rows.map((x) => String(x.l___name__)))];
    for (const name of [...names, "not_a_metric"]) {
      const probe = await q(
        `select row_group_id as g, bloom_filter_excludes as ex from parquet_bloom_probe('${lf}', 'l___name__', '${name}')`,
      );
      for (const p of probe) {
        const g = Number(p.g);
        const held = labels.rows.slice(g * 7, g * 7 + 7).some((x) => x.l___name__ === name);
        if (held) expect(p.ex).toBe(false);
        if (name === "not_a_metric") expect(p.ex).toBe(true);
      }
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
});
