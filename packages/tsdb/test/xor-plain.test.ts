import { describe, expect, it } from "vitest";
import { decodeXOR, encodeXOR, STALE_NAN, xorLastDecodePlain } from "../src/index.ts";

/** Decode a chunk of these samples and report whether the decoder called it plain. */
function plain(ts: number[], vs: number[]): boolean {
  const t = Float64Array.from(ts);
  const v = Float64Array.from(vs);
  const out = { t: new Float64Array(ts.length), v: new Float64Array(ts.length) };
  expect(decodeXOR(encodeXOR(t, v, 0, ts.length), out.t, out.v)).toBe(ts.length);
  expect(Array.from(out.t)).toEqual(ts);
  return xorLastDecodePlain();
}

describe("xorLastDecodePlain (lets Thanos' expansion skip its filter pass)", () => {
  const ts = [1000, 2000, 3000, 4000, 5000];
  it("is true for finite values and rising timestamps, repeated values included", () => {
    expect(plain(ts, [1, 1, 2.5, -3, -3])).toBe(true);
    expect(plain([0, 0, 10], [1, 2, 3])).toBe(true);
  });
  it.each([
    ["a stale marker", ts, [1, 2, STALE_NAN, 4, 5]],
    ["a NaN first value", ts, [NaN, 2, 3, 4, 5]],
    ["an unchanged NaN after the first", ts, [1, NaN, NaN, 4, 5]],
    ["+Inf", ts, [1, 2, 3, Infinity, 5]],
    ["-Inf last", ts, [1, 2, 3, 4, -Infinity]],
    ["a negative first timestamp", [-5000, 2000, 3000, 4000, 5000], [1, 2, 3, 4, 5]],
    ["a step back at sample 1", [2000, 1000, 3000, 4000, 5000], [1, 2, 3, 4, 5]],
    ["a step back later", [1000, 2000, 3000, 2500, 5000], [1, 2, 3, 4, 5]],
    ["a step back with a large dod", [1000, 2000, 3000, -1e9, 5000], [1, 2, 3, 4, 5]],
  ])("is false after %s", (_what, t, v) => {
    expect(plain(t, v)).toBe(false);
    // and the flag does not stick to the next, plain chunk
    expect(plain(ts, [1, 2, 3, 4, 5])).toBe(true);
  });
});
