// Issue 12, "Done when": the scenario of pipeline.test.ts uploaded the way `aws s3 cp
// --recursive` can do it — meta.json of some blocks before their chunks and index — while the
// scheduled job (retention, cleanup, index re-sync) keeps running. The pipeline must converge
// to the same bucket as the orderly upload, and the bucket index must never list a block whose
// verify has not passed, checked at every step by a watcher on the index.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { LocalRuntime } from "@strata/local";
import { assertPromtool } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { buildScenario, describeScenario, type Scenario } from "./fixtures.ts";
import { expectFinalState, TENANTS } from "./expect-state.ts";
import { IDLE, logTail, startE2eRuntime } from "./runtime.ts";
import { IndexWatch, uploadMetaFirst } from "./hostile.ts";

const tmp = new TempDirs();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];

beforeAll(async () => {
  assertPromtool();
  sc = await buildScenario(tmp);
  // The scheduled job every second: re-syncs run between a block's meta.json and its index.
  ({ rt, log } = await startE2eRuntime({ scheduleIntervalMs: 1_000 }));
});

afterAll(async () => {
  await rt?.stop();
  await tmp.cleanup();
});

describe("meta.json uploaded before the block's other files, the schedule running", () => {
  it("converges to the orderly upload's bucket and never indexes an unverified block", async () => {
    onTestFailed(() =>
      console.error(`blocks:\n${describeScenario(sc)}\nruntime log (last lines):\n${logTail(log, 120)}`),
    );
    const watch = new IndexWatch(rt!.s3, TENANTS, new Set([sc.expected.quarantined.ulid]));
    const resyncedBetween: string[] = [];
    try {
      for (const [i, b] of sc.blocks.entries()) {
        if (i % 2 === 0) {
          // Every other block meta.json first; for some, a scheduled re-sync runs before the rest lands.
          await uploadMetaFirst(
            rt!.s3,
            b.tenant,
            b.dir,
            i % 4 === 0
              ? async () => {
                  await rt!.runScheduled();
                  await new Promise((r) => setTimeout(r, 300));
                  resyncedBetween.push(b.ulid);
                }
              : undefined,
          );
        } else {
          await rt!.uploadBlockDir(b.tenant, b.dir);
        }
      }
      await rt!.waitForIdle(IDLE);
      await rt!.runScheduled();
      await rt!.waitForIdle(IDLE);
    } finally {
      await watch.stop();
    }
    expect(resyncedBetween.length).toBeGreaterThan(0);
    expect(watch.rounds, "the watcher looked at the index many times").toBeGreaterThan(10);
    expect(watch.violations).toEqual([]);
    // The re-syncs did see blocks before their verify passed, and sent them to verification.
    expect(log.some((l) => l.includes('"index-sync-unverified"'))).toBe(true);
    await expectFinalState(rt!, sc, tmp);
  }, 180_000);
});
