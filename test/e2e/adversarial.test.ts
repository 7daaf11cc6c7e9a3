// Issue 12, "Done when": the honest scenario of pipeline.test.ts (an HA pair for team-a, plain
// blocks for team-b) uploaded beside everything a hostile or careless producer can put in a
// bucket — a block whose meta.json lists honest blocks among its sources, a ULID-shaped tenant,
// a tenant named `markers`, a far-future maxTime, a bad resolution, a 24 MiB meta.json, a gzip
// bomb as team-b's bucket index, and a block with a corrupt chunk that an index re-sync sees
// before its verify runs. The schedule then runs past the delete delay (a test clock). Every
// honest sample must still be readable from live, indexed, verified blocks; each bad block is
// quarantined with its reason (or, for the invalid tenants, never touched); team-a's
// compaction went on; the index never listed an unverified or bad block.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { BucketLayout, listAll } from "@strata/bucket";
import { NO_COMPACT_MARK_FILE, type BlockMeta } from "@strata/tsdb";
import type { LocalRuntime } from "@strata/local";
import { QUARANTINE_REASON, VERIFIED_FILE } from "@strata/pipeline";
import { assertPromtool, diffLineMultisets } from "@strata/testkit/promtool";
import { TempDirs } from "@strata/testkit/tmp";
import { downloadBlocks, promtoolDumpDb } from "./dump.ts";
import { TENANT_A, TENANT_B, buildScenario, describeScenario, type Scenario } from "./fixtures.ts";
import { TENANTS } from "./expect-state.ts";
import { IndexWatch, copyWithMeta, gzipBomb, uploadMetaFirst, uploadUnder } from "./hostile.ts";
import { IDLE, logTail, startE2eRuntime } from "./runtime.ts";
import { readNoCompactMark, readRuntimeState } from "./state.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const tmp = new TempDirs();
const layout = new BucketLayout();
let sc: Scenario;
let rt: LocalRuntime | undefined;
let log: string[] = [];
let offset = 0; // the pipeline's clock runs this far ahead of the wall clock
const bad: { name: string; meta: BlockMeta; expect: RegExp }[] = [];
let liar: BlockMeta;
let ulidTenant: string;

beforeAll(async () => {
  assertPromtool();
  sc = await buildScenario(tmp);
  ({ rt, log } = await startE2eRuntime({ clock: { now: () => Date.now() + offset } }));
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  await tmp.cleanup();
});

