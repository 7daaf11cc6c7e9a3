// The lifecycle scenario's run and checks, registered by lifecycle.test.ts; `extra` runtime
// options (faults, settings) let the same run be held to the same checks under other conditions.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { BucketLayout, StoreBlockSource } from "@strata/bucket";
import type { LocalRuntime, LocalRuntimeOptions } from "@strata/local";
import { RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW, blockResolution, type BlockMeta } from "@strata/tsdb";
import { verifyBlock } from "@strata/verify";
import { QUARANTINE_REASON, VERIFIED_FILE } from "@strata/pipeline";
import { assertPromtool, diffLineMultisets } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { downloadBlocks, promtoolDumpDb } from "./dump.ts";
import { IndexWatch, uploadMetaFirst } from "./hostile.ts";
import {
  DAY,
  HOUR,
  LIFE_A,
  LIFE_B,
  START,
  blockAggregates,
  buildLifeScenario,
  diffAggregates,
  modelAggregates,
  type LifeScenario,
} from "./lifecycle.ts";
import { logTail, startE2eRuntime } from "./runtime.ts";
import { readNoCompactMark, readRuntimeState, type RuntimeState, type TenantState } from "./state.ts";

const TENANTS = [LIFE_A, LIFE_B] as const;
const RETENTION = { [RESOLUTION_RAW]: 7 * DAY, [RESOLUTION_5M]: 7 * DAY, [RESOLUTION_1H]: 0 };

/**
 * Registers the lifecycle test: `extra` runtime options (faults, settings) over the test's,
 * `after` more checks on the runtime's log once the run passed the common ones.
 */
