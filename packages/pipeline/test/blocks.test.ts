import { describe, expect, it } from "vitest";
import {
  expiredBlocks,
  retentionVerdicts,
  findCoveringBlock,
  findDownsampled,
  redundantBlocks,
  type LiveBlock,
} from "@strata/pipeline";
import { T0, meta, twoHourBlock } from "@strata/testkit/pipeline";

const live = (...metas: ReturnType<typeof meta>[]): LiveBlock[] => metas.map((m) => ({ meta: m }));

describe("block-set rules", () => {
  const [a, b, c] = [twoHourBlock(0), twoHourBlock(1), twoHourBlock(2)];
  const ab = meta({ minTime: a.minTime, maxTime: b.maxTime, level: 2, sources: [a.ulid, b.ulid] });
  const abc = meta({ minTime: a.minTime, maxTime: c.maxTime, level: 2, sources: [a.ulid, b.ulid, c.ulid] });

  it("finds the block covering a plan's inputs, only with equal labels and resolution", () => {
    expect(findCoveringBlock(live(a, b, ab), [a, b])?.ulid).toBe(ab.ulid);
    expect(findCoveringBlock(live(a, b, c, ab), [a, b, c])).toBeUndefined();
    const otherLabels = meta({ ...ab, ulid: undefined, sources: [a.ulid, b.ulid], labels: { cluster: "b" } });
    expect(findCoveringBlock(live(a, b, otherLabels), [a, b])).toBeUndefined();
    const downsampled = meta({ ...ab, ulid: undefined, sources: [a.ulid, b.ulid], resolution: 300_000 });
    expect(findCoveringBlock(live(a, b, downsampled), [a, b])).toBeUndefined();
    expect(findCoveringBlock([{ meta: ab, deletionTime: 1 }, ...live(a, b)], [a, b])).toBeUndefined();
  });

  it("marks blocks covered by another, and exactly one of identical twins", () => {
    const twin = meta({ ...ab, ulid: undefined, sources: [a.ulid, b.ulid] });
    const r = redundantBlocks(live(a, b, c, ab, twin, abc));
    // Everything but abc is covered; each by a block holding all of its sources.
    expect(r.map((x) => x.block.ulid).sort()).toEqual([a, b, c, ab, twin].map((m) => m.ulid).sort());
    for (const { block, coveredBy } of r) {
      expect(coveredBy.ulid).not.toBe(block.ulid);
      expect(block.compaction.sources!.every((s) => coveredBy.compaction.sources!.includes(s))).toBe(true);
    }
    expect(redundantBlocks(live(a, b, c))).toEqual([]);
    const keep = ab.ulid < twin.ulid ? ab : twin;
    expect(redundantBlocks(live(ab, twin)).map((x) => [x.block.ulid, x.coveredBy.ulid])).toEqual([
      [keep === ab ? twin.ulid : ab.ulid, keep.ulid],
    ]);
  });

  it("never counts a block as covering one whose time range it does not hold (lying sources, issue 12)", () => {
    // An upload at c's window whose meta.json claims a and b among its sources.
    const liar = meta({ minTime: c.minTime, maxTime: c.maxTime, level: 2, sources: [a.ulid, b.ulid, c.ulid] });
    expect(redundantBlocks(live(a, b, liar))).toEqual([]);
    expect(findCoveringBlock(live(a, b, liar), [a, b])).toBeUndefined();
    // The honest compaction of a and b still covers them.
    expect(
      redundantBlocks(live(a, b, ab))
        .map((r) => r.block.ulid)
        .sort(),
    ).toEqual([a.ulid, b.ulid].sort());
  });

  it("finds a block's downsampled twin", () => {
    const twin5m = meta({ ...abc, ulid: undefined, sources: [a.ulid, b.ulid, c.ulid], resolution: 300_000 });
    expect(findDownsampled(live(abc, twin5m), abc, 300_000)?.ulid).toBe(twin5m.ulid);
    expect(findDownsampled(live(abc, twin5m), abc, 3_600_000)).toBeUndefined();
    expect(findDownsampled(live(abc, twin5m), ab, 300_000)).toBeUndefined();
  });

  it("expires blocks per resolution; 0 keeps forever", () => {
    const now = T0 + 10 * 24 * 3_600_000;
    const raw = twoHourBlock(0);
    const fiveMin = meta({ minTime: T0, maxTime: T0 + 7_200_000, resolution: 300_000 });
    const retention = { 0: 24 * 3_600_000, 300000: 0, 3600000: 0 };
    expect(expiredBlocks(live(raw, fiveMin), now, retention, false).map((m) => m.ulid)).toEqual([raw.ulid]);
    expect(expiredBlocks([{ meta: raw, deletionTime: 5 }], now, retention)).toEqual([]);
  });

  const HOUR_MS = 3_600_000;
  it("never expires the last copy: raw needs a 5m block holding it (or the 5m retention passed too), 5m needs 1h (issue 13)", () => {
    const DAY = 24 * 3_600_000;
    const now = T0 + 30 * DAY;
    const raw = meta({ minTime: T0, maxTime: T0 + 2 * DAY, level: 3, sources: [a.ulid, b.ulid] });
    const fiveMin = meta({
      minTime: raw.minTime,
      maxTime: raw.maxTime,
      level: 3,
      sources: [a.ulid, b.ulid],
      resolution: 300_000,
    });
    const otherStream = meta({ ...fiveMin, ulid: undefined, sources: [a.ulid, b.ulid], labels: { cluster: "b" } });
    const partial = meta({
      minTime: raw.minTime,
      maxTime: raw.maxTime - DAY,
      level: 3,
      sources: [a.ulid, b.ulid],
      resolution: 300_000,
    });
    const retention = { 0: 7 * DAY, 300000: 60 * DAY, 3600000: 0 };
    // No 5m copy (or one of another stream, or one holding only part of the range): held.
    for (const set of [[raw], [raw, otherStream], [raw, partial]]) {
      const v = retentionVerdicts(live(...set), now, retention);
      expect(v.expired.filter((m) => m.ulid === raw.ulid)).toEqual([]);
      expect(v.held.map((h) => h.block.ulid)).toContain(raw.ulid);
      expect(v.held.find((h) => h.block.ulid === raw.ulid)!.reason).toMatch(/no 5m block holds its range/);
    }
    // Its 5m twin is there: raw goes, the 5m block stays (its own retention has not passed).
    expect(expiredBlocks(live(raw, fiveMin), now, retention).map((m) => m.ulid)).toEqual([raw.ulid]);
    // Several 5m blocks together (seven 2d blocks under a 14d raw block) hold it too.
    const halves = [0, 1].map((i) =>
      meta({
        minTime: raw.minTime + i * DAY,
        maxTime: raw.minTime + (i + 1) * DAY,
        level: 2,
        sources: [[a.ulid], [b.ulid]][i],
        resolution: 300_000,
      }),
    );
    expect(expiredBlocks(live(raw, ...halves), now, retention).map((m) => m.ulid)).toEqual([raw.ulid]);
    // … also with the scrape interval between their ranges (a block's range ends at its last sample) …
    const later = meta({
      ...halves[1]!,
      ulid: undefined,
      minTime: halves[1]!.minTime + 60_000,
      sources: [b.ulid],
      resolution: 300_000,
    });
    expect(expiredBlocks(live(raw, halves[0]!, later), now, retention).map((m) => m.ulid)).toEqual([raw.ulid]);
    // … but not when their ranges stop short of its end, whatever their sources claim.
    const short = meta({
      ...halves[1]!,
      ulid: undefined,
      maxTime: halves[1]!.maxTime - HOUR_MS,
      sources: [b.ulid],
      resolution: 300_000,
    });
    expect(expiredBlocks(live(raw, halves[0]!, short), now, retention)).toEqual([]);
    // A 5m twin already marked for deletion holds nothing.
    expect(expiredBlocks([{ meta: raw }, { meta: fiveMin, deletionTime: 1 }], now, retention)).toEqual([]);
    // The 5m retention has passed too, and 1h keeps forever: raw waits for a 1h copy …
    expect(retentionVerdicts(live(raw), now, { ...retention, 300000: 10 * DAY }).held.map((h) => h.block.ulid)).toEqual(
      [raw.ulid],
    );
    const hourly = meta({
      minTime: raw.minTime,
      maxTime: raw.maxTime,
      level: 3,
      sources: [a.ulid, b.ulid],
      resolution: 3_600_000,
    });
    expect(expiredBlocks(live(raw, hourly), now, { ...retention, 300000: 10 * DAY }).map((m) => m.ulid)).toEqual([
      raw.ulid,
    ]);
    // … and goes without one once every coarser resolution's retention has passed.
    expect(
      expiredBlocks(live(raw), now, { ...retention, 300000: 10 * DAY, 3600000: 20 * DAY }).map((m) => m.ulid),
    ).toEqual([raw.ulid]);
    // 5m past its retention needs a 1h block (1h keeps forever here).
    expect(retentionVerdicts(live(fiveMin), T0 + 70 * DAY, retention).held.map((h) => h.block.ulid)).toEqual([
      fiveMin.ulid,
    ]);
    // Turned off: every resolution on its own clock.
    expect(expiredBlocks(live(raw), now, retention, false).map((m) => m.ulid)).toEqual([raw.ulid]);
  });
});
