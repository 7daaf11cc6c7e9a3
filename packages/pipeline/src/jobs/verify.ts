/**
 * verify: the first job of every uploaded block (its meta.json's S3 event), and of every block
 * the pipeline itself writes. A broken block is quarantined (report, then no-compact mark) and
 * kept out of the index; a good one is added to the index, then its group is re-planned.
 *
 * Idempotency, step by step (any step may be retried after a crash):
 *  - meta.json gone: the block was deleted (or this is a stale event); nothing to do.
 *  - deletion mark present: the block is already compacted away; nothing to do.
 *  - our quarantine mark present: the report was written before it (order below); only the
 *    mark's global mirror may be missing, so it is written again (create-if-absent), done.
 *  - verification is a pure function of the block's bytes: a retry reaches the same verdict.
 *  - the report is overwritten with the same content; the no-compact mark is create-if-absent.
 *  - adding to the index is idempotent (same ULID, same meta); re-planning only enqueues work
 *    that the compact/downsample jobs deduplicate.
 */
import { FormatError, MARKER_VERSION_1, type BlockMeta, type NoCompactMark } from "@strata/tsdb";
import type { VerifyJob } from "../messages.ts";
import type { BlockRef } from "../ports.ts";
import type { JobContext, JobResult } from "./context.ts";
import { planAndEnqueue } from "./plan.ts";

/** The no-compact reason Strata writes for a block that failed verification. */
export const QUARANTINE_REASON = "strata-verify-failed";
/** The report object written next to a quarantined block's meta.json. */
export const VERIFY_REPORT_FILE = "strata-verify-report.json";

export async function runVerify(ctx: JobContext, job: VerifyJob): Promise<JobResult> {
  const { storage, engines, index, clock } = ctx.deps;
  const ref: BlockRef = { tenant: job.tenant, block: job.block };

  // A meta.json that does not parse is the verifier's to report (MetaInvalid → quarantine).
  const meta: BlockMeta | FormatError | undefined = await storage.readMeta(ref).catch((e: unknown) => {
    if (e instanceof FormatError) return e;
    throw e;
  });
  if (meta === undefined) return { status: "skipped", reason: "no meta.json (deleted, or a stale event)" };
  const markers = await storage.readMarkers(ref);
  if (markers.deletion) return { status: "skipped", reason: "marked for deletion" };
  if (markers.noCompact?.reason === QUARANTINE_REASON) {
    // A crash between the block's mark and its global mirror leaves the mirror unwritten, and
    // index rebuilds read the mirrors: finish the (idempotent) marking before skipping.
    await storage.markNoCompact(ref, markers.noCompact);
    return { status: "skipped", reason: "already quarantined" };
  }

  const source = await storage.openBlock(ref);
  const outcome = await engines.verify(source, ref);

  if (!outcome.ok) {
    // Report first, mark second: a present mark then always has its report.
    await storage.putReport(ref, VERIFY_REPORT_FILE, outcome.report);
    const mark: NoCompactMark = {
      id: ref.block,
      version: MARKER_VERSION_1,
      details: outcome.reason,
      no_compact_time: Math.floor(clock.now() / 1000),
      reason: QUARANTINE_REASON,
    };
    await storage.markNoCompact(ref, mark);
    ctx.log.warn("block-quarantined", { reason: outcome.reason });
    return { status: "quarantined", reason: outcome.reason };
  }

  await index.addBlock(ref.tenant, outcome.meta);
  ctx.log.info("block-indexed", { compactionLevel: outcome.meta.compaction.level, resolution: outcome.meta.thanos?.downsample?.resolution ?? 0, minTime: outcome.meta.minTime, maxTime: outcome.meta.maxTime });
  const enqueued = await planAndEnqueue(ctx, ref.tenant, engines.groupKey(outcome.meta));
  return { status: "done", enqueued };
}
