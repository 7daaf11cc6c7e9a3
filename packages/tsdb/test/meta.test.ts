import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import { goMarshal, goString, goTime, GoStruct } from "../src/meta/go-json.ts";
import { parseMeta, serializeMeta, type BlockMeta } from "../src/meta/meta.ts";
import { newUlid } from "../src/meta/ulid.ts";

function expectMetaError(input: string | Uint8Array, pathPart: string): FormatError {
  let err: unknown;
  try {
    parseMeta(input, "blk/meta.json");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  expect(fe.code).toBe("invalid-value");
  expect(fe.file).toBe("blk/meta.json");
  expect(fe.message).toContain(pathPart);
  return fe;
}

const u = (t: number) => newUlid(t, new Uint8Array(10)); // Go's ulid.MustNew(t, nil)

// tsdb-block-format.md §3: a Prometheus ≥ v3.6 level-1 block, as writeMetaFile writes it.
const PROM_EXAMPLE = `{
	"ulid": "01J9Z3Q6W8K3V5T2B7R4M1N0PX",
	"minTime": 1700000000000,
	"maxTime": 1700007200000,
	"stats": {
		"numSamples": 4800,
		"numFloatSamples": 4800,
		"numSeries": 40,
		"numChunks": 40
	},
	"compaction": {
		"level": 1,
		"sources": [
			"01J9Z3Q6W8K3V5T2B7R4M1N0PX"
		]
	},
	"version": 1
}`;

// Thanos pkg/block/metadata/meta_test.go, "real write/read/write".
const THANOS_REAL = `{
	"ulid": "00000000050000000000000000",
	"minTime": 2424,
	"maxTime": 134,
	"stats": {
		"numSamples": 245,
		"numSeries": 4,
		"numChunks": 14
	},
	"compaction": {
		"level": 123,
		"sources": [
			"00000000010000000000000000",
			"00000000020000000000000000"
		],
		"parents": [
			{
				"ulid": "00000000030000000000000000",
				"minTime": 442,
				"maxTime": 24225
			}
		]
	},
	"version": 1,
	"thanos": {
		"version": 1,
		"labels": {
			"ext": "lset1"
		},
		"downsample": {
			"resolution": 123144
		},
		"source": "receive",
		"files": [
			{
				"rel_path": "chunks/000001",
				"size_bytes": 3751
			},
			{
				"rel_path": "index",
				"size_bytes": 401
			},
			{
				"rel_path": "meta.json"
			}
		],
		"index_stats": {
			"series_max_size": 2000,
			"chunk_max_size": 1000
		},
		"upload_time": "0001-01-01T00:00:00Z"
	}
}
`;

// Same file, "missing external labels write/read/write".
const THANOS_NO_LABELS = `{
	"ulid": "00000000050000000000000000",
	"minTime": 2424,
	"maxTime": 134,
	"stats": {
		"numSamples": 245,
		"numSeries": 4,
		"numChunks": 14
	},
	"compaction": {
		"level": 123,
		"sources": [
			"00000000010000000000000000",
			"00000000020000000000000000"
		],
		"parents": [
			{
				"ulid": "00000000030000000000000000",
				"minTime": 442,
				"maxTime": 24225
			}
		]
	},
	"version": 1,
	"thanos": {
		"version": 1,
		"labels": null,
		"downsample": {
			"resolution": 123144
		},
		"source": "receive",
		"files": [
			{
				"rel_path": "index",
				"size_bytes": 1313
			}
		],
		"index_stats": {},
		"upload_time": "0001-01-01T00:00:00Z"
	}
}
`;

// Same file, "extensions write/read/write".
const THANOS_EXTENSIONS = `{
	"ulid": "00000000050000000000000000",
	"minTime": 2424,
	"maxTime": 134,
	"stats": {
		"numSamples": 245,
		"numSeries": 4,
		"numChunks": 14
	},
	"compaction": {
		"level": 123
	},
	"version": 1,
	"thanos": {
		"labels": {
			"ext": "lset1"
		},
		"downsample": {
			"resolution": 123144
		},
		"source": "receive",
		"index_stats": {},
		"extensions": {
			"field1": 1,
			"field2": "test_string"
		},
		"upload_time": "0001-01-01T00:00:00Z"
	}
}
`;

// Same file, "empty write/read/write": Go's zero Meta, which no reader accepts.
const THANOS_EMPTY = `{
	"ulid": "00000000000000000000000000",
	"minTime": 0,
	"maxTime": 0,
	"stats": {},
	"compaction": {
		"level": 0
	},
	"version": 0,
	"thanos": {
		"labels": null,
		"downsample": {
			"resolution": 0
		},
		"source": "",
		"index_stats": {},
		"upload_time": "0001-01-01T00:00:00Z"
	}
}
`;

const baseThanos = (): BlockMeta => ({
  ulid: u(5),
  minTime: 2424,
  maxTime: 134,
  version: 1,
  compaction: { level: 123, sources: [u(1), u(2)], parents: [{ ulid: u(3), minTime: 442, maxTime: 24225 }] },
  stats: { numChunks: 14n, numSamples: 245n, numSeries: 4n },
});

describe("serializeMeta reproduces Go's bytes", () => {
  it("Prometheus style (reference example)", () => {
    const m = parseMeta(PROM_EXAMPLE);
    expect(m.stats.numSamples).toBe(4800n);
    expect(m.stats.numHistogramSamples).toBeUndefined();
    expect(m.compaction).toEqual({ level: 1, sources: ["01J9Z3Q6W8K3V5T2B7R4M1N0PX"] });
    expect(serializeMeta(m, { style: "prometheus" })).toBe(PROM_EXAMPLE);
  });

  it("Thanos meta_test.go: real write", () => {
    const m: BlockMeta = {
      ...baseThanos(),
      thanos: {
        version: 1,
        labels: { ext: "lset1" },
        source: "receive",
        files: [
          { rel_path: "chunks/000001", size_bytes: 3751 },
          { rel_path: "index", size_bytes: 401 },
          { rel_path: "meta.json" },
        ],
        downsample: { resolution: 123144 },
        index_stats: { series_max_size: 2000, chunk_max_size: 1000 },
      },
    };
    expect(serializeMeta(m, { style: "thanos" })).toBe(THANOS_REAL);
    expect(serializeMeta(parseMeta(THANOS_REAL), { style: "thanos" })).toBe(THANOS_REAL);
  });

  it("Thanos meta_test.go: missing external labels", () => {
    const m: BlockMeta = {
      ...baseThanos(),
      thanos: {
        version: 1,
        source: "receive",
        files: [{ rel_path: "index", size_bytes: 1313 }],
        downsample: { resolution: 123144 },
      },
    };
    expect(serializeMeta(m, { style: "thanos" })).toBe(THANOS_NO_LABELS);
    const back = parseMeta(THANOS_NO_LABELS);
    expect(back.thanos!.labels).toBeNull();
    expect(serializeMeta(back, { style: "thanos" })).toBe(THANOS_NO_LABELS);
  });

  it("Thanos meta_test.go: extensions", () => {
    const m: BlockMeta = {
      ...baseThanos(),
      compaction: { level: 123 },
      thanos: {
        labels: { ext: "lset1" },
        source: "receive",
        downsample: { resolution: 123144 },
        extensions: { field1: 1, field2: "test_string" },
      },
    };
    expect(serializeMeta(m, { style: "thanos" })).toBe(THANOS_EXTENSIONS);
    const back = parseMeta(THANOS_EXTENSIONS);
    expect(back.thanos!.extensions).toEqual({ field1: 1, field2: "test_string" });
    expect(serializeMeta(back, { style: "thanos" })).toBe(THANOS_EXTENSIONS);
  });

  it("Thanos meta_test.go: zero Meta (written, then rejected on read)", () => {
    const zero = {
      ulid: "00000000000000000000000000",
      minTime: 0,
      maxTime: 0,
      stats: {},
      compaction: { level: 0 },
      version: 0,
    } as unknown as BlockMeta;
    expect(serializeMeta(zero, { style: "thanos" })).toBe(THANOS_EMPTY);
    expect(expectMetaError(THANOS_EMPTY, "version").message).toContain("must be 1");
  });

  it("Prometheus style drops the thanos section and the newline", () => {
    const m = parseMeta(THANOS_REAL);
    const p = serializeMeta(m, { style: "prometheus" });
    expect(p.endsWith('\t"version": 1\n}')).toBe(true);
    expect(p).not.toContain("thanos");
  });

  it("reads old key order (Prometheus testdata index_format_v1) and writes Go's order", () => {
    const old = `{\n\t"version": 1,\n\t"ulid": "01DXXFZDYD1MQW6079WK0K6EDQ",\n\t"minTime": 0,\n\t"maxTime": 7200000,\n\t"stats": {\n\t\t"numSamples": 102,\n\t\t"numSeries": 102,\n\t\t"numChunks": 102\n\t},\n\t"compaction": {\n\t\t"level": 1,\n\t\t"sources": [\n\t\t\t"01DXXFZDYD1MQW6079WK0K6EDQ"\n\t\t]\n\t}\n}\n`;
    const m = parseMeta(old);
    expect(serializeMeta(m, { style: "prometheus" })).toBe(
      `{\n\t"ulid": "01DXXFZDYD1MQW6079WK0K6EDQ",\n\t"minTime": 0,\n\t"maxTime": 7200000,\n\t"stats": {\n\t\t"numSamples": 102,\n\t\t"numSeries": 102,\n\t\t"numChunks": 102\n\t},\n\t"compaction": {\n\t\t"level": 1,\n\t\t"sources": [\n\t\t\t"01DXXFZDYD1MQW6079WK0K6EDQ"\n\t\t]\n\t},\n\t"version": 1\n}`,
    );
  });

  it("omits zero stats and false flags, keeps every compaction field in order", () => {
    const m: BlockMeta = {
      ulid: u(9),
      minTime: 0,
      maxTime: 10,
      stats: { numSamples: 0n, numTombstones: 3n },
      compaction: { level: 2, sources: [], deletable: true, parents: [], failed: true, hints: ["from-out-of-order"] },
      version: 1,
    };
    expect(serializeMeta(m, { style: "prometheus" })).toBe(
      `{\n\t"ulid": "${u(9)}",\n\t"minTime": 0,\n\t"maxTime": 10,\n\t"stats": {\n\t\t"numTombstones": 3\n\t},\n\t"compaction": {\n\t\t"level": 2,\n\t\t"deletable": true,\n\t\t"failed": true,\n\t\t"hints": [\n\t\t\t"from-out-of-order"\n\t\t]\n\t},\n\t"version": 1\n}`,
    );
  });
});

describe("parseMeta", () => {
  it("reads uint64 stats losslessly", () => {
    const text = PROM_EXAMPLE.replace('"numSamples": 4800', '"numSamples": 18446744073709551615').replace(
      '"numSeries": 40',
      '"numSeries": 9007199254740993',
    );
    const m = parseMeta(text);
    expect(m.stats.numSamples).toBe(18446744073709551615n);
    expect(m.stats.numSeries).toBe(9007199254740993n);
    expect(serializeMeta(m, { style: "prometheus" })).toBe(text);
    // Only the top-level stats object is special: a same-named key elsewhere stays a number.
    const ext = parseMeta(THANOS_EXTENSIONS.replace('"field1": 1', '"numSamples": 1.5'));
    expect(ext.thanos!.extensions).toEqual({ numSamples: 1.5, field2: "test_string" });
  });

  it("rejects stats that are not uint64 literals", () => {
    for (const bad of ["-1", "1.5", "1e3", "18446744073709551616", '"12"', "true"]) {
      expectMetaError(PROM_EXAMPLE.replace('"numSeries": 40', `"numSeries": ${bad}`), "stats.numSeries");
    }
  });

  it("names the failing field", () => {
    expectMetaError("{", "not valid JSON");
    expectMetaError("[]", "(root)");
    expectMetaError(PROM_EXAMPLE.replace('"ulid": "01J9Z3Q6W8K3V5T2B7R4M1N0PX",', ""), "ulid");
    expectMetaError(
      PROM_EXAMPLE.replace('"ulid": "01J9Z3Q6W8K3V5T2B7R4M1N0PX"', '"ulid": "01J9Z3Q6W8K3V5T2B7R4M1N0PI"'),
      "ulid: not a ULID",
    );
    expectMetaError(PROM_EXAMPLE.replace('"minTime": 1700000000000', '"minTime": "0"'), "minTime");
    expectMetaError(PROM_EXAMPLE.replace('"minTime": 1700000000000', '"minTime": 1.5'), "minTime");
    expectMetaError(
      PROM_EXAMPLE.replace('"01J9Z3Q6W8K3V5T2B7R4M1N0PX"\n\t\t]', '"01J9Z3Q6W8K3V5T2B7R4M1N0PX", "x"]'),
      "compaction.sources[1]",
    );
    expectMetaError(PROM_EXAMPLE.replace('"version": 1', '"version": 2'), "version");
    expectMetaError(PROM_EXAMPLE.replace('"version": 1', '"version": 1, "thanos": {"version": 2}'), "thanos.version");
    expectMetaError(
      PROM_EXAMPLE.replace('"version": 1', '"version": 1, "thanos": {"upload_time": "yesterday"}'),
      "thanos.upload_time",
    );
    expectMetaError(
      PROM_EXAMPLE.replace('"version": 1', '"version": 1, "thanos": {"files": [{"size_bytes": 3}]}'),
      "thanos.files[0].rel_path",
    );
    // Prometheus testdata repair_index_version: meta version 2.
    expectMetaError(
      `{"version": 2, "ulid": "01BZJ9WJQPWHGNC2W4J9TA62KC", "minTime": 0, "maxTime": 1, "stats": {}, "compaction": {"level": 1}}`,
      "version",
    );
  });

  it("accepts bytes, Go-style nulls and lower-case ULIDs; rejects a BOM", () => {
    const bytes = new TextEncoder().encode(
      PROM_EXAMPLE.replace('"01J9Z3Q6W8K3V5T2B7R4M1N0PX",', '"01j9z3q6w8k3v5t2b7r4m1n0px",'),
    );
    const m = parseMeta(bytes);
    expect(m.ulid).toBe("01J9Z3Q6W8K3V5T2B7R4M1N0PX");
    expect(serializeMeta(m, { style: "prometheus" })).toBe(PROM_EXAMPLE);
    const withNulls = parseMeta(
      PROM_EXAMPLE.replace('"level": 1,', '"level": 1, "parents": null, "hints": null,').replace(
        '"version": 1',
        '"version": 1, "thanos": {"labels": {}, "segment_files": null, "index_stats": null}',
      ),
    );
    expect(withNulls.compaction.parents).toBeUndefined();
    expect(withNulls.thanos!.segment_files).toBeUndefined();
    expect(serializeMeta(withNulls, { style: "thanos" })).toContain(
      '\t"thanos": {\n\t\t"labels": {},\n\t\t"downsample": {\n\t\t\t"resolution": 0\n\t\t},\n\t\t"source": "",\n\t\t"index_stats": {},',
    );
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(PROM_EXAMPLE)]);
    expectMetaError(bom, "not valid JSON");
  });
});

