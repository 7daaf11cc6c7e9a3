/**
 * Admission: the one way a block enters the bucket index. Every block, uploaded or written by
 * the pipeline itself (compaction, split shards, downsampling, repair), passes the same
 * verification first.
 *
 *  - An uploaded block is verified by its verify job (`verifyAndAdmit`): a pass writes its
 *    verification record and indexes it; a failure writes the report and the quarantine mark
 *    and keeps (or takes) it out of the index.
 *  - A block the pipeline writes is verified before its meta.json is stored (`outputCheck`, run
 *    by the engine on the staged block): a pass writes the record first, so the block's own
 *    upload event finds it and does not verify again; a failure abandons the output (it never
 *    becomes a block) and the job refuses the plan (`refuseInputs`, `refuseDownsample`).
 *
 * The verification record (`strata-verified.json` next to the block) names the SHA-256 of the
 * meta.json it vouches for and the verifier version that passed it. It is what lets an index
 * rebuild tell a verified block from one whose verify has not run or not passed: a rebuild keeps
 * only blocks with a record (or already indexed, which only admission does) and sends the rest
 * to verification. A re-uploaded meta.json with other bytes is verified again.
 *
 * Order, for crashes at any step: the record before the index entry (an indexed block always
 * has its record); the report before the quarantine mark (a mark always has its report); the
 * index entry removed after the mark.
 */
import { createHash } from "node:crypto";
import {
  MARKER_VERSION_1,
  blockResolution,
  type BlockMeta,
  type NoCompactMark,
  type NoDownsampleMark,
} from "@strata/tsdb";
import { z } from "zod";
import { PipelineError } from "../errors.ts";
import type { BlockDataFile, BlockRef, LogFields, MetaStat, OutputCheck } from "../ports.ts";
import { VerificationIncompleteError } from "../ports.ts";
import type { JobContext } from "./context.ts";

/** The no-compact reason Strata writes for a block that failed verification. */
export const QUARANTINE_REASON = "strata-verify-failed";
/** The no-compact reason on a plan's inputs whose compaction output failed verification. */
export const COMPACTION_FAILED_REASON = "strata-compaction-output-invalid";
/** The no-compact (or no-downsample) reason on the inputs of a job that failed `maxJobAttempts` times. */
export const JOB_FAILED_REASON = "strata-job-failed";
/** The no-downsample reason on a block whose downsampled output failed verification. */
export const DOWNSAMPLE_FAILED_REASON = "strata-downsample-output-invalid";
/** The report object written next to a quarantined block's meta.json. */
export const VERIFY_REPORT_FILE = "strata-verify-report.json";
/** The report written next to the inputs of a refused plan: which output failed, and why. */
export const PLAN_REPORT_FILE = "strata-plan-report.json";
/** The verification record written next to a block that passed. */
export const VERIFIED_FILE = "strata-verified.json";
/**
 * The version of the checks a verification record vouches for. Raise it when the verifier
 * starts rejecting something it used to pass: records of older versions are then no longer
 * trusted, and the blocks are verified again when their verify job next runs.
 */
export const VERIFIER_VERSION = 2;

const VerificationRecordSchema = z.object({
  version: z.literal(1),
  verifier_version: z.number().int().nonnegative(),
  verified_time: z.number().int().nonnegative(),
  meta_sha256: z.string(),
});
export type VerificationRecord = z.infer<typeof VerificationRecordSchema>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The block's verification record, if one of the current verifier's vouches for this meta.json. */
export async function trustedRecord(
  ctx: JobContext,
  ref: BlockRef,
  stat: MetaStat,
): Promise<VerificationRecord | undefined> {
  const r = await ctx.deps.storage.readReport(ref, VERIFIED_FILE);
  if (!r) return undefined;
  let rec: VerificationRecord;
  try {
    rec = VerificationRecordSchema.parse(JSON.parse(r.body));
  } catch {
    return undefined; // unreadable: verify again, which rewrites it
  }
  return rec.verifier_version >= VERIFIER_VERSION && rec.meta_sha256 === stat.sha256 ? rec : undefined;
}

