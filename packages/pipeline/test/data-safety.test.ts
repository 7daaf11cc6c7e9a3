/**
 * Issue 12 over the pipeline's ports: a block enters the index only through a passed verify,
 * the pipeline's own outputs are verified before any input is marked, a plan whose output is
 * broken is refused instead of retried forever, and a quarantine has a way back (re-upload,
 * repair). Each test failed on the pipeline before admission (`jobs/admit.ts`) existed.
 */
import { describe, expect, it } from "vitest";
import {
  COMPACTION_FAILED_REASON,
  DOWNSAMPLE_FAILED_REASON,
  JOB_FAILED_REASON,
  QUARANTINE_REASON,
  VERIFIED_FILE,
  VERIFY_REPORT_FILE,
  PLAN_REPORT_FILE,
  encodeJob,
  handleRecord,
  sha256Hex,
  repairedUlid,
  VerificationIncompleteError,
  type Job,
} from "@strata/pipeline";
import {
  compactJob,
  fakeGroupKey,
  harness,
  metaBytes,
  planFor,
  s3EventBody,
  twoHourBlock,
  type Harness,
} from "@strata/testkit/pipeline";

/** Run one body; true when it succeeded (a throw is a failed record, retried by SQS). */
async function ok(h: Harness, body: string): Promise<boolean> {
  try {
    await handleRecord(body, h.deps);
    return true;
  } catch {
    return false;
  }
}
const job = (j: Job) => encodeJob(j);
const verify = (tenant: string, block: string) => job({ version: 1, type: "verify", tenant, block });

describe("only verified blocks are indexed", () => {
  it("the index re-sync sends a block whose verify has not run to verification instead of indexing it", async () => {
    const h = harness();
    const early = h.bucket.upload("t", twoHourBlock(0)); // meta.json landed; its verify has not run
    expect(await ok(h, job({ version: 1, type: "index-sync", tenant: "t" }))).toBe(true);
    expect(h.bucket.indexed("t")).toEqual([]);
    expect(h.queue.sent).toEqual([
      { version: 1, type: "verify", tenant: "t", block: early.block },
      { version: 1, type: "plan", tenant: "t" },
    ]);
    // The verify job admits it, with its verification record.
    h.engines.broken.set(early.block, "chunks/000001@77: BadChecksum");
    expect(await ok(h, verify("t", early.block))).toBe(true);
    expect(h.bucket.indexed("t")).toEqual([]);
    expect(h.bucket.get(early)!.noCompact?.reason).toBe(QUARANTINE_REASON);
    // Quarantined blocks are never sent again by the re-sync.
    h.queue.drain();
    expect(await ok(h, job({ version: 1, type: "index-sync", tenant: "t" }))).toBe(true);
    expect(h.queue.sent).toEqual([{ version: 1, type: "plan", tenant: "t" }]);
  });

  it("a verified block keeps its place across re-syncs, and its record spares a second verification", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    expect(await ok(h, verify("t", b.block))).toBe(true);
    expect(h.bucket.indexed("t")).toEqual([b.block]);
    expect(JSON.parse(h.bucket.get(b)!.reports.get(VERIFIED_FILE)!.body)).toMatchObject({
      version: 1,
      verifier_version: 2,
      meta_sha256: sha256Hex(metaBytes(b.block, 1)),
    });
    h.bucket.index.clear(); // the index lost (or unreadable and rebuilt)
    expect(await ok(h, job({ version: 1, type: "index-sync", tenant: "t" }))).toBe(true);
    expect(h.bucket.indexed("t")).toEqual([b.block]);
    // A duplicate upload event finds the record for this very meta.json: no verification.
    expect(await ok(h, s3EventBody([`t/${b.block}/meta.json`]))).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("verify"))).toEqual([`verify ${b.block}`]);
    // A new meta.json (a re-upload) is verified again.
    h.bucket.upload("t", h.bucket.get(b)!.meta!);
    expect(await ok(h, s3EventBody([`t/${b.block}/meta.json`]))).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("verify"))).toEqual([`verify ${b.block}`, `verify ${b.block}`]);
  });
});

