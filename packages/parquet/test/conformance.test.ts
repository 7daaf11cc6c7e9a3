// What parquet-common's own code and tests expect of the files (PC = parquet-common as vendored
// by Cortex, CX = Cortex, PG = parquet-go; see FORMAT.md), checked on our files through
// hyparquet, an independent reader. Blocks are written here by @strata/tsdb so their ranges are
// exact; the promtool blocks are in convert.test.ts.
import { type FileMetaData, parquetMetadata, parquetReadObjects, readColumnIndex, readOffsetIndex } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { hashParquetValue, readBloomFilter, sbbfContains } from "hyparquet/src/bloom.js";
import { deserializeTCompactProtocol } from "hyparquet/src/thrift.js";
import { describe, expect, it } from "vitest";
import {
  BlockWriter,
  compareLabels,
  compareStrings,
  Encoding,
  encodeXOR,
  type Label,
  labelsFrom,
  MemoryBlock,
} from "@strata/tsdb";
import {
  CONVERTER_MARK_FILE,
  type ConvertOptions,
  convertBlock,
  type ConvertResult,
  DEFAULT_COL_DURATION_MS,
  DEFAULT_ROW_GROUP_SIZE,
  decodeDataColumn,
  globalConverterMarkPath,
} from "@strata/parquet";

const HOUR = 3600_000;
const MIN = 60_000;

/** A block of `series` with samples at `times` (value = series index), meta range [minTime, maxTime). */
async function makeBlock(series: Label[][], times: number[], minTime: number, maxTime: number): Promise<MemoryBlock> {
  const b = new MemoryBlock("in");
  const w = new BlockWriter(b);
  const sorted = [...series].sort(compareLabels);
  const syms = new Set<string>();
  for (const s of sorted) for (const l of s) syms.add(l.name).add(l.value);
  await w.addSymbols([...syms].sort(compareStrings));
  const ts = Float64Array.from(times);
  for (let i = 0; i < sorted.length; i++) {
    const vs = new Float64Array(times.length).fill(i);
    const chunks = [];
    for (let k = 0; k < times.length; k += 120) {
      const end = Math.min(times.length, k + 120);
      chunks.push({
        minTime: times[k]!,
        maxTime: times[end - 1]!,
        chunk: { encoding: Encoding.XOR, data: encodeXOR(ts, vs, k, end) },
      });
    }
    await w.addSeries(sorted[i]!, chunks);
  }
  await w.finish({
    ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ",
    minTime,
    maxTime,
    stats: {},
    compaction: { level: 1, sources: ["01HZZZZZZZZZZZZZZZZZZZZZZZ"] },
    version: 1,
  });
  return b;
}

interface Out {
  r: ConvertResult;
  files: Map<string, Uint8Array>;
}

async function convert(b: MemoryBlock, opts: ConvertOptions = {}): Promise<Out> {
  const out = new MemoryBlock("out");
  const r = await convertBlock(b, out, opts);
  return { r, files: out.files };
}

