import { describe, expect, it } from "vitest";
import {
  RESOLUTIONS,
  RESOLUTION_1H,
  RESOLUTION_5M,
  RESOLUTION_RAW,
  blockResolution,
  isResolution,
  nextResolution,
  resolutionName,
  sourceResolution,
} from "../src/index.ts";

describe("resolution ladder", () => {
  it("is Thanos' ResLevel0/1/2 in milliseconds", () => {
    expect(RESOLUTIONS).toEqual([0, 300_000, 3_600_000]);
  });

  it("reads a block's resolution, raw when the thanos section or its downsample field is absent", () => {
    expect(blockResolution({})).toBe(RESOLUTION_RAW);
    expect(blockResolution({ thanos: {} })).toBe(RESOLUTION_RAW);
    expect(blockResolution({ thanos: { downsample: { resolution: RESOLUTION_1H } } })).toBe(RESOLUTION_1H);
    expect(blockResolution({ thanos: { downsample: { resolution: 60_000 } } })).toBe(60_000);
  });

  it("steps raw → 5m → 1h and back, and names each rung", () => {
    expect([RESOLUTION_RAW, RESOLUTION_5M, RESOLUTION_1H, 60_000].map(nextResolution)).toEqual([
      RESOLUTION_5M,
      RESOLUTION_1H,
      undefined,
      undefined,
    ]);
    expect([sourceResolution(RESOLUTION_5M), sourceResolution(RESOLUTION_1H)]).toEqual([RESOLUTION_RAW, RESOLUTION_5M]);
    expect([RESOLUTION_RAW, RESOLUTION_5M, RESOLUTION_1H, 60_000].map(resolutionName)).toEqual([
      "raw",
      "5m",
      "1h",
      "60000ms",
    ]);
    expect([0, 300_000, 3_600_000, 1, -300_000].map(isResolution)).toEqual([true, true, true, false, false]);
  });
});
