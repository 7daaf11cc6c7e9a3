// The final state both end-to-end tests require, checked against the expectation built from
// the inputs (fixtures.ts): a summary compared as a whole (so the fault-free and the faulty run
// are held to one value), then the details a summary cannot show: markers in both places,
// labels and sources of the outputs, and every sample read back with promtool.
import { expect } from "vitest";
import { DELETION_MARK_FILE, NO_COMPACT_MARK_FILE } from "@strata/tsdb";
import type { LocalRuntime } from "@strata/local";
import { QUARANTINE_REASON } from "@strata/pipeline";
import { diffLineMultisets } from "@strata/testkit/promtool";
import type { TempDirs } from "@strata/testkit/tmp";
import { downloadBlocks, promtoolDumpDb } from "./dump.ts";
import { TENANT_A, TENANT_B, type Scenario } from "./fixtures.ts";
import {
  blockKey,
  globalMarkerKey,
  readNoCompactMark,
  readReport,
  readRuntimeState,
  type RuntimeState,
} from "./state.ts";

export const TENANTS = [TENANT_A, TENANT_B] as const;

/** The part of the final state that must be identical with and without faults. */
export interface FinalSummary {
  /** Per tenant, [minTime, maxTime) of the live blocks. */
  liveRanges: Record<string, [number, number][]>;
  /** Uploaded blocks carrying a deletion mark. */
  markedForDeletion: string[];
  /** Uploaded blocks still live. */
  untouched: string[];
  /** Blocks (uploaded or not) carrying Strata's quarantine mark. */
  quarantined: string[];
  /** Messages left in the queues. */
  jobsLeft: number;
  dlq: string[];
}

export function expectedSummary(sc: Scenario): FinalSummary {
  return {
    liveRanges: sc.expected.liveRanges,
    markedForDeletion: sc.expected.markedForDeletion,
    untouched: sc.expected.untouched,
    quarantined: [sc.expected.quarantined.ulid],
    jobsLeft: 0,
    dlq: [],
  };
}

export function summarize(state: RuntimeState, sc: Scenario): FinalSummary {
  const liveRanges: Record<string, [number, number][]> = {};
  const live = new Set<string>();
  for (const [t, s] of state.tenants) {
    liveRanges[t] = s.live.map((b) => [b.meta.minTime, b.meta.maxTime]);
    for (const b of s.live) live.add(b.ulid);
  }
  const uploaded = sc.blocks.map((b) => ({ tenant: b.tenant, ulid: b.ulid }));
  const keys = (t: string) => state.tenants.get(t)!.keys;
  const quarantined: string[] = [];
  for (const [t, s] of state.tenants) {
    for (const k of s.keys)
      if (k.endsWith("/" + NO_COMPACT_MARK_FILE) && !k.includes("/markers/"))
        quarantined.push(k.slice(t.length + 1, -NO_COMPACT_MARK_FILE.length - 1));
  }
  return {
    liveRanges,
    markedForDeletion: uploaded
      .filter((b) => keys(b.tenant).has(blockKey(b.tenant, b.ulid, DELETION_MARK_FILE)))
      .map((b) => b.ulid)
      .sort(),
    untouched: uploaded
      .filter((b) => live.has(b.ulid))
      .map((b) => b.ulid)
      .sort(),
    quarantined: quarantined.sort(),
    jobsLeft: state.jobs.visible + state.jobs.inFlight,
    dlq:
      state.dlq.bodies.length > 0
        ? state.dlq.bodies
        : Array.from({ length: state.dlq.visible + state.dlq.inFlight }, () => "(unread)"),
  };
}

/**
 * Reads the runtime's bucket and queues and checks everything the "Done when" asks
 * for. Returns the state for further checks.
 */
