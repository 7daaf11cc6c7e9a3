/**
 * verify: the first job of every uploaded block (its meta.json's S3 event), of every block
 * the pipeline itself writes, and of every block an index re-sync finds unadmitted. A broken
 * block is quarantined (report, then no-compact mark) and kept out of the index; a good one is
 * admitted (`admit.ts`), then its group is re-planned. A block whose only problems are
 * repairable is repaired into a new block, which is verified and indexed before the original
 * is marked for deletion.
 *
 * Idempotency, step by step (any step may be retried after a crash):
 *  - meta.json gone: the block was deleted (or this is a stale event); nothing to do.
 *  - deletion mark present: the block is already compacted away; nothing to do.
 *  - quarantined, and no block file newer than the report: only the mark's global mirror may
 *    be missing, so it is written again (create-if-absent), done. A newer file is a re-upload
 *    of the block, or the rest of an upload that came after the verdict: verified again (the
 *    index re-sync sends such blocks here, and files that change during a verification make
 *    it "upload in progress", not a verdict).
 *  - a verification record for this very meta.json (same bytes, current verifier): verified
 *    already (the pipeline verifies its outputs before they become visible); only the index
 *    entry is ensured.
 *  - verification is a pure function of the block's bytes: a retry reaches the same verdict.
 *  - the repaired block's ULID is derived from the original's, so a retry finds (or rewrites)
 *    the same block instead of making a second copy.
 */
import { createHash } from "node:crypto";
import { FormatError, newUlid, ulidTime, type BlockMeta } from "@strata/tsdb";
import { NotRepairableError } from "@strata/verify";
import type { VerifyJob } from "../messages.ts";
import type { BlockRef } from "../ports.ts";
import type { JobContext, JobResult } from "./context.ts";
import { deferJob, markDeleted, stopSignal, tenantGroupKey } from "./context.ts";
import { VerificationIncompleteError } from "../ports.ts";
import { planAndEnqueue } from "./plan.ts";
import {
  OutputRejectedError,
  QUARANTINE_REASON,
  VERIFY_REPORT_FILE,
  admit,
  outputCheck,
  trustedRecord,
  verifyAndAdmit,
} from "./admit.ts";

export { QUARANTINE_REASON, VERIFY_REPORT_FILE, VERIFIED_FILE, VERIFIER_VERSION } from "./admit.ts";
import { convertIfWanted } from "./convert.ts";

export async function runVerify(ctx: JobContext, job: VerifyJob): Promise<JobResult> {
  const { storage, index } = ctx.deps;
  const ref: BlockRef = { tenant: job.tenant, block: job.block };

  // A meta.json that does not parse is the verifier's to report (MetaInvalid → quarantine).
  const read = await storage.readMetaStat(ref);
  if (read === undefined) return { status: "skipped", reason: "no meta.json (deleted, or a stale event)" };
  const { meta, stat } = read;
  const markers = await storage.readMarkers(ref);
  if (markers.deletion) return { status: "skipped", reason: "marked for deletion" };
  if (markers.noCompact?.reason === QUARANTINE_REASON) {
    const report = await storage.readReport(ref, VERIFY_REPORT_FILE);
    // A block file newer than the report (a re-upload, or the rest of an upload that came after
    // its verdict) is verified again; otherwise the verdict stands.
    const newest = Math.max(stat.lastModified, ...(await storage.listBlockData(ref)).map((f) => f.lastModified));
    if (report === undefined || newest <= report.lastModified) {
      // A crash between the block's mark and its global mirror leaves the mirror unwritten, and
      // index rebuilds read the mirrors: finish the (idempotent) marking before skipping.
      await storage.markNoCompact(ref, markers.noCompact);
      // A crash during a repair leaves a repairable block quarantined: finish the repair.
      if (report && isRepairableReport(report.body) && !(meta instanceof FormatError))
        return repair(ctx, ref, meta, markers.noCompact.details ?? "repairable");
      return { status: "skipped", reason: "already quarantined" };
    }
    ctx.log.info("quarantined-block-reuploaded", { block: ref.block });
  } else if (!(meta instanceof FormatError) && (await trustedRecord(ctx, ref, stat))) {
    await index.addBlock(ref.tenant, meta);
    const enqueued = await planAndEnqueue(ctx, ref.tenant, await tenantGroupKey(ctx, ref.tenant, meta));
    return { status: "done", reason: "already verified", enqueued: enqueued + (await convertIfWanted(ctx, ref, meta)) };
  }

  let admitted;
  try {
    admitted = await verifyAndAdmit(ctx, ref, stat);
  } catch (e) {
    // meta.json came first (`aws s3 cp --recursive`): ask again shortly instead of after the visibility timeout.
    if (e instanceof VerificationIncompleteError && e.kind === "upload-in-progress")
      return deferJob(ctx, job, e.message);
    throw e;
  }
  if (admitted.ok) {
    const enqueued = await planAndEnqueue(ctx, ref.tenant, await tenantGroupKey(ctx, ref.tenant, admitted.meta));
    return { status: "done", enqueued: enqueued + (await convertIfWanted(ctx, ref, admitted.meta)) };
  }
  if (!admitted.repairable || meta instanceof FormatError) return { status: "quarantined", reason: admitted.reason };
  return repair(ctx, ref, meta, admitted.reason);
}

