/**
 * The worker Lambda's composition (createWorkerHandler: Powertools BatchProcessor +
 * processPartialResponse + handleRecord) driven with real-format SQSEvents, over the
 * pipeline's in-memory ports. Checks the partial batch response and the orchestration of
 * every job.
 */
import { describe, expect, it } from "vitest";
import type { BlockMeta } from "@strata/tsdb";
import { FullBatchFailureError } from "@aws-lambda-powertools/batch";
import { QUARANTINE_REASON, VERIFY_REPORT_FILE, encodeJob, type CompactJob, type Job } from "@strata/pipeline";
import { createWorkerHandler } from "@strata/lambda";
// The pipeline's port fakes: test support of the layer below, until they have a shared home.
import {
  S3_TEST_EVENT,
  compactJob,
  fakeGroupKey,
  meta,
  planFor,
  harness,
  lambdaContext,
  s3EventBody,
  sqsEvent,
  sqsRecord,
  twoHourBlock,
  type Harness,
} from "@strata/testkit/pipeline";

const job = (j: Job) => encodeJob(j);

/** Feed bodies to the handler as one batch; returns the failed message ids. */
async function run(h: Harness, bodies: string[]): Promise<string[]> {
  const records = bodies.map((b) => sqsRecord(b));
  let res;
  try {
    res = await createWorkerHandler(h.deps)(sqsEvent(...records), lambdaContext);
  } catch (e) {
    // Every record failed: Powertools throws so that Lambda retries the whole batch.
    if (e instanceof FullBatchFailureError) return records.map((_, i) => String(i));
    throw e;
  }
  return res.batchItemFailures.map((f) => records.findIndex((r) => r.messageId === f.itemIdentifier)).map(String);
}

describe("partial batch responses", () => {
  it("fails exactly the malformed record; the others are processed", async () => {
    const h = harness();
    const good = h.bucket.upload("team a", twoHourBlock(0));
    const records = [
      sqsRecord(s3EventBody([`team a/${good.block}/meta.json`])),
      sqsRecord('{"version":1,"type":"verify","tenant":"t"}'),
      sqsRecord(S3_TEST_EVENT),
      sqsRecord("not json at all"),
    ];
    const res = await createWorkerHandler(h.deps)(sqsEvent(...records), lambdaContext);

    expect(res).toEqual({
      batchItemFailures: [{ itemIdentifier: records[1]!.messageId }, { itemIdentifier: records[3]!.messageId }],
    });
    expect(h.bucket.indexed("team a")).toEqual([good.block]);
    const invalid = h.lines.filter((l) => l.event === "message-invalid");
    expect(invalid.map((l) => l.messageId)).toEqual([records[1]!.messageId, records[3]!.messageId]);
    expect(invalid[0]!.issues).toEqual([
      { path: "block", message: "Invalid input: expected string, received undefined" },
    ]);
    expect(h.lines.find((l) => l.event === "s3-test-event-ignored")).toMatchObject({
      bucket: "strata-blocks",
      messageId: records[2]!.messageId,
    });
  });

  it("fails only the record whose job throws", async () => {
    const h = harness();
    const a = h.bucket.upload("t", twoHourBlock(0));
    const b = h.bucket.upload("t", twoHourBlock(1));
    const c = h.bucket.upload("t", twoHourBlock(2));
    h.engines.crashing.add(b.block);
    const failed = await run(
      h,
      [a, b, c].map((r) => job({ version: 1, type: "verify", ...r })),
    );
    expect(failed).toEqual(["1"]);
    expect(h.bucket.indexed("t")).toEqual([a.block, c.block].sort());
    expect(h.lines.find((l) => l.event === "job-failed")).toMatchObject({
      level: "error",
      job: "verify",
      tenant: "t",
      block: b.block,
      error: `verifier crashed on ${b.block}`,
    });
  });

  it("reports a batch where every record fails as a whole failure (Lambda retries all)", async () => {
    const h = harness();
    const handler = createWorkerHandler(h.deps);
    await expect(handler(sqsEvent(sqsRecord("{}"), sqsRecord("[]")), lambdaContext)).rejects.toBeInstanceOf(
      FullBatchFailureError,
    );
  });

  it("reports an empty failure list when every record succeeds", async () => {
    const h = harness();
    expect(await createWorkerHandler(h.deps)(sqsEvent(sqsRecord(S3_TEST_EVENT)), lambdaContext)).toEqual({
      batchItemFailures: [],
    });
  });
});