describe("outputs are verified before inputs go", () => {
  async function compaction(h: Harness) {
    const inputs = await Promise.all([0, 1, 2].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const G = fakeGroupKey({ cluster: "a" });
    const blocks = inputs.map((b) => b.block);
    return { inputs, compact: job(compactJob(planFor("t", G, blocks))) };
  }

  it("a compaction output that fails verification never becomes a block; the inputs stay live and get a no-compact mark and report naming the cause", async () => {
    const h = harness();
    const { inputs, compact } = await compaction(h);
    // The verifier rejects whatever the compactor writes next.
    const verifyOf = h.engines.verify.bind(h.engines);
    const rejected: string[] = [];
    h.engines.verify = async (src, ref) => {
      if (inputs.some((i) => i.block === ref.block)) return verifyOf(src, ref);
      rejected.push(ref.block);
      return {
        ok: false,
        reason: "chunks/000001@4096: ChunkDecodeError",
        report: '{"problems":["ChunkDecodeError"]}',
        repairable: false,
      };
    };
    expect(await ok(h, compact)).toBe(true);

    expect(rejected).toHaveLength(1);
    expect(h.bucket.get({ tenant: "t", block: rejected[0]! })?.meta).toBeUndefined(); // abandoned before its meta.json
    expect(h.bucket.indexed("t")).toEqual(inputs.map((b) => b.block).sort());
    expect(h.bucket.queryable("t")).toEqual(inputs.map((b) => b.block).sort());
    for (const b of inputs) {
      expect(h.bucket.get(b)!.deletion).toBeUndefined();
      expect(h.bucket.get(b)!.noCompact).toMatchObject({
        reason: COMPACTION_FAILED_REASON,
        details: `compaction output ${rejected[0]} failed verification: chunks/000001@4096: ChunkDecodeError`,
      });
      expect(JSON.parse(h.bucket.get(b)!.reports.get(PLAN_REPORT_FILE)!.body)).toMatchObject({
        output: rejected[0],
        reason: COMPACTION_FAILED_REASON,
        details: expect.stringContaining("chunks/000001@4096: ChunkDecodeError"),
        verify: { problems: ["ChunkDecodeError"] },
      });
    }
    expect(h.lines.find((l) => l.event === "plan-refused")).toMatchObject({ level: "error", tenant: "t" });
    // The planner sees the marks (so the plan is not made again).
    expect((await h.bucket.blocks("t")).every((b) => b.noCompact?.reason === COMPACTION_FAILED_REASON)).toBe(true);
  });

  it("a compaction output is verified once: before it is visible, not again on its upload event", async () => {
    const h = harness();
    const { compact } = await compaction(h);
    expect(await ok(h, compact)).toBe(true);
    const output = (await h.bucket.blocks("t")).find((b) => b.meta.compaction.level === 2)!.meta;
    expect(h.engines.calls.filter((c) => c.startsWith("verify"))).toEqual([`verify ${output.ulid}`]);
    expect(await ok(h, s3EventBody([`t/${output.ulid}/meta.json`]))).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("verify"))).toEqual([`verify ${output.ulid}`]);
  });

  it("a downsampled output that fails verification leaves the source live, marked no-downsample, and the job is not redone", async () => {
    const h = harness();
    const src = await h.bucket.uploadIndexed("t", twoHourBlock(0));
    const verifyOf = h.engines.verify.bind(h.engines);
    h.engines.verify = async (s, ref) =>
      ref.block === src.block
        ? verifyOf(s, ref)
        : { ok: false, reason: "aggregate 4: sample 3 is not after sample 2", report: "{}", repairable: false };
    const ds = job({ version: 1, type: "downsample", ...src, resolution: 300_000 });
    expect(await ok(h, ds)).toBe(true);
    expect(h.bucket.get(src)!.noDownsample).toMatchObject({ reason: DOWNSAMPLE_FAILED_REASON });
    expect(h.bucket.queryable("t")).toEqual([src.block]);
    expect(await ok(h, ds)).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("downsample"))).toHaveLength(1);
  });
});