/**
 * Repair a quarantined block whose problems are all repairable: the repaired copy is verified
 * before it becomes visible and indexed like any block, and only then is the original marked
 * for deletion.
 */
async function repair(ctx: JobContext, ref: BlockRef, meta: BlockMeta, reason: string): Promise<JobResult> {
  const { storage, engines } = ctx.deps;
  const target: BlockRef = { tenant: ref.tenant, block: repairedUlid(ref.block) };
  // Written by an earlier attempt (committed only after its check passed), or not yet; a store
  // error fails the job (retried) rather than passing for "not yet".
  let repaired = await storage.readMeta(target).catch((e: unknown) => {
    if (e instanceof FormatError) return undefined;
    throw e;
  });
  if (repaired === undefined) {
    try {
      repaired = await engines.repair(ref, target.block, { check: outputCheck(ctx), signal: stopSignal(ctx) });
    } catch (e) {
      // Only a verdict on the block's bytes ends the repair. Anything else (a store outage, the
      // job's time running out) fails the job: SQS brings it back and the quarantined branch
      // above finishes the repair. Acknowledged, it would leave a repairable block quarantined
      // for good, since nothing verifies a quarantined block again unless it is re-uploaded.
      if (!(e instanceof OutputRejectedError || e instanceof NotRepairableError || e instanceof FormatError)) throw e;
      const why =
        e instanceof OutputRejectedError
          ? `the repaired block failed verification: ${e.reason}`
          : `repair failed: ${e.message}`;
      ctx.log.warn("repair-failed", { block: ref.block, repaired: target.block, error: why });
      return { status: "quarantined", reason: `${reason}; ${why}` };
    }
  }
  // Written by this job or an earlier attempt, verified before it became visible (its record).
  await admit(ctx, ref.tenant, repaired);
  await markDeleted(ctx, ref.tenant, [{ block: ref.block, details: `repaired into ${target.block} (${reason})` }]);
  ctx.log.info("block-repaired", {
    block: ref.block,
    repaired: target.block,
    minTime: meta.minTime,
    maxTime: meta.maxTime,
  });
  const enqueued = await planAndEnqueue(ctx, ref.tenant, await tenantGroupKey(ctx, ref.tenant, repaired));
  return { status: "done", reason: `repaired into ${target.block}`, enqueued };
}

/** Whether a quarantine report says every problem is repairable (`repairable: true`, written by the engines). */
function isRepairableReport(body: string): boolean {
  try {
    return (JSON.parse(body) as { repairable?: unknown }).repairable === true;
  } catch {
    return false;
  }
}

/** The repaired copy's ULID: the original's time, randomness derived from its ULID. */
export function repairedUlid(block: string): string {
  const r = createHash("sha256").update("strata-repair\0").update(block).digest().subarray(0, 10);
  return newUlid(ulidTime(block), new Uint8Array(r));
}
