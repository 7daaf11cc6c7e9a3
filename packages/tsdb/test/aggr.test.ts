import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FormatError } from "../src/encoding/errors.ts";
import { Encoding, type Chunk } from "../src/chunkenc/chunk.ts";
import { AggrType, aggrNumSamples, decodeAggrChunk, encodeAggrChunk, getAggr } from "../src/chunkenc/aggr.ts";
import { decodeXOR, encodeXOR } from "../src/chunkenc/xor.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/[^0-9a-fA-F]/g, ""), "hex"));

function xorChunk(ts: number[], vs: number[]): Chunk {
  return { encoding: Encoding.XOR, data: encodeXOR(new Float64Array(ts), new Float64Array(vs), 0, ts.length) };
}

function thrown(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error("expected a FormatError");
}

describe("aggregate chunk", () => {
  const ts = [299_999, 599_999, 899_999];
  const count = xorChunk(ts, [20, 20, 19]);
  const sum = xorChunk(ts, [400, 410.5, 390]);
  const min = xorChunk(ts, [1, 2, 3]);
  const max = xorChunk(ts, [40, 41, 39]);
  const counter = xorChunk([0, ...ts, 899_999], [5, 100, 200, 300, 305]);

  it("lays out five length-prefixed entries in AggrType order", () => {
    const data = encodeAggrChunk([count, sum, min, max, counter]);
    let expected = "";
    for (const c of [count, sum, min, max, counter]) {
      expected += c.data.length.toString(16).padStart(2, "0") + "01" + hex(c.data);
    }
    expect(hex(data)).toBe(expected);
  });

  it("round-trips all parts and their samples", () => {
    const data = encodeAggrChunk([count, sum, min, max, counter]);
    const parts = decodeAggrChunk(data);
    expect(parts).toHaveLength(5);
    const orig = [count, sum, min, max, counter];
    for (let i = 0; i < 5; i++) {
      expect(parts[i]!.encoding).toBe(Encoding.XOR);
      expect(hex(parts[i]!.data)).toBe(hex(orig[i]!.data));
    }
    const t = new Float64Array(5);
    const v = new Float64Array(5);
    expect(decodeXOR(parts[AggrType.Counter]!.data, t, v)).toBe(5);
    expect(Array.from(v)).toEqual([5, 100, 200, 300, 305]);
    expect(aggrNumSamples(data)).toBe(3);
    expect(hex(getAggr(data, AggrType.Max)!.data)).toBe(hex(max.data));
  });

  it("writes absent aggregates as a zero length, as Thanos does for histogram series", () => {
    const data = encodeAggrChunk([count, sum, undefined, undefined, counter]);
    expect(data[data.length - counter.data.length - 4]).toBe(0);
    expect(data[data.length - counter.data.length - 3]).toBe(0);
    const parts = decodeAggrChunk(data);
    expect(parts.map((p) => p !== undefined)).toEqual([true, true, false, false, true]);
    expect(getAggr(data, AggrType.Min)).toBeUndefined();
    // A short array means the trailing aggregates are absent.
    expect(hex(encodeAggrChunk([count]))).toBe(
      hex(encodeAggrChunk([count, undefined, undefined, undefined, undefined])),
    );
    expect(hex(encodeAggrChunk([]))).toBe("0000000000");
    expect(decodeAggrChunk(unhex("0000000000"))).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it("reports NumSamples from the count aggregate, 0 when it is absent or unreadable", () => {
    expect(aggrNumSamples(encodeAggrChunk([undefined, sum, min, max, counter]))).toBe(0);
    expect(aggrNumSamples(encodeAggrChunk([count]))).toBe(3);
    expect(aggrNumSamples(new Uint8Array(0))).toBe(0);
    expect(aggrNumSamples(unhex("7f01"))).toBe(0);
  });

  it("rejects lengths that run past the data with a FormatError naming the entry offset", () => {
    const data = encodeAggrChunk([count, sum, min, max, counter]);
    // Every truncation fails; none reads past the end.
    for (let len = 0; len < data.length; len++) {
      const e = thrown(() => decodeAggrChunk(data.subarray(0, len)));
      expect(e.code).toBe("invalid-size");
      expect(e.offset).toBeLessThanOrEqual(len);
    }
    // Inflate the sum length: it now swallows bytes of later entries and the last one breaks.
    const bad = data.slice();
    const sumAt = 1 + 1 + count.data.length;
    bad[sumAt] = 0x7f;
    expect(thrown(() => decodeAggrChunk(bad)).code).toBe("invalid-size");
    // A length far beyond the data is refused before any slicing.
    const huge = unhex("ffffffff0f01");
    const e = thrown(() => decodeAggrChunk(huge));
    expect(e.code).toBe("invalid-size");
    expect(e.offset).toBe(0);
    // An 11-byte varint is invalid.
    expect(thrown(() => decodeAggrChunk(unhex("ff".repeat(11) + "00"))).code).toBe("invalid-value");
  });

  it("refuses to encode what Thanos would mis-encode", () => {
    expect(() => encodeAggrChunk([{ encoding: Encoding.XOR, data: new Uint8Array(0) }])).toThrow(RangeError);
    expect(() => encodeAggrChunk([count, sum, min, max, counter, count])).toThrow(RangeError);
  });

  it("matches the example in chunks-xor.md", () => {
    const doc = readFileSync(new URL("../docs/format/chunks-xor.md", import.meta.url), "utf8");
    const m = /<!-- example: aggr -->\s*```[a-z]*\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const bytes = unhex(
      m![1]!
        .split("\n")
        .map((l) => l.replace(/#.*$/, ""))
        .join(" "),
    );
    const one = xorChunk([1000], [1]);
    expect(hex(encodeAggrChunk([one, one, undefined, undefined, undefined]))).toBe(hex(bytes));
    expect(aggrNumSamples(bytes)).toBe(1);
  });
});