describe("Go JSON encoding details", () => {
  it("escapes strings like encoding/json", () => {
    expect(goString("plain")).toBe('"plain"');
    expect(goString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goString("<a&b>")).toBe('"\\u003ca\\u0026b\\u003e"');
    expect(goString("\b\f\n\r\t\u0001\u001f\u007f")).toBe('"\\b\\f\\n\\r\\t\\u0001\\u001f\u007f"');
    expect(goString("x\u2028y\u2029")).toBe('"x\\u2028y\\u2029"');
    expect(goString("é😀")).toBe('"é😀"');
    expect(goString("bad\ud800")).toBe('"bad\ufffd"');
  });

  it("sorts map keys bytewise and keeps struct order", () => {
    // U+FFFD sorts before U+1F600 in UTF-8 but after it in UTF-16.
    expect(goMarshal({ "\u{1F600}": 1, "\ufffd": 2, b: 3, a: 4 })).toBe('{"a":4,"b":3,"\ufffd":2,"\u{1F600}":1}');
    expect(goMarshal(new GoStruct().set("b", 1).set("a", []).set("c", {}))).toBe('{"b":1,"a":[],"c":{}}');
    expect(goMarshal([1.5, 1e21, 1e-7, 123456789, -0.000001, 0], "\t")).toBe(
      "[\n\t1.5,\n\t1e+21,\n\t1e-7,\n\t123456789,\n\t-0.000001,\n\t0\n]",
    );
    expect(goMarshal(12345678901234567890n)).toBe("12345678901234567890");
  });

  it("formats times like time.Time.MarshalJSON", () => {
    expect(goTime(undefined)).toBe("0001-01-01T00:00:00Z");
    expect(goTime("2024-05-01T10:00:00.500000000+00:00")).toBe("2024-05-01T10:00:00.5Z");
    expect(goTime("2024-05-01T10:00:00.000Z")).toBe("2024-05-01T10:00:00Z");
    expect(goTime("2024-05-01T10:00:00.1234567891+02:00")).toBe("2024-05-01T10:00:00.123456789+02:00");
  });

  it("writes Thanos labels sorted and HTML-escaped", () => {
    const m = parseMeta(PROM_EXAMPLE);
    m.thanos = { labels: { zone: "a<b", "a&": "\u2028" }, upload_time: "2024-01-02T03:04:05.060Z" };
    const s = serializeMeta(m, { style: "thanos" });
    expect(s).toContain('"labels": {\n\t\t\t"a\\u0026": "\\u2028",\n\t\t\t"zone": "a\\u003cb"\n\t\t},');
    expect(s).toContain('"upload_time": "2024-01-02T03:04:05.06Z"\n\t}\n}\n');
    expect(parseMeta(s).thanos!.labels).toEqual({ zone: "a<b", "a&": "\u2028" });
  });
});

describe("meta.md", () => {
  it("keeps its Thanos example byte-exact under parse → serialize", () => {
    const doc = readFileSync(new URL("../docs/format/meta.md", import.meta.url), "utf8");
    const m = /<!-- example: meta-thanos -->\s*```json\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const text = m![1]!;
    const meta = parseMeta(text);
    expect(meta.stats.numSamples).toBe(2n ** 64n - 1n);
    expect(meta.thanos!.labels!.cluster).toBe("eu<1>");
    expect(serializeMeta(meta, { style: "thanos" })).toBe(text);
  });
});
