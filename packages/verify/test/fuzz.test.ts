import { describe, expect, it } from "vitest";
import { caseFailure, fuzz, makeFuzzBlock } from "../fuzz/fuzz.ts";
import { verifyBlock } from "../src/index.ts";

describe("verifier fuzz (fixed seed)", () => {
  it("300 mutated real blocks each end in a clean report, quickly and without ballooning memory", async () => {
    const bases = [await makeFuzzBlock(40, 1), await makeFuzzBlock(7, 2)];
    for (const b of bases) expect((await verifyBlock(b)).problems).toEqual([]);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const cases = await fuzz({
      seed: 20240601,
      count: 300,
      bases,
      onCase: () => (peak = Math.max(peak, process.memoryUsage().rss)),
    });
    expect(cases).toHaveLength(300);
    const failures = cases.map((c) => [c, caseFailure(c, 2000)] as const).filter(([, why]) => why);
    expect(failures.map(([c, why]) => `case ${c.index} (${c.mutation}): ${why}`)).toEqual([]);
    // Most mutations must be noticed (a flip in padding or an unused field may not be).
    expect(cases.filter((c) => !c.report!.ok).length).toBeGreaterThan(200);
    expect(peak - rss0).toBeLessThan(256 * 2 ** 20);
  }, 60_000);
});