export async function expectFinalState(rt: LocalRuntime, sc: Scenario, tmp: TempDirs): Promise<RuntimeState> {
  const state = await readRuntimeState(rt, TENANTS);
  expect(summarize(state, sc)).toEqual(expectedSummary(sc));

  const a = state.tenants.get(TENANT_A)!;
  const b = state.tenants.get(TENANT_B)!;
  const uploads = new Map(sc.blocks.map((x) => [x.ulid, x]));

  // Every deletion mark is in all three places: next to the block, Mimir's global marker, the index.
  for (const id of sc.expected.markedForDeletion) {
    const t = uploads.get(id)!.tenant;
    const s = state.tenants.get(t)!;
    expect(s.keys.has(globalMarkerKey(t, id, DELETION_MARK_FILE)), `${t}/${id}: global deletion marker`).toBe(true);
    expect(
      s.index.block_deletion_marks.map((m) => m.block_id),
      `${t}: index deletion marks`,
    ).toContain(id);
  }

  // Tenant A: one deduplicated block per window, holding both replicas, without the replica label.
  expect(a.live).toHaveLength(3);
  for (const [w, blk] of a.live.entries()) {
    const pair = sc.blocks
      .filter((x) => x.tenant === TENANT_A && x.window === w)
      .map((x) => x.ulid)
      .sort();
    expect(blk.meta.compaction.sources, `team-a window ${w}: sources`).toEqual(pair);
    expect(blk.meta.compaction.level).toBeGreaterThanOrEqual(2);
    expect(blk.meta.thanos?.labels, `team-a window ${w}: external labels`).toEqual({ cluster: "a" });
  }

  // Tenant B: the 8h block (first window, with the quarantined block's gap), then the newest two untouched.
  const eight = b.live[0]!;
  const { range, window } = sc.expected.eightHour;
  expect([eight.meta.minTime, eight.meta.maxTime]).toEqual(range);
  expect(eight.meta.minTime >= window[0] && eight.meta.maxTime <= window[1]).toBe(true);
  expect(eight.meta.maxTime - eight.meta.minTime).toBeGreaterThan(6 * 3_600_000);
  const bw = (w: number) => sc.blocks.find((x) => x.tenant === TENANT_B && x.window === w)!.ulid;
  expect(eight.meta.compaction.sources).toEqual([bw(0), bw(2), bw(3)].sort());
  expect(b.live.slice(1).map((x) => x.ulid)).toEqual([bw(4), bw(5)]);

  // The quarantined block: report first, then the mark (also global); never indexed, never marked for deletion.
  const q = sc.expected.quarantined;
  const mark = await readNoCompactMark(rt.s3, q.tenant, q.ulid);
  expect(mark?.reason).toBe(QUARANTINE_REASON);
  expect(mark?.id).toBe(q.ulid);
  expect(b.keys.has(globalMarkerKey(q.tenant, q.ulid, NO_COMPACT_MARK_FILE)), "global no-compact marker").toBe(true);
  const report = await readReport(rt.s3, q.tenant, q.ulid);
  expect(report, "verification report next to the quarantined block").toBeDefined();
  expect(report).toContain("BadChecksum");
  expect(b.index.blocks.map((x) => x.block_id)).not.toContain(q.ulid);
  expect(b.keys.has(blockKey(q.tenant, q.ulid, DELETION_MARK_FILE))).toBe(false);

  for (const s of [a, b]) {
    // The index entry a store gateway reads agrees with the block's own meta.json.
    for (const x of s.live) {
      const e = s.index.blocks.find((y) => y.block_id === x.ulid)!;
      expect([e.min_time, e.max_time], `${s.tenant}/${x.ulid}: index entry range`).toEqual([
        x.meta.minTime,
        x.meta.maxTime,
      ]);
    }
    // Live blocks never overlap: every sample is in exactly one of them (the dump below merges
    // overlapping blocks, so this is what makes it a check for duplicates too).
    for (let i = 1; i < s.live.length; i++)
      expect(s.live[i]!.meta.minTime, `${s.tenant}: live blocks overlap`).toBeGreaterThanOrEqual(
        s.live[i - 1]!.meta.maxTime,
      );
    // The samples readable from the live blocks are exactly the uploaded ones, replicas collapsed.
    const expected = sc.expected.dumps[s.tenant]!;
    const stored = s.live.reduce((n, x) => n + Number(x.meta.stats.numSamples ?? 0), 0);
    expect(stored, `${s.tenant}: samples in the live blocks' metas`).toBe(expected.length);
    const dirs = await downloadBlocks(
      rt.s3,
      s.tenant,
      s.live.map((x) => x.ulid),
      await tmp.make(`e2e-${s.tenant}`),
    );
    const dump = await promtoolDumpDb(dirs);
    expect(diffLineMultisets(expected, dump), `${s.tenant}: samples read back with promtool`).toBe("");
  }
  return state;
}