describe("an upload in progress", () => {
  it("is asked about again with a delay (30 s, doubling up to 15 min), not after the visibility timeout", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    h.engines.verify = async (_s, ref) => {
      throw new VerificationIncompleteError(
        `${ref.block}: block has no index file (upload still in progress?)`,
        "upload-in-progress",
      );
    };
    expect(await ok(h, verify("t", b.block))).toBe(true); // acknowledged: nothing failed
    expect(h.queue.sent).toEqual([{ version: 1, type: "verify", tenant: "t", block: b.block, retry: 1 }]);
    expect(h.queue.delays).toEqual([30]);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const body = h.queue.drain()[0]!;
      expect(await ok(h, body)).toBe(true);
      delays.push(h.queue.delays[0]!);
    }
    expect(delays).toEqual([60, 120, 240, 480, 900, 900, 900]);
    expect(h.bucket.get(b)!.noCompact).toBeUndefined(); // never a verdict
    expect(h.lines.filter((l) => l.event === "job-deferred").every((l) => l.level === "info")).toBe(true);
  });

  it("a store that fails under verification fails the record (the visibility timeout retries it)", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    h.engines.verify = async () => {
      throw new VerificationIncompleteError("verification could not read the block: 503 SlowDown", "read-failed");
    };
    expect(await ok(h, verify("t", b.block))).toBe(false);
    expect(h.queue.sent).toEqual([]);
  });
});