describe("an adversarial bucket", () => {
  it("keeps every honest sample, quarantines every bad block with its reason, and lets the other tenant compact", async () => {
    onTestFailed(() =>
      console.error(`blocks:\n${describeScenario(sc)}\nruntime log (last lines):\n${logTail(log, 40)}`),
    );
    const s3 = rt!.s3;
    const dir = await tmp.make("adversarial");
    const bw = (w: number) => sc.blocks.find((b) => b.tenant === TENANT_B && b.window === w)!;
    const corrupt = sc.expected.quarantined;

    // The hostile blocks, each a copy of honest data with a meta.json that lies.
    liar = (
      await copyWithMeta(bw(5).dir, dir, 1, (m) => ({
        ...m,
        compaction: { level: 2, sources: [bw(0).ulid, bw(2).ulid, bw(3).ulid].sort() },
      }))
    ).meta;
    const future = await copyWithMeta(bw(4).dir, dir, 2, (m) => ({ ...m, maxTime: 8.64e15 }));
    const resolution = await copyWithMeta(bw(4).dir, dir, 3, (m) => ({
      ...m,
      thanos: { ...m.thanos, labels: m.thanos?.labels ?? {}, downsample: { resolution: 12345 } },
    }));
    const huge = await copyWithMeta(bw(4).dir, dir, 4, (m) => m, 24 << 20);
    bad.push({ name: "far-future maxTime", meta: future.meta, expect: /MetaInFuture|MetaRangeTooLong/ });
    bad.push({ name: "bad resolution", meta: resolution.meta, expect: /ResolutionInvalid/ });
    bad.push({ name: "24 MiB meta.json", meta: huge.meta, expect: /MetaTooLarge/ });

    // team-b's bucket index is a gzip bomb before anything is indexed there.
    await s3.put(layout.indexKey(TENANT_B), await gzipBomb(600));

    const watch = new IndexWatch(s3, TENANTS, new Set([corrupt.ulid, ...bad.map((b) => b.meta.ulid)]));
    try {
      for (const b of sc.blocks) {
        if (b.corrupt) continue;
        await rt!.uploadBlockDir(b.tenant, b.dir);
      }
      // The corrupt block: meta.json lands, a re-sync runs before its verify could pass, then the rest.
      await uploadMetaFirst(s3, TENANT_B, corrupt.dir, async () => {
        await rt!.runScheduled();
        await new Promise((r) => setTimeout(r, 500));
      });
      for (const x of [future, resolution, huge])
        await uploadUnder(s3, layout.blockPrefix(TENANT_B, x.meta.ulid), x.dir);
      await uploadUnder(s3, layout.blockPrefix(TENANT_B, liar.ulid), `${dir}/${liar.ulid}`);
      // Tenants no upload may create: a ULID-shaped one and one named like Strata's markers folder.
      ulidTenant = bw(0).ulid.slice(0, 10) + "Z".repeat(16);
      await uploadUnder(s3, `${ulidTenant}/${bw(4).ulid}/`, bw(4).dir);
      await uploadUnder(s3, `markers/${bw(4).ulid}/`, bw(4).dir);
      await rt!.waitForIdle(IDLE);
      await rt!.runScheduled();
      await rt!.waitForIdle(IDLE);
    } finally {
      await watch.stop();
    }
    expect(watch.violations).toEqual([]);

    // Run the bucket's life on: three scheduled runs across more than two delete delays.
    for (let i = 0; i < 3; i++) {
      offset += 2 * DAY + HOUR;
      await rt!.runScheduled();
      await rt!.waitForIdle(IDLE);
    }

    const state = await readRuntimeState(rt!, TENANTS);
    expect(state.dlq.bodies, "nothing dead-lettered").toEqual([]);
    for (const t of TENANTS) {
      const s = state.tenants.get(t)!;
      // Every live block is indexed and was admitted by a passed verify.
      for (const b of s.live)
        expect(s.keys.has(layout.blockFile(t, b.ulid, VERIFIED_FILE)), `${t}/${b.ulid}: verification record`).toBe(
          true,
        );
      // Every honest sample is readable from the live blocks.
      const dirs = await downloadBlocks(
        s3,
        t,
        s.live.map((b) => b.ulid),
        await tmp.make(`adv-${t}`),
      );
      expect(
        diffLineMultisets(sc.expected.dumps[t]!, await promtoolDumpDb(dirs)),
        `${t}: samples read back with promtool`,
      ).toBe("");
    }

    // Each bad block quarantined with its reason, never indexed.
    const b = state.tenants.get(TENANT_B)!;
    for (const x of [...bad, { name: "corrupt chunk", meta: corrupt.meta, expect: /BadChecksum/ }]) {
      const mark = await readNoCompactMark(s3, TENANT_B, x.meta.ulid);
      expect(mark?.reason, `${x.name}: quarantined`).toBe(QUARANTINE_REASON);
      expect(mark?.details, `${x.name}: the reason`).toMatch(x.expect);
      expect(
        b.index.blocks.map((e) => e.block_id),
        `${x.name}: not indexed`,
      ).not.toContain(x.meta.ulid);
    }
    // The liar's sources named blocks outside its range: they were never treated as covered by it.
    for (const l of log) {
      const e = JSON.parse(l) as { event?: string; details?: string };
      if (e.event === "marked-for-deletion") expect(e.details ?? "").not.toContain(liar.ulid);
    }

    // team-a's HA pair was deduplicated and compacted all the same.
    const a = state.tenants.get(TENANT_A)!;
    expect(a.live.length).toBe(3);
    for (const x of a.live) expect(x.meta.compaction.level).toBeGreaterThanOrEqual(2);

    // Invalid tenants: ignored by every event and by the schedule, their objects left alone.
    const left = new Set<string>();
    for await (const o of listAll(s3, "")) left.add(o.key);
    for (const prefix of [`${ulidTenant}/${bw(4).ulid}/`, `markers/${bw(4).ulid}/`]) {
      for (const f of ["index", "meta.json", "chunks/000001"])
        expect(left.has(prefix + f), `${prefix}${f} kept`).toBe(true);
      expect(
        [...left].some(
          (k) => k.startsWith(prefix) && (k.endsWith(NO_COMPACT_MARK_FILE) || k.endsWith("deletion-mark.json")),
        ),
        `${prefix}: no marks`,
      ).toBe(false);
    }
    expect(left.has("bucket-index.json.gz"), "no root tenant was made up").toBe(false);
    expect(log.some((l) => l.includes('"s3-record-ignored"') && l.includes(`markers/${bw(4).ulid}/meta.json`))).toBe(
      true,
    );
  }, 240_000);
});