export function describeLifecycle(
  name: string,
  extra: LocalRuntimeOptions = {},
  after?: (log: readonly string[]) => void,
): void {
  const layout = new BucketLayout();
  const tmp = new TempDirs();
  let sc: LifeScenario;
  let rt: LocalRuntime | undefined;
  let log: string[] = [];
  let now = START + 15 * DAY + HOUR;
  const clock = { now: () => now };

  const res = (b: { meta: BlockMeta }) => blockResolution(b.meta);
  const span = (b: { meta: { minTime: number; maxTime: number } }) => b.meta.maxTime - b.meta.minTime;
  const events = (name: string) =>
    log.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === name);

  const SETTLE = { timeoutMs: 240_000 } as const;

  async function settle(): Promise<void> {
    await rt!.waitForIdle(SETTLE);
    await rt!.runScheduled();
    await rt!.waitForIdle(SETTLE);
  }

  async function state(): Promise<RuntimeState> {
    return readRuntimeState(rt!, TENANTS, clock.now);
  }

  /** Every live block passes verify (ranged reads, in place) and has its verification record. */
  async function expectLiveVerified(s: TenantState): Promise<void> {
    for (const b of s.live) {
      expect(
        s.keys.has(layout.blockFile(s.tenant, b.ulid, VERIFIED_FILE)),
        `${s.tenant}/${b.ulid}: verification record`,
      ).toBe(true);
      const r = await verifyBlock(new StoreBlockSource(rt!.s3, layout.blockPrefix(s.tenant, b.ulid)), {
        expectedUlid: b.ulid,
        now: clock.now(),
      });
      expect(
        r.problems.filter((p) => p.severity !== "warn"),
        `${s.tenant}/${b.ulid} verifies`,
      ).toEqual([]);
    }
  }

  beforeAll(async () => {
    assertPromtool();
    sc = await buildLifeScenario(tmp);
    ({ rt, log } = await startE2eRuntime({
      clock,
      workers: 3,
      ...extra,
      settings: { retention: RETENTION, leaseTtlMs: 3_000, visibilityTimeoutSeconds: 4, ...extra.settings },
    }));
  }, 120_000);

  afterAll(async () => {
    await rt?.stop();
    await tmp.cleanup();
  });

  describe(`the whole lifecycle: 15 days, two tenants, retention per resolution${name}`, () => {
    it("compacts to 14d, downsamples to 5m and 1h, applies retention without losing the last copy", async () => {
      onTestFailed(() => console.error(`runtime log (last lines):\n${logTail(log, 80)}`));
      const corrupt = sc.blocks.find((b) => b.corrupt)!;
      const watch = new IndexWatch(rt!.s3, TENANTS, new Set([corrupt.ulid]));
      try {
        for (const b of sc.blocks) {
          if (b.metaFirst) await uploadMetaFirst(rt!.s3, b.tenant, b.dir);
          else await rt!.uploadBlockDir(b.tenant, b.dir);
        }
        await settle();
        await settle(); // downsampled blocks compact and downsample again on their own events; a second round changes nothing
      } finally {
        await watch.stop();
      }
      expect(watch.violations).toEqual([]);

      // --- Stage 1: settled at day 15. ------------------------------------------------------
      let st = await state();
      const before = new Map<string, Map<string, { minTime: number; maxTime: number; res: number }>>();
      for (const t of TENANTS) {
        const s = st.tenants.get(t)!;
        await expectLiveVerified(s);
        before.set(
          t,
          new Map(s.live.map((b) => [b.ulid, { minTime: b.meta.minTime, maxTime: b.meta.maxTime, res: res(b) }])),
        );
        const raw = s.live.filter((b) => res(b) === RESOLUTION_RAW);
        const m5 = s.live.filter((b) => res(b) === RESOLUTION_5M);
        const h1 = s.live.filter((b) => res(b) === RESOLUTION_1H);
        // 14d and 8h raw blocks where due (the newest 2h block is held back, as by Thanos).
        expect(
          raw.some((b) => b.meta.minTime >= START && b.meta.maxTime <= START + 14 * DAY && span(b) > 13 * DAY),
          `${t}: a 14d raw block over the first 14 days`,
        ).toBe(true);
        expect(
          raw.some((b) => b.meta.minTime >= START + 14 * DAY && span(b) > 6 * HOUR && span(b) <= 8 * HOUR),
          `${t}: an 8h raw block on day 14`,
        ).toBe(true);
        // 5m where Thanos makes them (raw blocks of 2d and more), covering the first 14 days without a gap.
        expect(
          m5.every((b) => span(b) >= 40 * HOUR),
          `${t}: 5m blocks come from ≥ 40h raw blocks`,
        ).toBe(true);
        let covered = START;
        for (const b of m5) if (b.meta.minTime <= covered + 2 * HOUR) covered = Math.max(covered, b.meta.maxTime);
        expect(covered, `${t}: 5m blocks cover the first 14 days`).toBeGreaterThanOrEqual(START + 14 * DAY - 2 * HOUR);
        // 1h exactly where a 5m block reaches 10d.
        const long5m = m5.filter((b) => span(b) >= 10 * DAY);
        expect(h1.map((b) => [b.meta.minTime, b.meta.maxTime]).sort(), `${t}: 1h blocks`).toEqual(
          long5m.map((b) => [b.meta.minTime, b.meta.maxTime]).sort(),
        );
        // Live blocks of one resolution never overlap.
        for (const group of [raw, m5, h1])
          for (let i = 1; i < group.length; i++)
            expect(group[i]!.meta.minTime, `${t}: overlap`).toBeGreaterThanOrEqual(group[i - 1]!.meta.maxTime);
        // Every raw sample, deduplicated, is readable from the live raw blocks.
        const dirs = await downloadBlocks(
          rt!.s3,
          t,
          raw.map((b) => b.ulid),
          await tmp.make(`life-${t}`),
        );
        expect(diffLineMultisets(sc.dumps[t]!, await promtoolDumpDb(dirs)), `${t}: raw samples`).toBe("");
        // The aggregates equal those computed from the raw samples.
        for (const blk of [...m5, ...h1]) {
          const r = res(blk);
          const expected = modelAggregates(sc.dumps[t]!, r, blk.meta.minTime, blk.meta.maxTime);
          expect(
            diffAggregates(expected, await blockAggregates(rt!.s3, t, blk.ulid, r)),
            `${t}: ${r} ms aggregates of ${blk.ulid}`,
          ).toEqual([]);
        }
      }
      // The corrupted block is quarantined and never indexed; the meta.json-first upload made it.
      expect((await readNoCompactMark(rt!.s3, LIFE_B, corrupt.ulid))?.reason).toBe(QUARANTINE_REASON);
      expect(st.dlq.bodies).toEqual([]);

      // --- Stage 2: day 21.5: the first 14 days are past raw and 5m retention. ---------------
      now = START + 21 * DAY + 12 * HOUR;
      await settle();
      st = await state();
      const marked = (t: string) =>
        new Set(
          events("marked-for-deletion")
            .filter((e) => e.tenant === t && e.details === "retention")
            .map((e) => String(e.block)),
        );
      for (const t of TENANTS) {
        const s = st.tenants.get(t)!;
        const was = before.get(t)!;
        const expired = marked(t);
        // Exactly the blocks past their resolution's retention whose range a coarser live block holds.
        for (const id of expired) {
          const b = was.get(id)!;
          expect(b.maxTime + RETENTION[b.res as 0] < now, `${t}/${id}: past retention`).toBe(true);
        }
        const raw14 = [...was].find(([, b]) => b.res === 0 && b.maxTime - b.minTime > 13 * DAY)!;
        expect(expired.has(raw14[0]), `${t}: the 14d raw block (its 5m copy holds it) is marked`).toBe(true);
        for (const [id, b] of was) {
          if (b.res !== RESOLUTION_5M || b.maxTime + RETENTION[RESOLUTION_5M] >= now) continue;
          const has1h = [...was.values()].some(
            (x) => x.res === RESOLUTION_1H && x.minTime <= b.minTime && x.maxTime >= b.maxTime,
          );
          expect(expired.has(id), `${t}/${id}: a 5m block past retention goes only when a 1h block holds it`).toBe(
            has1h,
          );
        }
        // Raw samples inside retention are all in live raw blocks.
        const raw = s.live.filter((b) => res(b) === RESOLUTION_RAW);
        const dirs = await downloadBlocks(
          rt!.s3,
          t,
          raw.map((b) => b.ulid),
          await tmp.make(`life2-${t}`),
        );
        const within = sc.dumps[t]!.filter((l) => Number(l.slice(l.lastIndexOf(" ") + 1)) >= now - RETENTION[0]);
        expect(within.length).toBeGreaterThan(0);
        const have = new Set(await promtoolDumpDb(dirs));
        expect(within.filter((l) => !have.has(l)).slice(0, 5), `${t}: raw samples inside retention`).toEqual([]);
      }

      // --- Stage 3: day 25, past the delete delay; everything past retention but the last copy.
      now = START + 25 * DAY;
      await settle();
      await settle();
      st = await state();
      for (const t of TENANTS) {
        const s = st.tenants.get(t)!;
        await expectLiveVerified(s);
        // What retention marked at day 21.5 is deleted now.
        for (const id of marked(t)) {
          const b = before.get(t)!.get(id);
          if (b && b.maxTime + RETENTION[b.res as 0] < START + 21 * DAY + 12 * HOUR)
            expect(s.keys.has(layout.metaKey(t, id)), `${t}/${id}: deleted`).toBe(false);
        }
        // Every raw sample's time is still held by a live block of some resolution (the last copy).
        const live = s.live.map((b) => [b.meta.minTime, b.meta.maxTime] as const);
        const orphan = sc.dumps[t]!.map((l) => Number(l.slice(l.lastIndexOf(" ") + 1))).find(
          (ts) => !live.some(([a, b]) => ts >= a && ts < b),
        );
        expect(orphan, `${t}: a sample time no live block holds`).toBeUndefined();
        // Day 14's raw blocks are past retention with no 5m copy (< 40h): still there.
        expect(s.live.some((b) => res(b) === RESOLUTION_RAW && b.meta.minTime >= START + 14 * DAY)).toBe(true);
      }
      expect(events("retention-held").length).toBeGreaterThan(0);

      // No plan ran more than 3 times; nothing was dead-lettered.
      const starts = new Map<string, number>();
      for (const e of events("compaction-started")) starts.set(String(e.plan), (starts.get(String(e.plan)) ?? 0) + 1);
      expect(Math.max(0, ...starts.values()), "compaction attempts of one plan").toBeLessThanOrEqual(3);
      expect(st.dlq.bodies).toEqual([]);
      after?.(log);
      console.info(
        `lifecycle${name}: ${sc.blocks.length} uploads, ${starts.size} compactions, ${events("downsampled").length} downsamplings, ${events("block-indexed").length} blocks indexed`,
      );
    }, 600_000);
  });
}