describe("a job that keeps failing stops (3 attempts)", () => {
  it("after 3 failed or killed attempts the inputs get a no-compact mark with the collected errors, and the job is not run again", async () => {
    const h = harness();
    const inputs = await Promise.all([0, 1].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const G = fakeGroupKey({ cluster: "a" });
    const blocks = inputs.map((b) => b.block);
    const compact = job(compactJob(planFor("t", G, blocks)));
    let calls = 0;
    h.engines.compact = async () => {
      calls++;
      if (calls === 2) throw new Error("simulated kill"); // recorded below as a kill (no error written)
      throw new Error(`out of memory in attempt ${calls}`);
    };
    // The second attempt dies without writing its error, as a killed Lambda would.
    const write = h.bucket.writeAttempts.bind(h.bucket);
    h.bucket.writeAttempts = async (t, n, r) =>
      r?.errors.some((e) => e.startsWith("attempt 2:")) ? undefined : write(t, n, r);
    for (let i = 0; i < 3; i++) expect(await ok(h, compact)).toBe(false);
    expect(calls).toBe(3);
    const rec = (await h.bucket.listAttempts("t"))[0]!;
    expect(rec.record).toMatchObject({ attempts: 3, blocks });
    // The fourth delivery refuses the plan instead of running it.
    expect(await ok(h, compact)).toBe(true);
    expect(calls).toBe(3);
    for (const b of inputs) {
      const mark = h.bucket.get(b)!.noCompact!;
      expect(mark.reason).toBe(JOB_FAILED_REASON);
      expect(mark.details).toContain("attempt 1: out of memory in attempt 1");
      expect(mark.details).toContain("attempt 2: no error recorded (killed or out of time)");
      expect(mark.details).toContain("attempt 3: out of memory in attempt 3");
      expect(h.bucket.get(b)!.deletion).toBeUndefined();
    }
    expect(await h.bucket.listAttempts("t")).toEqual([]);
    expect(h.lines.find((l) => l.event === "job-refused")).toMatchObject({ level: "error", attempts: 3 });
    expect(h.bucket.queryable("t")).toEqual(blocks.sort());
  });

  it("a running job renews its lease every third of the TTL, so a job longer than the TTL keeps it", async () => {
    const h = harness({ leaseTtlMs: 150 });
    const inputs = await Promise.all([0, 1].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const G = fakeGroupKey({ cluster: "a" });
    const blocks = inputs.map((b) => b.block);
    const real = h.engines.compact.bind(h.engines);
    h.engines.compact = async (...a) => {
      await new Promise((r) => setTimeout(r, 400));
      return real(...a);
    };
    expect(await ok(h, job(compactJob(planFor("t", G, blocks))))).toBe(true);
    expect(h.bucket.renewals).toBeGreaterThanOrEqual(3); // every max(100 ms, TTL/3) over 400 ms
    expect(h.bucket.leases.size).toBe(0);
  });

  it("a success clears the count", async () => {
    const h = harness();
    const inputs = await Promise.all([0, 1].map((i) => h.bucket.uploadIndexed("t", twoHourBlock(i))));
    const G = fakeGroupKey({ cluster: "a" });
    const blocks = inputs.map((b) => b.block);
    const compact = job(compactJob(planFor("t", G, blocks)));
    const real = h.engines.compact.bind(h.engines);
    let fail = 2;
    h.engines.compact = async (...a) => {
      if (fail-- > 0) throw new Error("transient");
      return real(...a);
    };
    expect(await ok(h, compact)).toBe(false);
    expect(await ok(h, compact)).toBe(false);
    expect(await ok(h, compact)).toBe(true);
    expect(await h.bucket.listAttempts("t")).toEqual([]);
    expect(inputs.every((b) => h.bucket.get(b)!.deletion !== undefined)).toBe(true);
  });
});

describe("quarantine has a way back", () => {
  it("a re-upload of a quarantined block's meta.json is verified again, and a pass lifts the quarantine", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    h.engines.broken.set(b.block, "meta.json: MetaStatsMismatch");
    expect(await ok(h, verify("t", b.block))).toBe(true);
    expect(await ok(h, verify("t", b.block))).toBe(true); // same files: not verified again
    expect(h.engines.calls).toEqual([`verify ${b.block}`]);

    h.engines.broken.delete(b.block);
    h.clock.t += 60_000;
    h.bucket.upload("t", h.bucket.get(b)!.meta!); // the operator re-uploads the fixed files
    expect(await ok(h, s3EventBody([`t/${b.block}/meta.json`]))).toBe(true);
    expect(h.engines.calls.filter((c) => c.startsWith("verify"))).toEqual([`verify ${b.block}`, `verify ${b.block}`]);
    expect(h.bucket.get(b)!.noCompact).toBeUndefined();
    expect(h.bucket.get(b)!.reports.has(VERIFY_REPORT_FILE)).toBe(false);
    expect(h.bucket.indexed("t")).toEqual([b.block]);
  });

  it("a block with only repairable problems is repaired; the original goes only after the repaired block is indexed", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    h.engines.repairable.set(
      b.block,
      "meta.json: MetaStatsMismatch: stats.numSamples differs from the block's content",
    );
    const fixed = repairedUlid(b.block);
    h.bucket.faults.set("addBlock", 1); // dies after writing the repaired block, before indexing it
    expect(await ok(h, verify("t", b.block))).toBe(false);
    expect(h.bucket.get(b)!.deletion).toBeUndefined();
    expect(h.bucket.get({ tenant: "t", block: fixed })?.meta).toBeDefined();

    expect(await ok(h, verify("t", b.block))).toBe(true); // the retry finishes the same repair
    expect(h.engines.calls.filter((c) => c.startsWith("repair"))).toEqual([`repair ${b.block} into ${fixed}`]);
    expect(h.bucket.indexed("t")).toEqual([fixed]);
    expect(h.bucket.get({ tenant: "t", block: fixed })!.reports.has(VERIFIED_FILE)).toBe(true);
    expect(h.bucket.get(b)!.deletion).toMatchObject({ details: expect.stringContaining(`repaired into ${fixed}`) });
    expect(h.bucket.get(b)!.noCompact?.reason).toBe(QUARANTINE_REASON);
  });

  it("a repair that fails for a passing reason (a store outage) fails the job, and its redelivery repairs the block", async () => {
    const h = harness();
    const b = h.bucket.upload("t", twoHourBlock(0));
    h.engines.repairable.set(
      b.block,
      "meta.json: MetaStatsMismatch: stats.numSamples differs from the block's content",
    );
    h.engines.repairFailures.push(new Error("SlowDown: please reduce your request rate (after every retry)"));
    // Not acknowledged as "quarantined": nothing would ever verify the quarantined block again.
    expect(await ok(h, verify("t", b.block))).toBe(false);
    expect(h.bucket.get(b)!.noCompact?.reason).toBe(QUARANTINE_REASON);
    expect(h.bucket.indexed("t")).toEqual([]);

    expect(await ok(h, verify("t", b.block))).toBe(true); // SQS redelivers it
    const fixed = repairedUlid(b.block);
    expect(h.bucket.indexed("t")).toEqual([fixed]);
    expect(h.bucket.get(b)!.deletion).toMatchObject({ details: expect.stringContaining(`repaired into ${fixed}`) });
  });
});