describe("verify", () => {
  it("indexes a good block and enqueues the planner's compactions and downsamplings", async () => {
    const h = harness();
    const blocks = [0, 1, 2, 3].map((i) => h.bucket.upload("t", twoHourBlock(i)));
    h.engines.planner = (_t, live, groupKey) => ({
      compactions:
        live.length === 4
          ? [
              {
                groupKey: groupKey!,
                blocks: live.map((b) => b.meta.ulid).sort(),
                plan: planFor("t", groupKey!, live.map((b) => b.meta.ulid).sort()),
              },
            ]
          : [],
      downsamples: [{ block: blocks[0]!.block, resolution: 300_000 }],
    });
    expect(
      await run(
        h,
        blocks.map((b) => s3EventBody([`t/${b.block}/meta.json`])),
      ),
    ).toEqual([]);

    expect(h.bucket.indexed("t")).toEqual(blocks.map((b) => b.block).sort());
    const compacts = h.queue.sent.filter((j) => j.type === "compact");
    expect(compacts).toHaveLength(1);
    expect(compacts[0]).toMatchObject({
      version: 2,
      plan: { tenant: "t", groupKey: fakeGroupKey({ cluster: "a" }), inputs: blocks.map((b) => b.block).sort() },
    });
    // Every upload re-plans the group, but a job already on the queue is sent once.
    expect(h.queue.sent.filter((j) => j.type === "downsample")).toHaveLength(1);
    const done = h.lines.filter((l) => l.event === "job-done");
    expect(done).toHaveLength(4);
    expect(done[3]).toMatchObject({
      level: "info",
      job: "verify",
      tenant: "t",
      block: blocks[3]!.block,
      enqueued: 1,
      durationMs: 0,
    });
    expect(h.lines.filter((l) => l.event === "planned").map((l) => l.alreadyQueued)).toEqual([0, 1, 1, 1]);
    expect(typeof done[3]!.jobId).toBe("string");
  });

  it("quarantines a broken block: report, then no-compact mark; not indexed, not planned", async () => {
    const h = harness();
    const bad = h.bucket.upload("t", twoHourBlock(0));
    h.engines.broken.set(bad.block, "index: series 17 out of order at offset 4096");
    expect(await run(h, [job({ version: 1, type: "verify", ...bad })])).toEqual([]);

    const stored = h.bucket.get(bad)!;
    expect(JSON.parse(stored.reports.get(VERIFY_REPORT_FILE)!.body)).toEqual({
      block: bad.block,
      problems: ["index: series 17 out of order at offset 4096"],
    });
    expect(stored.noCompact).toEqual({
      id: bad.block,
      version: 1,
      reason: QUARANTINE_REASON,
      details: "index: series 17 out of order at offset 4096",
      no_compact_time: Math.floor(h.clock.now() / 1000),
    });
    expect(h.bucket.indexed("t")).toEqual([]);
    expect(h.engines.calls).toEqual([`verify ${bad.block}`]);
    expect(h.lines.find((l) => l.event === "job-quarantined")).toMatchObject({ block: bad.block, tenant: "t" });

    // A duplicate event converges: no second verification.
    expect(await run(h, [s3EventBody([`t/${bad.block}/meta.json`])])).toEqual([]);
    expect(h.engines.calls).toEqual([`verify ${bad.block}`]);
  });

  it("skips blocks that are gone or marked for deletion", async () => {
    const h = harness();
    const marked = h.bucket.upload("t", twoHourBlock(0));
    await h.bucket.markForDeletion(marked, { id: marked.block, version: 1, deletion_time: 1 });
    const gone = twoHourBlock(1).ulid;
    await run(h, [
      job({ version: 1, type: "verify", ...marked }),
      job({ version: 1, type: "verify", tenant: "t", block: gone }),
    ]);
    expect(h.engines.calls).toEqual([]);
    expect(h.lines.filter((l) => l.event === "job-skipped").map((l) => l.reason)).toEqual([
      "marked for deletion",
      "no meta.json (deleted, or a stale event)",
    ]);
  });
});