async function writeRecord(ctx: JobContext, ref: BlockRef, metaSha256: string): Promise<void> {
  const record: VerificationRecord = {
    version: 1,
    verifier_version: VERIFIER_VERSION,
    verified_time: Math.floor(ctx.deps.clock.now() / 1000),
    meta_sha256: metaSha256,
  };
  await ctx.deps.storage.putReport(ref, VERIFIED_FILE, JSON.stringify(record) + "\n");
}

export type Admission = { ok: true; meta: BlockMeta } | { ok: false; reason: string; repairable: boolean };

/**
 * Verify a stored block and admit it to the index, or quarantine it. `stat` is meta.json's
 * identity as read before verifying (read here when not given).
 */
export async function verifyAndAdmit(ctx: JobContext, ref: BlockRef, stat?: MetaStat): Promise<Admission> {
  const { storage, engines } = ctx.deps;
  const st = stat ?? (await storage.statMeta(ref));
  const files = fingerprint(await storage.listBlockData(ref));
  const outcome = await engines.verify(await storage.openBlock(ref), ref);
  if (!outcome.ok) {
    // Files that came or changed while it was read (meta.json first, then the rest, as
    // `aws s3 cp --recursive` may upload them): no verdict on a block still being written.
    if (fingerprint(await storage.listBlockData(ref)) !== files)
      throw new VerificationIncompleteError(
        `${ref.tenant}/${ref.block}: its files changed while it was verified (upload still in progress?)`,
        "upload-in-progress",
      );
    await quarantine(ctx, ref, outcome.reason, outcome.report);
    return { ok: false, reason: outcome.reason, repairable: outcome.repairable };
  }
  await writeRecord(ctx, ref, st?.sha256 ?? "");
  const markers = await storage.readMarkers(ref);
  if (markers.noCompact?.reason === QUARANTINE_REASON) {
    // Quarantined before and passing now (a re-upload, a release): lift the quarantine.
    await storage.unmarkNoCompact(ref);
    await storage.deleteReport(ref, VERIFY_REPORT_FILE);
    ctx.log.info("quarantine-lifted", { block: ref.block });
  }
  await admit(ctx, ref.tenant, outcome.meta);
  return { ok: true, meta: outcome.meta };
}

/** The block's files as one string: names, sizes and times, sorted. */
function fingerprint(files: readonly BlockDataFile[]): string {
  return files
    .map((f) => `${f.file}\t${f.size}\t${f.lastModified}`)
    .sort()
    .join("\n");
}

/** Index a verified block (its record is stored), with one log line. */
export async function admit(ctx: JobContext, tenant: string, meta: BlockMeta): Promise<void> {
  await ctx.deps.index.addBlock(tenant, meta);
  logIndexed(ctx, meta);
}

/** The line a block's admission to the index logs. */
export function logIndexed(ctx: JobContext, meta: BlockMeta): void {
  ctx.log.info("block-indexed", {
    block: meta.ulid,
    compactionLevel: meta.compaction.level,
    resolution: blockResolution(meta),
    minTime: meta.minTime,
    maxTime: meta.maxTime,
  });
}

/** Report first, mark second (a mark always has its report), then out of the index. */
async function quarantine(ctx: JobContext, ref: BlockRef, reason: string, report: string): Promise<void> {
  const { storage, index, clock } = ctx.deps;
  await storage.putReport(ref, VERIFY_REPORT_FILE, report);
  await storage.deleteReport(ref, VERIFIED_FILE);
  const mark: NoCompactMark = {
    id: ref.block,
    version: MARKER_VERSION_1,
    details: reason,
    no_compact_time: Math.floor(clock.now() / 1000),
    reason: QUARANTINE_REASON,
  };
  await storage.markNoCompact(ref, mark);
  await index.removeBlock(ref.tenant, ref.block);
  ctx.log.warn("block-quarantined", { block: ref.block, reason });
}

