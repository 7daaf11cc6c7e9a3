import { describe, expect, it } from "vitest";
import { DURATION_FORM, formatDuration, parseDuration, tryParseDuration } from "@strata/tsdb";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration", () => {
  it("reads Prometheus' syntax", () => {
    expect(parseDuration("0", "X")).toBe(0);
    expect(parseDuration("500ms", "X")).toBe(500);
    expect(parseDuration("90s", "X")).toBe(90 * S);
    expect(parseDuration("15m", "X")).toBe(15 * M);
    expect(parseDuration("48h", "X")).toBe(48 * H);
    expect(parseDuration("30d", "X")).toBe(30 * D);
    expect(parseDuration("2w", "X")).toBe(14 * D);
    expect(parseDuration("1y", "X")).toBe(365 * D);
    expect(parseDuration("1h30m", "X")).toBe(90 * M);
    expect(parseDuration("1d2h3m4s5ms", "X")).toBe(D + 2 * H + 3 * M + 4 * S + 5);
    expect(parseDuration(" 2h ", "X")).toBe(2 * H);
  });

  it("refuses what is not a duration, naming the setting and the expected form", () => {
    for (const bad of ["", "15", "2 days", "1.5h", "-1h", "h", "30m1h", "1h1h", "1hm", "5mss", "2H", "0s0"]) {
      expect(tryParseDuration(bad), bad).toBeUndefined();
    }
    expect(() => parseDuration("2 days", "STRATA_DELETE_DELAY")).toThrow(
      `STRATA_DELETE_DELAY: expected ${DURATION_FORM}, found "2 days"`,
    );
    expect(DURATION_FORM).toBe("a duration like 0, 90s, 15m, 48h or 30d");
    expect(tryParseDuration(`${Number.MAX_SAFE_INTEGER}d`)).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it("writes the shortest form", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [500, "500ms"],
      [1500, "1500ms"],
      [90 * S, "90s"],
      [M, "1m"],
      [25 * M, "25m"],
      [65 * M, "65m"],
      [90 * M, "90m"],
      [2 * H, "2h"],
      [36 * H, "36h"],
      [48 * H, "2d"],
      [14 * D, "14d"],
      [D + 1, "1d1ms"],
      [D + H + 1, "25h1ms"],
    ];
    for (const [ms, text] of cases) expect(formatDuration(ms), text).toBe(text);
  });

  it("round-trips through the parser", () => {
    for (const ms of [1, 999, 61_001, 3 * H + 7, 400 * D + 5 * S, 123_456_789, 2 ** 40])
      expect(parseDuration(formatDuration(ms), "X")).toBe(ms);
  });

  it("refuses what is not whole milliseconds", () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});
