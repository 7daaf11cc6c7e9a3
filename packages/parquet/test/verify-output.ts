// Test support: every check of a converted block against the block itself.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { xxhash64 as hyXxhash64 } from "hyparquet/src/xxhash.js";
import { expect } from "vitest";
import { type ConvertResult, decodeColIndexes, decodeDataColumn } from "@strata/parquet";
import { type ExpectedSeries, expectedSeries, readShard, xorSamples } from "./read-back.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface VerifyOptions {
  colDurationMs: number;
  rowGroupSize: number;
  samplesPerChunk?: number;
  sortBy?: readonly string[];
}

/** Checks every shard's two files row by row against the block's series and samples. */
export async function verifyConversion(
  blockDir: string,
  outDir: string,
  r: ConvertResult,
  o: VerifyOptions,
): Promise<ExpectedSeries[]> {
  const expected = await expectedSeries(blockDir, o.sortBy);
  const perChunk = o.samplesPerChunk ?? 120;
  let next = 0;
  for (const sh of r.shards) {
    const { labels, chunks } = await readShard(outDir, sh.shard);
    const lnames = labels.md.schema.slice(1).map((s) => s.name);
    const cnames = chunks.md.schema.slice(1).map((s) => s.name);
    expect(labels.rows.length).toBe(chunks.rows.length);
    expect(Number(labels.md.num_rows)).toBe(sh.rows);
    // Row groups: both files cut at the same rows, rowGroupSize each but the last.
    const lrg = labels.md.row_groups.map((g) => Number(g.num_rows));
    expect(chunks.md.row_groups.map((g) => Number(g.num_rows))).toEqual(lrg);
    lrg.forEach((n, i) => {
      if (i < lrg.length - 1) expect(n).toBe(o.rowGroupSize);
      else expect(n).toBeLessThanOrEqual(o.rowGroupSize);
    });
    // Metadata of both files: the block's range and the column width.
    for (const f of [labels, chunks]) {
      const kv = Object.fromEntries((f.md.key_value_metadata ?? []).map((e) => [e.key, e.value]));
      expect(kv).toEqual({
        data_col_duration_ms: String(o.colDurationMs),
        minT: String(r.minTime),
        maxT: String(r.maxTime),
      });
    }
    const nData = cnames.length;
    for (let row = 0; row < labels.rows.length; row++) {
      const want = expected[next++];
      expect(want, `row ${row} of shard ${sh.shard} has no series left in the block`).toBeDefined();
      const lr = labels.rows[row]!;
      const cr = chunks.rows[row]!;
      // Label columns: exactly the series' labels; the rest null.
      const got: { name: string; value: string }[] = [];
      for (const n of lnames) {
        if (!n.startsWith("l_")) continue;
        const v = lr[n];
        // hyparquet hands STRING columns out as strings even with utf8: false.
        if (v !== null && v !== undefined) {
          got.push({ name: n.slice(2), value: typeof v === "string" ? v : dec.decode(v as Uint8Array) });
        }
      }
      expect(got).toEqual(want!.labels.map((l) => ({ name: l.name, value: l.value })));
      // s_col_indexes: the label columns' positions in the full schema (labels come first).
      const idx = decodeColIndexes(lr.s_col_indexes as Uint8Array);
      expect(idx).toEqual(want!.labels.map((l) => lnames.indexOf(`l_${l.name}`)).sort((a, b) => a - b));
      // s_series_hash: labels.StableHash, big-endian, computed here with hyparquet's own XXH64.
      const parts: number[] = [];
      for (const l of want!.labels) parts.push(...enc.encode(l.name), 0xff, ...enc.encode(l.value), 0xff);
      const h = hyXxhash64(new Uint8Array(parts));
      const hb = new Uint8Array(8);
      new DataView(hb.buffer).setBigUint64(0, h, false);
      expect([...(lr.s_series_hash as Uint8Array)]).toEqual([...hb]);
      // Data columns: chunks of ≤ perChunk samples, each inside its column's window; all together the block's samples.
      const ts: number[] = [];
      const bits: bigint[] = [];
      for (let i = 0; i < nData; i++) {
        const v = cr[`s_data_${i}`] as Uint8Array;
        for (const c of decodeDataColumn(v)) {
          expect(c.encoding).toBe(1);
          const s = xorSamples(c.data);
          expect(s.ts.length).toBeGreaterThan(0);
          expect(s.ts.length).toBeLessThanOrEqual(perChunk);
          expect(c.minTime).toBe(Math.min(...s.ts));
          expect(c.maxTime).toBe(Math.max(0, ...s.ts));
          for (const t of s.ts) {
            expect(t).toBeGreaterThanOrEqual(r.minTime + i * o.colDurationMs);
            expect(t).toBeLessThan(r.minTime + (i + 1) * o.colDurationMs);
          }
          ts.push(...s.ts);
          bits.push(...s.bits);
        }
      }
      expect(ts).toEqual(want!.ts);
      expect(bits).toEqual(want!.bits);
    }
  }
  expect(next).toBe(expected.length);
  if (r.mark !== undefined) {
    const mark = JSON.parse(await readFile(join(outDir, r.mark), "utf8")) as unknown;
    expect(mark).toEqual({ version: 2, shards: r.shards.length });
  }
  return expected;
}