/** A block the pipeline wrote failed verification before it was made visible. */
export class OutputRejectedError extends PipelineError {
  override readonly name = "OutputRejectedError";
  readonly block: string;
  readonly reason: string;
  readonly report: string;
  constructor(ref: BlockRef, reason: string, report: string, options?: ErrorOptions) {
    super(`output ${ref.block} failed verification: ${reason}`, options);
    this.block = ref.block;
    this.reason = reason;
    this.report = report;
  }
}

/**
 * The check a job hands to the engines: verify the staged output with the upload checks,
 * then write its verification record (before meta.json lands, so its upload event finds it).
 */
export function outputCheck(ctx: JobContext): OutputCheck {
  return async (ref, staged, meta) => {
    const outcome = await ctx.deps.engines.verify(staged, ref);
    if (!outcome.ok) throw new OutputRejectedError(ref, outcome.reason, outcome.report);
    await writeRecord(ctx, ref, sha256Hex(meta));
  };
}

/**
 * A plan whose output failed verification is not retried forever: its inputs get a
 * no-compact mark (create-if-absent, mirrored) naming the cause, and the verifier's report on
 * the output is left beside each of them. They stay live and indexed; the planner leaves them
 * alone until an operator removes the mark.
 */
export async function refuseInputs(
  ctx: JobContext,
  tenant: string,
  blocks: readonly string[],
  rejected: OutputRejectedError,
): Promise<void> {
  await refuseBlocks(
    ctx,
    tenant,
    blocks,
    COMPACTION_FAILED_REASON,
    `compaction output ${rejected.block} failed verification: ${rejected.reason}`,
    { rejected },
  );
}

/**
 * No-compact marks (create-if-absent, mirrored) on a refused plan's inputs, with a report
 * beside each: the details, and the verifier's report on the output when there is one. One
 * `plan-refused` line (with `fields`); returns the marks, by block.
 */
export async function refuseBlocks(
  ctx: JobContext,
  tenant: string,
  blocks: readonly string[],
  reason: string,
  details: string,
  opts: { rejected?: OutputRejectedError; fields?: LogFields } = {},
): Promise<Map<string, NoCompactMark>> {
  const now = Math.floor(ctx.deps.clock.now() / 1000);
  const marks = new Map<string, NoCompactMark>();
  for (const block of blocks) {
    await ctx.deps.storage.putReport(
      { tenant, block },
      PLAN_REPORT_FILE,
      planReport(blocks, reason, details, opts.rejected),
    );
    const mark: NoCompactMark = { id: block, version: MARKER_VERSION_1, details, no_compact_time: now, reason };
    await ctx.deps.storage.markNoCompact({ tenant, block }, mark);
    marks.set(block, mark);
  }
  ctx.log.error("plan-refused", { ...opts.fields, blocks, reason, details });
  return marks;
}

/** The downsampling counterpart of `refuseBlocks`: a no-downsample mark (and the report) on the source. */
export async function refuseDownsample(
  ctx: JobContext,
  ref: BlockRef,
  resolution: number,
  cause: OutputRejectedError | string,
  reason: string,
): Promise<void> {
  const details =
    typeof cause === "string"
      ? `downsampling to ${resolution} ms: ${cause}`
      : `downsampled output ${cause.block} (${resolution} ms) failed verification: ${cause.reason}`;
  await ctx.deps.storage.putReport(
    ref,
    PLAN_REPORT_FILE,
    planReport([ref.block], reason, details, typeof cause === "string" ? undefined : cause),
  );
  const mark: NoDownsampleMark = {
    id: ref.block,
    version: MARKER_VERSION_1,
    details,
    no_downsample_time: Math.floor(ctx.deps.clock.now() / 1000),
    reason,
  };
  await ctx.deps.storage.markNoDownsample(ref, mark);
  ctx.log.error("downsample-refused", { block: ref.block, reason, details });
}

function planReport(
  inputs: readonly string[],
  reason: string,
  details: string,
  rejected?: OutputRejectedError,
): string {
  let verify: unknown = rejected?.report;
  try {
    if (rejected) verify = JSON.parse(rejected.report);
  } catch {
    // keep the text
  }
  return (
    JSON.stringify({ inputs, reason, details, ...(rejected ? { output: rejected.block, verify } : {}) }, null, 2) + "\n"
  );
}
