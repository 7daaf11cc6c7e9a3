// Issue 7, "Done when", second half: the scenario of pipeline.test.ts with faults injected by
// the local runtime — workers killed in the middle of a job (their messages come back after
// the visibility timeout, their leases expire), every kind of message delivered twice, and S3
// answering 5xx — must end in the same final state: the same live block ranges per tenant, the
// same samples, the same quarantine and deletion marks, and nothing dead-lettered.
//
// A job that finds a plan's lease held re-sends a copy of itself with a short delay and
// acknowledges its message, so a holder that dies (even one running from a duplicate of that
// very message) never strands the plan: a later copy finds the lease expired or the output
// made. The scheduled job then runs after the lease TTL, as it would in production (hourly).
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { LocalRuntime } from "@strata/local";
import { assertPromtool } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { buildScenario, describeScenario, type Scenario } from "./fixtures.ts";
import { expectFinalState, expectedSummary, summarize, TENANTS } from "./expect-state.ts";
import { E2E_SETTINGS, logTail, scheduleAndSettle, startE2eRuntime, uploadAndSettle } from "./runtime.ts";
import { readRuntimeState } from "./state.ts";

const tmp = new TempDirs();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];

// Rates per object-store call (kills, S3 errors), per handler invocation (kills) and per
// delivered message (duplicates). A verify makes ~10 store calls and a compaction ~50, so at 1%
// per call about one verify in ten and two compactions in five die at a random point and come
// back after the visibility timeout; that alone left a run without a kill now and then, so 3%
// of invocations also die at one of their first 60 calls. Deliveries before the DLQ are raised
// to 10 so that a compaction killed on every attempt (0.45^10) is out of the question; the
// faults' order depends on timing, the seed fixes the rest.
const FAULTS = {
  killWorkerMidJobRate: 0.01,
  killInvocationRate: 0.03,
  duplicateMessageRate: 0.3,
  s3ErrorRate: 0.03,
  seed: 20240607,
} as const;

/** A compaction killed three times running costs three visibility timeouts and lease expiries: more than the fault-free tests' 45 s on a loaded machine. */
const SETTLE = { timeoutMs: 120_000 } as const;

beforeAll(async () => {
  assertPromtool();
  sc = await buildScenario(tmp);
  // A job is refused after maxJobAttempts started attempts; at these kill rates (two compactions
  // in five die) three would refuse a plan now and then, so the run allows more.
  ({ rt, log } = await startE2eRuntime({ faults: FAULTS, settings: { maxReceiveCount: 10, maxJobAttempts: 8 } }));
});

afterAll(async () => {
  await rt?.stop();
  await tmp.cleanup();
});

describe("the pipeline end to end, with faults", () => {
  it("killed workers, duplicated messages and S3 5xx errors end in the fault-free final state", async () => {
    onTestFailed(() =>
      console.error(`blocks:\n${describeScenario(sc)}\nruntime log (last lines):\n${logTail(log, 120)}`),
    );
    await uploadAndSettle(rt!, sc, SETTLE);
    // Upload events alone must converge: a worker that finds a plan's lease busy re-sends the
    // job with a delay instead of dropping it, so a holder that dies never strands the plan.
    expect(summarize(await readRuntimeState(rt!, TENANTS), sc)).toEqual(expectedSummary(sc));
    const settledByEvents = true;
    // A scheduled run afterwards (index re-sync, cleanup) changes nothing.
    await new Promise((r) => setTimeout(r, E2E_SETTINGS.leaseTtlMs)); // leases of dead workers expire
    await scheduleAndSettle(rt!, SETTLE);
    const scheduledRuns = 1;
    await expectFinalState(rt!, sc, tmp);
    // The faults really happened (otherwise this would only repeat the fault-free test).
    const events = (name: string) => log.filter((l) => (JSON.parse(l) as { event?: string }).event === name).length;
    const faults = {
      killed: events("fault-worker-killed"),
      duplicated: events("fault-duplicate-delivery"),
      s3Errors: events("fault-s3-error"),
      settledByEvents,
      scheduledRuns,
    };
    console.info(`faults injected: ${JSON.stringify(faults)}`);
    expect(faults.killed, "workers killed").toBeGreaterThan(0);
    expect(faults.duplicated, "messages delivered twice").toBeGreaterThan(0);
    expect(faults.s3Errors, "S3 5xx answers").toBeGreaterThan(0);
  }, 300_000); // 15–50 s here; headroom for a loaded machine (every kill costs a visibility timeout)
});
