import { describe, expect, it } from "vitest";
import { blockRangeOf } from "../src/index.ts";

const H = 3_600_000;
const RANGES = [2 * H, 12 * H, 24 * H];

describe("blockRangeOf", () => {
  it("is the smallest range whose aligned window holds the block, as Cortex tells it", () => {
    expect(blockRangeOf(0, 2 * H, RANGES)).toBe(2 * H);
    expect(blockRangeOf(12 * H, 24 * H, RANGES)).toBe(12 * H);
    // 10h–14h crosses the 12h boundary: only the 24h window holds it.
    expect(blockRangeOf(10 * H, 14 * H, RANGES)).toBe(24 * H);
  });

  it("counts a block no window holds by its span", () => {
    // 20h–30h crosses every boundary: the smallest range at least 10h long.
    expect(blockRangeOf(20 * H, 30 * H, RANGES)).toBe(12 * H);
    expect(blockRangeOf(0, 48 * H, RANGES)).toBe(48 * H);
  });
});
