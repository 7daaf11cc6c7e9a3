// Issue 7, "Done when": against the local runtime (the S3 + SQS emulator, the same handlers the
// Lambdas run), twelve 2h blocks made by promtool for two tenants — an HA pair to deduplicate,
// a corrupted block to quarantine — settle into 8h and deduplicated blocks, with the sources
// marked for deletion, the corrupted block quarantined with a report, the bucket index current,
// and exactly the uploaded samples readable from the live blocks. The upload events alone get
// there (no polling); the scheduled job (retention, cleanup, index re-sync) then changes nothing.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { LocalRuntime } from "@strata/local";
import { assertPromtool } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { buildScenario, describeScenario, type Scenario } from "./fixtures.ts";
import { expectFinalState } from "./expect-state.ts";
import { logTail, scheduleAndSettle, startE2eRuntime, uploadAndSettle } from "./runtime.ts";
import type { RuntimeState } from "./state.ts";

const tmp = new TempDirs();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];
let settled: RuntimeState | undefined;

beforeAll(async () => {
  assertPromtool();
  sc = await buildScenario(tmp);
  ({ rt, log } = await startE2eRuntime());
});

afterAll(async () => {
  await rt?.stop();
  await tmp.cleanup();
});

describe("the pipeline end to end (local runtime)", () => {
  it("upload events alone compact, deduplicate, quarantine and index twelve promtool blocks without losing a sample", async () => {
    onTestFailed(() => console.error(`blocks:\n${describeScenario(sc)}\nruntime log (last lines):\n${logTail(log)}`));
    await uploadAndSettle(rt!, sc);
    settled = await expectFinalState(rt!, sc, tmp);
  });

  it("the scheduled job (retention, cleanup, index re-sync) on the settled bucket changes nothing", async () => {
    onTestFailed(() => console.error(`blocks:\n${describeScenario(sc)}\nruntime log (last lines):\n${logTail(log)}`));
    expect(settled, "the first test left a settled bucket").toBeDefined();
    await scheduleAndSettle(rt!);
    const after = await expectFinalState(rt!, sc, tmp);
    for (const [t, b] of settled!.tenants) {
      const a = after.tenants.get(t)!;
      expect(a.index.blocks, `${t}: the re-synced index lists the same blocks`).toEqual(b.index.blocks);
      expect(a.index.block_deletion_marks, `${t}: and the same deletion marks`).toEqual(b.index.block_deletion_marks);
      // Only the index object is rewritten; no block, marker or report appears or goes.
      const objects = (s: typeof a) => [...s.keys].filter((k) => !k.includes("/leases/")).sort();
      expect(objects(a), `${t}: objects in the bucket`).toEqual(objects(b));
    }
  });
});