function ab(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

function meta(out: Out, name: string): FileMetaData {
  return parquetMetadata(ab(out.files.get(name)!));
}

async function rows(out: Out, name: string): Promise<Record<string, unknown>[]> {
  return (await parquetReadObjects({ file: ab(out.files.get(name)!), compressors, utf8: false })) as Record<
    string,
    unknown
  >[];
}

/** A page bound as hyparquet hands it out (string for STRING columns, bytes otherwise). */
function boundLength(v: unknown): number {
  if (typeof v === "string") return v.length;
  return v instanceof Uint8Array ? v.length : 0;
}

const view = (b: Uint8Array, offset: number) => ({ view: new DataView(b.buffer, b.byteOffset, b.length), offset });

describe("parquet-common's defaults (PC convert/convert.go DefaultConvertOpts; CX converter.go)", () => {
  it("8h data columns, 1e6 rows per row group", () => {
    expect(DEFAULT_COL_DURATION_MS).toBe(8 * HOUR);
    expect(DEFAULT_ROW_GROUP_SIZE).toBe(1_000_000);
  });
});

describe("PC convert_test.go Test_Convert_TSDB: 1200 series foo{bar=2i}, shards of 4 row groups of 100", () => {
  const cases = [
    { col: HOUR, step: HOUR, samples: 3, chunks: 3, points: 1 },
    { col: HOUR, step: HOUR, samples: 48, chunks: 48, points: 1 },
    { col: 8 * HOUR, step: HOUR / 2, samples: 10, chunks: 1, points: 10 },
    { col: 8 * HOUR, step: HOUR / 2, samples: 32, chunks: 2, points: 16 },
  ];
  for (const c of cases) {
    it(`column ${c.col / HOUR}h, step ${c.step / MIN}m, ${c.samples} samples → ${c.chunks} chunks of ${c.points}`, async () => {
      const series = Array.from({ length: 1200 }, (_, i) => labelsFrom({ __name__: "foo", bar: String(2 * i) }));
      const times = Array.from({ length: c.samples }, (_, j) => j * c.step);
      const out = await convert(await makeBlock(series, times, 0, times[times.length - 1]! + 1), {
        colDurationMs: c.col,
        numRowGroups: 4,
        rowGroupSize: 100,
      });
      // 1200 series; 3 shards of 4 row groups of 100 rows.
      expect(out.r.shards).toHaveLength(3);
      for (const s of out.r.shards) {
        const lm = meta(out, s.labels.name);
        const cm = meta(out, s.chunks.name);
        expect(lm.row_groups.map((g) => Number(g.num_rows))).toEqual([100, 100, 100, 100]);
        expect(cm.row_groups.map((g) => Number(g.num_rows))).toEqual([100, 100, 100, 100]);
        for (const row of await rows(out, s.chunks.name)) {
          const all = Object.values(row).flatMap((v) => decodeDataColumn(v as Uint8Array));
          expect(all).toHaveLength(c.chunks);
          for (const ch of all) expect(ch.data[0]! * 256 + ch.data[1]!).toBe(c.points); // XOR header: sample count
          // Chunk files' page bounds are empty (PC: "Make sure the chunk page bounds are empty").
        }
        const chunksBytes = out.files.get(s.chunks.name)!;
        for (const g of cm.row_groups) {
          for (const col of g.columns) {
            const ci = readColumnIndex(view(chunksBytes, Number(col.column_index_offset)), cm.schema[1]!);
            for (const v of [...ci.min_values, ...ci.max_values]) expect(boundLength(v)).toBe(0);
          }
        }
        // Labels files: page bounds for label columns, none for s_col_indexes / s_series_hash.
        const labelsBytes = out.files.get(s.labels.name)!;
        for (const g of lm.row_groups) {
          for (const col of g.columns) {
            const name = col.meta_data!.path_in_schema[0]!;
            const el = lm.schema.find((e) => e.name === name)!;
            const ci = readColumnIndex(view(labelsBytes, Number(col.column_index_offset)), el);
            const bounds = [...ci.min_values, ...ci.max_values].map(boundLength);
            if (name.startsWith("s_")) expect(bounds.every((n) => n === 0)).toBe(true);
            else expect(bounds.every((n) => n > 0)).toBe(true);
          }
        }
      }
    });
  }
});

describe("PC convert_test.go time range test: 240 samples every 30s, range [30m, 90m-1], 10m columns", () => {
  it("6 data columns, 4 labels-file columns, metadata minT/maxT/data_col_duration_ms, 120 samples", async () => {
    const times = Array.from({ length: 240 }, (_, i) => i * 30_000).filter((t) => t >= 30 * MIN && t <= 90 * MIN - 1);
    const out = await convert(
      await makeBlock([labelsFrom({ __name__: "test", foo: "bar" })], times, 30 * MIN, 90 * MIN - 1),
      {
        colDurationMs: 10 * MIN,
      },
    );
    const lm = meta(out, "0.labels.parquet");
    const cm = meta(out, "0.chunks.parquet");
    for (const m of [lm, cm]) {
      const kv = Object.fromEntries((m.key_value_metadata ?? []).map((e) => [e.key, e.value]));
      expect(kv.minT).toBe(String(30 * MIN));
      expect(kv.maxT).toBe(String(90 * MIN - 1));
      expect(kv.data_col_duration_ms).toBe(String(10 * MIN));
    }
    expect(lm.schema.length - 1).toBe(4); // 2 labels + col indexes + series hash
    expect(cm.schema.length - 1).toBe(6); // 6 data cols with 10 min duration
    const [row] = await rows(out, "0.chunks.parquet");
    const total = Object.values(row!)
      .flatMap((v) => decodeDataColumn(v as Uint8Array))
      .reduce((s, c) => s + c.data[0]! * 256 + c.data[1]!, 0);
    expect(total).toBe(120);
  });
});

describe("the layout field by field (PC schema/*.go, convert/*.go; PG config.go, bloom.go; CX converter_marker.go)", async () => {
  const series = [
    labelsFrom({ __name__: "up", job: "a", instance: "x" }),
    labelsFrom({ __name__: "up", job: "b", instance: "y" }),
    labelsFrom({ __name__: "http_requests_total", job: "a", code: "200" }),
    labelsFrom({ __name__: "go_goroutines", zone: "eu" }),
  ];
  const times = Array.from({ length: 24 * 12 }, (_, i) => i * 5 * MIN);
  const out = await convert(await makeBlock(series, times, 0, 24 * HOUR));
  const lb = out.files.get("0.labels.parquet")!;
  const cb = out.files.get("0.chunks.parquet")!;
  const lm = meta(out, "0.labels.parquet");
  const cm = meta(out, "0.chunks.parquet");
  /** Both files, with their bytes. */
  const files = [
    [lm, lb],
    [cm, cb],
  ] as const;
  /** Every column chunk of both files, with its file's bytes. */
  const columnChunks = files.flatMap(([m, bytes]) => m.row_groups.flatMap((g) => g.columns.map((c) => ({ c, bytes }))));

  it("file names: <shard>.labels.parquet, <shard>.chunks.parquet, parquet-converter-mark.json (Go json, version 2)", () => {
    expect([...out.files.keys()].sort()).toEqual([
      "0.chunks.parquet",
      "0.labels.parquet",
      "parquet-converter-mark.json",
    ]);
    expect(CONVERTER_MARK_FILE).toBe("parquet-converter-mark.json");
    expect(new TextDecoder().decode(out.files.get(CONVERTER_MARK_FILE))).toBe('{"version":2,"shards":1}');
    // CX bucketindex/markers.go ConverterMarkFilePath: the global copy Cortex's bucket index lists.
    expect(globalConverterMarkPath("01HZZZZZZZZZZZZZZZZZZZZZZZ")).toBe(
      "parquet-markers/01HZZZZZZZZZZZZZZZZZZZZZZZ-parquet-converter-mark.json",
    );
  });

  it("schema: root 'compressed'; l_* optional UTF8 strings in name order, then s_col_indexes, s_series_hash (required byte arrays)", () => {
    expect(lm.schema[0]!.name).toBe("compressed");
    expect(lm.schema.slice(1).map((e) => e.name)).toEqual([
      "l___name__",
      "l_code",
      "l_instance",
      "l_job",
      "l_zone",
      "s_col_indexes",
      "s_series_hash",
    ]);
    for (const e of lm.schema.slice(1)) {
      expect(e.type).toBe("BYTE_ARRAY");
      if (e.name.startsWith("l_")) {
        expect(e.repetition_type).toBe("OPTIONAL");
        expect(e.converted_type).toBe("UTF8");
        expect(e.logical_type?.type).toBe("STRING");
      } else {
        expect(e.repetition_type).toBe("REQUIRED");
        expect(e.logical_type).toBeUndefined();
      }
    }
  });

  it("data columns: a 24h block at 8h has 4 (t = minT … ≤ maxT), s_data_<i>, required byte arrays", () => {
    expect(cm.schema[0]!.name).toBe("compressed");
    expect(cm.schema.slice(1).map((e) => [e.name, e.type, e.repetition_type])).toEqual(
      [0, 1, 2, 3].map((i) => [`s_data_${i}`, "BYTE_ARRAY", "REQUIRED"]),
    );
  });

  it("encodings: RLE_DICTIONARY labels, DELTA_BYTE_ARRAY col indexes, PLAIN hash, DELTA_LENGTH_BYTE_ARRAY data; zstd; data pages v2", () => {
    const want: Record<string, string> = {
      s_col_indexes: "DELTA_BYTE_ARRAY",
      s_series_hash: "PLAIN",
    };
    for (const { c, bytes } of columnChunks) {
      const md = c.meta_data!;
      const name = md.path_in_schema[0]!;
      expect(md.codec).toBe("ZSTD");
      const valueEnc = name.startsWith("l_")
        ? "RLE_DICTIONARY"
        : name.startsWith("s_data_")
          ? "DELTA_LENGTH_BYTE_ARRAY"
          : want[name];
      expect(md.encodings).toContain(valueEnc);
      if (name.startsWith("l_")) expect(md.dictionary_page_offset).toBeDefined();
      const header = deserializeTCompactProtocol(view(bytes, Number(md.data_page_offset))) as Record<string, unknown>;
      expect(header.field_1).toBe(3); // DATA_PAGE_V2
    }
  });

  it("row order: by __name__, then the label set; sorting column l___name__ ascending, nulls last", async () => {
    const names = (await rows(out, "0.labels.parquet")).map((r) => r.l___name__);
    expect(names).toEqual(["go_goroutines", "http_requests_total", "up", "up"]);
    for (const g of lm.row_groups)
      expect(g.sorting_columns).toEqual([{ column_idx: 0, descending: false, nulls_first: false }]);
    // PG writer.go: the chunks file has no l___name__; its entry stays zero-valued (column 0).
    for (const g of cm.row_groups)
      expect(g.sorting_columns).toEqual([{ column_idx: 0, descending: false, nulls_first: false }]);
  });

  it("file version 2 (PG writer.go parquetFileFormatVersion), a type-defined column order per column", () => {
    for (const [m, bytes] of files) {
      expect(m.version).toBe(2);
      // hyparquet does not surface column_orders (field 7): read the footer's thrift directly.
      const len = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 4).getUint32(0, true);
      const footer = deserializeTCompactProtocol(view(bytes, bytes.length - 8 - len)) as Record<string, unknown>;
      expect(footer.field_7).toHaveLength(m.schema.length - 1);
    }
  });

  it("bloom filter: on l___name__ only, 10 bits per distinct value in 32-byte blocks, every name found", () => {
    for (const g of lm.row_groups) {
      for (const c of g.columns) {
        const md = c.meta_data!;
        const name = md.path_in_schema[0]!;
        if (name !== "l___name__") {
          expect(md.bloom_filter_offset).toBeUndefined();
          continue;
        }
        const f = readBloomFilter(view(lb, Number(md.bloom_filter_offset)))!;
        expect(f.numBytes).toBe(32 * Math.ceil(Math.ceil((3 * 10) / 8) / 32)); // 3 distinct names
        const el = lm.schema.find((e) => e.name === name)!;
        for (const v of ["up", "http_requests_total", "go_goroutines"])
          expect(sbbfContains(f.blocks, hashParquetValue(v, el)!)).toBe(true);
        expect(sbbfContains(f.blocks, hashParquetValue("not_a_metric", el)!)).toBe(false);
      }
    }
    for (const g of cm.row_groups) for (const c of g.columns) expect(c.meta_data!.bloom_filter_offset).toBeUndefined();
  });

  it("page index: every column chunk has an offset index whose first page is its data page", () => {
    expect(columnChunks.length).toBeGreaterThan(0);
    for (const { c, bytes } of columnChunks) {
      const oi = readOffsetIndex(view(bytes, Number(c.offset_index_offset)));
      expect(oi.page_locations[0]!.offset).toBe(c.meta_data!.data_page_offset);
      expect(Number(oi.page_locations[0]!.first_row_index)).toBe(0);
    }
  });

  it("metadata: data_col_duration_ms, minT, maxT in both files", () => {
    for (const m of [lm, cm]) {
      const kv = Object.fromEntries((m.key_value_metadata ?? []).map((e) => [e.key, e.value]));
      expect(kv).toEqual({ data_col_duration_ms: String(8 * HOUR), minT: "0", maxT: String(24 * HOUR) });
    }
  });
});
