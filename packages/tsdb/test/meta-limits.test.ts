/** parseMeta's size cap and its cost on hostile input: it stops at the first bad element. */
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import { MAX_META_BYTES, parseMeta } from "../src/meta/meta.ts";

const ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
const meta = (compaction: string, more = "") =>
  `{"ulid":"${ULID}","minTime":0,"maxTime":7200000,"stats":{"numSamples":12},"compaction":{"level":2${compaction}},"version":1${more}}`;
/** `field` holding copies of `elem` up to about `bytes` bytes. */
const padded = (field: string, elem: string, bytes: number) =>
  `,"${field}":[${Array(Math.floor(bytes / (elem.length + 1)))
    .fill(elem)
    .join(",")}]`;

function fail(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return e as FormatError;
  }
  throw new Error("expected a FormatError");
}

describe("parseMeta size cap", () => {
  it("refuses more than MAX_META_BYTES (1 MiB) before decoding, bytes or text", () => {
    expect(MAX_META_BYTES).toBe(1 << 20);
    const big = meta(padded("sources", `"${ULID}"`, 2 << 20));
    const e = fail(() => parseMeta(new TextEncoder().encode(big), "b/meta.json"));
    expect(e).toMatchObject({
      code: "invalid-size",
      file: "b/meta.json",
      expected: `≤ ${1 << 20} bytes`,
      found: `${big.length} bytes`,
    });
    expect(fail(() => parseMeta(big)).code).toBe("invalid-size");
    // Not valid JSON at all: the cap comes first, nothing is decoded.
    expect(fail(() => parseMeta(new Uint8Array((1 << 20) + 1))).code).toBe("invalid-size");
    // The override lets a larger (valid) one through, and tightens it too.
    expect(parseMeta(big, "meta.json", { maxBytes: 4 << 20 }).compaction.sources).toHaveLength(
      Math.floor((2 << 20) / 29),
    );
    expect(fail(() => parseMeta(meta(""), "meta.json", { maxBytes: 50 })).code).toBe("invalid-size");
  });

  it("counts UTF-8 bytes of text input, not UTF-16 units", () => {
    const text = meta("", `,"thanos":{"labels":{"a":"${"é".repeat(400)}${"😀".repeat(100)}"}}`);
    const bytes = new TextEncoder().encode(text).length;
    expect(parseMeta(text, "meta.json", { maxBytes: bytes }).thanos!.labels!.a).toHaveLength(600);
    expect(fail(() => parseMeta(text, "meta.json", { maxBytes: bytes - 1 })).code).toBe("invalid-size");
  });
});

describe("parseMeta on 2 MiB of bad array elements (cap raised)", () => {
  const cases: [string, string, string, RegExp][] = [
    [
      "compaction.sources",
      "compaction",
      padded("sources", '"not-a-ulid"', 2 << 20),
      /^compaction\.sources\[0\]: not a ULID/,
    ],
    [
      "compaction.parents",
      "compaction",
      padded("parents", '{"ulid":1}', 2 << 20),
      /^compaction\.parents\[0\]\.ulid: .*expected string/,
    ],
    ["compaction.hints", "compaction", padded("hints", "1", 2 << 20), /^compaction\.hints\[0\]: .*expected string/],
    [
      "thanos.files",
      "thanos",
      `,"thanos":{"files":[${Array(100_000).fill('{"rel_path":7}').join(",")}]}`,
      /^thanos\.files\[0\]\.rel_path: .*expected string/,
    ],
    [
      "thanos.segment_files",
      "thanos",
      `,"thanos":{"segment_files":[${Array(500_000).fill("null").join(",")}]}`,
      /^thanos\.segment_files\[0\]: .*expected string/,
    ],
    [
      "thanos.rewrites[].sources",
      "thanos",
      `,"thanos":{"rewrites":[{"sources":[${Array(400_000).fill('"x"').join(",")}]}]}`,
      /^thanos\.rewrites\[0\]\.sources\[0\]: not a ULID/,
    ],
    [
      "thanos.labels",
      "thanos",
      `,"thanos":{"labels":{${Array.from({ length: 150_000 }, (_, i) => `"l${i}":${i}`).join(",")}}}`,
      /^thanos\.labels\.l0: .*expected string/,
    ],
  ];
  for (const [name, where, extra, msg] of cases) {
    it(`${name}: first bad element named, quickly`, () => {
      const text = where === "compaction" ? meta(extra) : meta("", extra);
      expect(text.length).toBeGreaterThan(1 << 20);
      const bytes = new TextEncoder().encode(text);
      const t = performance.now();
      const e = fail(() => parseMeta(bytes, "meta.json", { maxBytes: 64 << 20 }));
      const ms = performance.now() - t;
      expect(e.code).toBe("invalid-value");
      expect(e.detail).toMatch(msg);
      expect(e.found).toBeDefined();
      // ~30 ms measured alone, ~500 ms under coverage on a busy CI machine; one zod issue per element took 10 s.
      expect(ms).toBeLessThan(2500);
    });
  }

  it("a bad element after many good ones is named by its index", () => {
    const good = Array(5000).fill(`"${ULID}"`);
    good[4321] = '"01ARZ3NDEKTSV4RRFFQ69G5FAU!"';
    const e = fail(() => parseMeta(meta(`,"sources":[${good.join(",")}]`)));
    expect(e.detail).toMatch(/^compaction\.sources\[4321\]: not a ULID/);
    expect(e.found).toBe('"01ARZ3NDEKTSV4RRFFQ69G5FAU!"');
  });
});

describe("parseMeta stats digits without a whole-document reviver", () => {
  it("reads the root's last stats object, also under an escaped key, and nothing nested", () => {
    const text = `{"x":{"stats":{"numSamples":1.5}},"ulid":"${ULID}","minTime":0,"maxTime":1,"stats":{"numSamples":1},"compaction":{"level":1},"version":1,"st\\u0061ts":{"numSeries":18446744073709551615,"numSamples":9007199254740993}}`;
    const m = parseMeta(text);
    expect(m.stats.numSeries).toBe(18446744073709551615n);
    expect(m.stats.numSamples).toBe(9007199254740993n);
    const e = fail(() => parseMeta(text.replace("9007199254740993", "1e3")));
    expect(e.detail).toBe("stats.numSamples: must be an unsigned 64-bit integer");
    expect(e.found).toBe("1e3");
    // Strings with braces and quotes in them do not confuse the scan.
    const tricky = `{"a":"}{\\"stats\\":{","ulid":"${ULID}","minTime":0,"maxTime":1,"stats":{"numChunks":3,"z":"}"},"compaction":{"level":1},"version":1}`;
    expect(parseMeta(tricky).stats.numChunks).toBe(3n);
  });
});