describe("compact", () => {
  const G = fakeGroupKey({ cluster: "a" });
  async function setup() {
    const h = harness();
    const inputs = await Promise.all([0, 1, 2, 3].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const blocks = inputs.map((b) => b.block);
    const compact: Job = compactJob(planFor("t", G, blocks));
    return { h, inputs, compact };
  }

  it("compacts, indexes the output, then marks the inputs for deletion", async () => {
    const { h, inputs, compact } = await setup();
    expect(await run(h, [job(compact)])).toEqual([]);
    const live = await h.bucket.blocks("t");
    const output = live.find((b) => b.meta.compaction.level === 2)!.meta;
    expect(output.compaction.sources).toEqual(inputs.map((b) => b.block).sort());
    expect(h.bucket.queryable("t")).toEqual([output.ulid]);
    expect(h.bucket.indexed("t")).toEqual([output.ulid, ...inputs.map((b) => b.block)].sort());
    for (const b of inputs) {
      expect(h.bucket.get(b)!.deletion).toMatchObject({ id: b.block, details: `compacted into ${output.ulid}` });
      expect(h.bucket.index.get("t")!.get(b.block)!.deletionTime).toBe(h.bucket.get(b)!.deletion!.deletion_time);
    }
    expect(h.bucket.leases.size).toBe(0);
  });

  it("converges after a crash between upload and marking, without a second compaction", async () => {
    const { h, inputs, compact } = await setup();
    h.bucket.faults.set("markForDeletion", 1);
    expect(await run(h, [job(compact)])).toEqual(["0"]);
    expect(h.bucket.leases.size).toBe(0); // released despite the failure

    expect(await run(h, [job(compact)])).toEqual([]);
    expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toHaveLength(1);
    expect(h.lines.filter((l) => l.event === "compact-output-exists")).toHaveLength(1);
    for (const b of inputs) expect(h.bucket.get(b)!.deletion).toBeDefined();

    // A third, duplicate delivery changes nothing.
    const before = h.bucket.snapshot();
    expect(await run(h, [job(compact)])).toEqual([]);
    expect(h.bucket.snapshot()).toBe(before);
  });

  it("re-sends a plan whose lease another worker holds with a growing delay (info, not a failure), then compacts once it is free", async () => {
    const { h, compact } = await setup();
    const held = await h.bucket.acquire(
      "t",
      (await import("@strata/pipeline")).compactLeaseName((compact as CompactJob).plan.id),
    );
    expect(held).toBeDefined();
    // Acknowledged, but a copy goes back to the queue: if the holder dies the plan is not lost.
    expect(await run(h, [job(compact)])).toEqual([]);
    expect(h.engines.calls).toEqual([]);
    expect(h.queue.sent).toEqual([{ ...JSON.parse(job(compact)), retry: 1 }]);
    expect(h.queue.delays).toEqual([30]);
    const deferred = h.lines.find((l) => l.event === "job-deferred")!;
    expect(deferred).toMatchObject({
      level: "info",
      job: "compact",
      reason: expect.stringContaining("held by another worker"),
    });
    expect(h.lines.some((l) => l.event === "job-failed")).toBe(false);
    // Still held: the copy is re-sent again, with twice the delay.
    const copy = h.queue.drain()[0]!;
    expect(await run(h, [copy])).toEqual([]);
    expect(h.queue.delays).toEqual([60]);
    // The holder died: its lease expired (released here); the next copy compacts.
    await held!.release();
    const again = h.queue.drain()[0]!;
    expect(await run(h, [again])).toEqual([]);
    expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toHaveLength(1);
  });

  it("gives up re-sending after the configured number of delayed retries", async () => {
    const { h, compact } = await setup();
    await h.bucket.acquire("t", (await import("@strata/pipeline")).compactLeaseName((compact as CompactJob).plan.id));
    const last = { ...JSON.parse(job(compact)), retry: h.deps.config.retryDelay.attempts };
    expect(await run(h, [JSON.stringify(last)])).toEqual([]);
    expect(h.queue.sent).toEqual([]);
    expect(h.lines.find((l) => l.event === "job-retries-exhausted")).toMatchObject({ level: "warn" });
  });

  describe("split plans (Mimir's split stage)", () => {
    async function splitSetup() {
      const { h, inputs, compact } = await setup();
      const plan = planFor("t", G, (compact as CompactJob).plan.inputs, {
        kind: "split",
        shardCount: 3,
        splitGroup: "1_of_1",
      });
      return { h, inputs, compact: compactJob(plan) as Job };
    }
    const shardOf = (m: BlockMeta) => m.thanos?.labels?.__compactor_shard_id__;

    it("writes one block per shard, indexes all of them, then marks the inputs", async () => {
      const { h, inputs, compact } = await splitSetup();
      expect(await run(h, [job(compact)])).toEqual([]);
      const outs = (await h.bucket.blocks("t")).filter((b) => b.meta.compaction.level === 2).map((b) => b.meta);
      expect(outs.map(shardOf).sort()).toEqual(["1_of_3", "2_of_3", "3_of_3"]);
      expect(h.bucket.queryable("t").sort()).toEqual(outs.map((o) => o.ulid).sort());
      for (const b of inputs)
        expect(h.bucket.get(b)!.deletion!.details).toBe(`compacted into ${outs.map((o) => o.ulid).join(", ")}`);
    });

    it("after a crash mid-split, the retry writes only the missing shards and keeps the written ones", async () => {
      const { h, inputs, compact } = await splitSetup();
      h.engines.crashAfterShards = 1;
      expect(await run(h, [job(compact)])).toEqual(["0"]);
      // The shard that made it is a whole block; its upload event verifies and indexes it.
      const uploaded = [...h.bucket.dirs.values()].flatMap((d) =>
        d.meta && d.meta.compaction.level === 2 ? [d.meta] : [],
      );
      expect(uploaded.map(shardOf)).toEqual(["1_of_3"]);
      await h.bucket.addBlock("t", uploaded[0]!);
      const first = (await h.bucket.blocks("t")).filter((b) => b.meta.compaction.level === 2).map((b) => b.meta);
      expect(first.map(shardOf)).toEqual(["1_of_3"]);
      for (const b of inputs) expect(h.bucket.get(b)!.deletion).toBeUndefined(); // nothing marked yet

      expect(await run(h, [job(compact)])).toEqual([]);
      expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toEqual([
        `compact ${inputs.map((b) => b.block).join(",")}`,
        `compact ${inputs.map((b) => b.block).join(",")} shards 1,2`,
      ]);
      const outs = (await h.bucket.blocks("t")).filter((b) => b.meta.compaction.level === 2).map((b) => b.meta);
      expect(outs.map(shardOf).sort()).toEqual(["1_of_3", "2_of_3", "3_of_3"]);
      expect(outs.map((o) => o.ulid)).toContain(first[0]!.ulid);
      expect(h.bucket.queryable("t")).toHaveLength(3);
      for (const b of inputs) expect(h.bucket.get(b)!.deletion).toBeDefined();
    });
  });

  it("re-plans the group when an input vanished since planning", async () => {
    const { h, inputs, compact } = await setup();
    await h.bucket.deleteBlock(inputs[2]!);
    expect(await run(h, [job(compact)])).toEqual([]);
    expect(h.engines.calls).toEqual([]);
    expect(h.queue.sent).toEqual([{ version: 1, type: "plan", tenant: "t", groupKey: G }]);
  });
});

describe("downsample", () => {
  it("writes the 5m twin once, and refuses a resolution the block cannot reach", async () => {
    const h = harness();
    const src = await h.bucket.uploadIndexed("t", twoHourBlock(0));
    const ds: Job = { version: 1, type: "downsample", ...src, resolution: 300_000 };
    expect(await run(h, [job(ds), job(ds)])).toEqual([]);
    const twins = (await h.bucket.blocks("t")).filter((b) => b.meta.thanos?.downsample?.resolution === 300_000);
    expect(twins).toHaveLength(1);
    // Written once, and verified before it is indexed.
    expect(h.engines.calls).toEqual([`downsample ${src.block} 300000`, `verify ${twins[0]!.meta.ulid}`]);
    expect(h.bucket.indexed("t")).toEqual([src.block, twins[0]!.meta.ulid].sort());

    expect(await run(h, [job({ ...ds, resolution: 3_600_000 })])).toEqual(["0"]);
    expect(h.lines.at(-1)!.error).toBe(
      `downsample to 3600000 ms needs a block at 300000 ms; block ${src.block} is at 0 ms`,
    );
  });
});

describe("maintenance jobs", () => {
  it("retention marks blocks past their resolution's retention; without a tenant it fans out", async () => {
    // Each resolution on its own clock here; the last-copy rule is tested below.
    const h = harness({
      retention: { 0: 24 * 3_600_000, 300000: 0, 3600000: 0 },
      retentionRequiresDownsampled: false,
    });
    const old = await h.bucket.uploadIndexed("t", twoHourBlock(0)); // ends 46h before now
    const recent = await h.bucket.uploadIndexed("t", twoHourBlock(20)); // ends 6h before now
    h.bucket.upload("u", twoHourBlock(0));
    expect(await run(h, [job({ version: 1, type: "retention" })])).toEqual([]);
    expect(h.queue.drain().map((b) => JSON.parse(b))).toEqual([
      { version: 1, type: "retention", tenant: "t" },
      { version: 1, type: "retention", tenant: "u" },
    ]);
    expect(await run(h, [job({ version: 1, type: "retention", tenant: "t" })])).toEqual([]);
    expect(h.bucket.get(old)!.deletion).toMatchObject({
      details: "retention",
      deletion_time: Math.floor(h.clock.now() / 1000),
    });
    expect(h.bucket.get(recent)!.deletion).toBeUndefined();
  });

  it("retention holds a raw block past its retention until a 5m block holds its range, and says so", async () => {
    const h = harness({ retention: { 0: 24 * 3_600_000, 300000: 0, 3600000: 0 } });
    const old = await h.bucket.uploadIndexed("t", twoHourBlock(0));
    expect(await run(h, [job({ version: 1, type: "retention", tenant: "t" })])).toEqual([]);
    expect(h.bucket.get(old)!.deletion).toBeUndefined();
    expect(h.lines.find((l) => l.event === "retention-held")).toMatchObject({
      blocks: [{ block: old.block, reason: expect.stringContaining("last copy") }],
    });
    const src = h.bucket.get(old)!.meta!;
    await h.bucket.uploadIndexed(
      "t",
      meta({ minTime: src.minTime, maxTime: src.maxTime, sources: [old.block], resolution: 300_000 }),
    );
    expect(await run(h, [job({ version: 1, type: "retention", tenant: "t" })])).toEqual([]);
    expect(h.bucket.get(old)!.deletion).toMatchObject({ details: "retention" });
  });

  it("cleanup deletes after the delete delay and marks abandoned partial uploads", async () => {
    const h = harness({ deleteDelayMs: 3_600_000, partialUploadAgeMs: 7_200_000 });
    const due = h.bucket.upload("t", twoHourBlock(0));
    const notYet = h.bucket.upload("t", twoHourBlock(1));
    await h.bucket.addBlock("t", h.bucket.get(due)!.meta!);
    const nowS = Math.floor(h.clock.now() / 1000);
    await h.bucket.markForDeletion(due, { id: due.block, version: 1, deletion_time: nowS - 3600 });
    await h.bucket.markForDeletion(notYet, { id: notYet.block, version: 1, deletion_time: nowS - 60 });
    const stale = twoHourBlock(2).ulid;
    const fresh = twoHourBlock(3).ulid;
    h.bucket.partial("t", stale, h.clock.now() - 7_200_000);
    h.bucket.partial("t", fresh, h.clock.now() - 60_000);

    expect(await run(h, [job({ version: 1, type: "cleanup", tenant: "t" })])).toEqual([]);
    expect(h.bucket.deleted).toEqual([`t/${due.block}`]);
    expect(h.bucket.indexed("t")).toEqual([]);
    expect(h.bucket.get(notYet)).toBeDefined();
    expect(h.bucket.get({ tenant: "t", block: stale })!.deletion).toMatchObject({
      details: "partial upload abandoned",
    });
    expect(h.bucket.get({ tenant: "t", block: fresh })!.deletion).toBeUndefined();
  });

  it("index-sync rebuilds the index, then re-plans the tenant", async () => {
    const h = harness();
    expect(await run(h, [job({ version: 1, type: "index-sync", tenant: "team a" })])).toEqual([]);
    expect(h.bucket.rebuilt).toEqual(["team a"]);
    expect(h.queue.sent).toEqual([{ version: 1, type: "plan", tenant: "team a" }]);
  });
});

describe("convergence through events", () => {
  it("a compaction repeated after a crash before indexing leaves one output once the group is re-planned", async () => {
    const h = harness();
    const inputs = await Promise.all([0, 1].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const G = fakeGroupKey({ cluster: "a" });
    const blocks = inputs.map((b) => b.block);
    const compact: Job = compactJob(planFor("t", G, blocks));
    h.bucket.faults.set("addBlock", 1); // the output is uploaded, then indexing fails
    expect(await run(h, [job(compact)])).toEqual(["0"]);
    expect(await run(h, [job(compact)])).toEqual([]); // not visible in the index: compacts again
    const outputs = [...h.bucket.dirs.values()]
      .filter((d) => d.meta?.compaction.level === 2)
      .map((d) => d.meta!.ulid)
      .sort();
    expect(outputs).toHaveLength(2);

    // The first output's own upload event verifies and indexes it, and re-plans the group,
    // which marks the later twin (same sources) as covered.
    expect(await run(h, [s3EventBody([`t/${outputs[0]}/meta.json`])])).toEqual([]);
    expect(h.bucket.get({ tenant: "t", block: outputs[1]! })!.deletion).toMatchObject({
      details: `covered by ${outputs[0]}`,
    });
    expect(h.bucket.queryable("t")).toEqual([outputs[0]]);
  });

  it("the leveled pipeline emerges from upload events alone", async () => {
    const h = harness();
    // Plan: compact a group once it has four blocks of one level.
    h.engines.planner = (_t, live, groupKey) => {
      const byLevel = new Map<number, string[]>();
      for (const b of live)
        byLevel.set(b.meta.compaction.level, [...(byLevel.get(b.meta.compaction.level) ?? []), b.meta.ulid]);
      const compactions = [...byLevel.values()]
        .filter((ids) => ids.length >= 4)
        .map((ids) => ids.sort().slice(0, 4))
        .map((ids) => ({ groupKey: groupKey!, blocks: ids, plan: planFor("team a", groupKey!, ids) }));
      return { compactions, downsamples: [] };
    };
    // The "bucket notification": every uploaded meta.json becomes an S3 event on the queue.
    const pending: string[] = [];
    const upload = h.bucket.upload.bind(h.bucket);
    h.bucket.upload = (tenant, m) => {
      const ref = upload(tenant, m);
      pending.push(s3EventBody([`${tenant}/${m.ulid}/meta.json`]));
      return ref;
    };
    for (let i = 0; i < 16; i++) h.bucket.upload("team a", twoHourBlock(i));
    let batches = 0;
    while (pending.length > 0 || h.queue.bodies.length > 0) {
      const batch = [...pending.splice(0), ...h.queue.drain()];
      expect(await run(h, batch)).toEqual([]);
      if (++batches > 50) throw new Error("pipeline did not settle");
    }
    const live = (await h.bucket.blocks("team a")).filter((b) => b.deletionTime === undefined).map((b) => b.meta);
    expect(live.map((m) => m.compaction.level)).toEqual([3]);
    expect(live[0]!.compaction.sources).toHaveLength(16);
    expect(h.engines.calls.filter((c) => c.startsWith("compact"))).toHaveLength(5);
  });
});

describe("S3 events from another bucket", () => {
  it("acknowledges a foreign bucket's record unrun, with a warning, and runs its own", async () => {
    const h = harness();
    const ours = h.bucket.upload("t", twoHourBlock(0));
    const theirs = h.bucket.upload("t", twoHourBlock(1));
    const records = [
      sqsRecord(s3EventBody([`t/${theirs.block}/meta.json`], { bucket: "someone-elses-bucket" })),
      sqsRecord(s3EventBody([`t/${ours.block}/meta.json`])),
    ];
    const res = await createWorkerHandler(h.deps, { bucket: "strata-blocks" })(sqsEvent(...records), lambdaContext);
    // Not failed: a retry could never make it ours, so it must not loop to the DLQ.
    expect(res.batchItemFailures).toEqual([]);
    expect(h.bucket.indexed("t")).toEqual([ours.block]);
    expect(h.lines.filter((l) => l.event === "foreign-bucket-ignored")).toMatchObject([
      {
        level: "warn",
        bucket: "someone-elses-bucket",
        expected: "strata-blocks",
        key: `t/${theirs.block}/meta.json`,
        messageId: records[0]!.messageId,
      },
    ]);
    expect(h.engines.calls.filter((c) => c.includes(theirs.block))).toEqual([]);
  });
});
