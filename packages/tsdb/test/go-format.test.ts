import { describe, expect, it } from "vitest";
import { formatGoFloat } from "../src/labels/go-format.ts";
import { goQuote, labelsToString, labelsFrom } from "../src/labels/labels.ts";

describe("formatGoFloat matches Go's %g", () => {
  // Expected strings are what Go's fmt.Sprintf("%g", v) prints.
  const cases: [number, string][] = [
    [0, "0"],
    [-0, "-0"],
    [1, "1"],
    [-2.5, "-2.5"],
    [123456, "123456"],
    [1234567, "1.234567e+06"],
    [1e6, "1e+06"],
    [1e21, "1e+21"],
    [1e-4, "0.0001"],
    [1.5e-5, "1.5e-05"],
    [0.1 + 0.2, "0.30000000000000004"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [100, "100"],
    [999999, "999999"],
    [0.000123, "0.000123"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ];
  it.each(cases)("%s → %s", (v, want) => {
    expect(formatGoFloat(v)).toBe(want);
  });
});

describe("label formatting like Go", () => {
  it("quotes as strconv.Quote", () => {
    expect(goQuote('a"b\\c\n\t')).toBe('"a\\"b\\\\c\\n\\t"');
    expect(goQuote("\u00e9\u{1F600}")).toBe('"\u00e9\u{1F600}"');
    expect(goQuote("\u0000\u007f")).toBe('"\\x00\\x7f"');
    expect(goQuote("\u00a0")).toBe('"\\u00a0"');
  });
  it('prints label sets as {a="1", b="2"}', () => {
    expect(labelsToString(labelsFrom({ b: "2", __name__: "up", a: "1" }))).toBe('{__name__="up", a="1", b="2"}');
  });
});
