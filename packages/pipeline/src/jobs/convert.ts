/**
 * convert: write a block's Parquet (parquet-common's labels and chunks files per shard, and
 * Cortex's `parquet-converter-mark.json` last) into its own folder, mirror the mark to
 * `parquet-markers/`, and record it in the bucket index (Cortex's `parquet` field), so Cortex's
 * parquet querier and store gateway read the block as Parquet. Sent by the verify job once a
 * raw block at or above STRATA_PARQUET_MIN_RANGE is indexed, when the tenant has Parquet on.
 *
 * A conversion never touches the TSDB block: it only adds files beside it, and they count only
 * once the mark lands. Idempotency: a block with a valid mark is not converted again (the mark
 * is mirrored and indexed, in case a crash came between); a crash mid-way leaves files without
 * a mark, which the retry overwrites. Under a lease with an attempts record, as compactions
 * are: after STRATA_JOB_MAX_ATTEMPTS failures the block gets `strata-parquet-refused.json`
 * with the errors and is not converted again until an operator deletes it.
 */
import { RESOLUTION_RAW, blockResolution, type BlockMeta } from "@strata/tsdb";
import type { ConvertJob } from "../messages.ts";
import type { BlockRef, ParquetMark } from "../ports.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue, stopSignal, withLease } from "./context.ts";

export const PARQUET_MARK_FILE = "parquet-converter-mark.json";
export const PARQUET_REFUSED_FILE = "strata-parquet-refused.json";
/** Mark versions Cortex reads (1: without the series-hash column; 2: with it). */
const VALID_VERSIONS = new Set([1, 2]);

export const convertLeaseName = (block: string) => `convert-${block}`;

/**
 * Why a block is not one to convert: below the Parquet range, or downsampled (parquet-common
 * holds raw chunks only; Cortex, which converts, has no downsampling). Undefined: convert it.
 */
export function notConvertible(ctx: Pick<JobContext, "deps">, meta: BlockMeta): string | undefined {
  if (blockResolution(meta) !== RESOLUTION_RAW) return "block is downsampled (Parquet holds raw blocks only)";
  if (ctx.deps.engines.blockRange(meta) < ctx.deps.config.parquet.minRangeMs)
    return "block's range is below STRATA_PARQUET_MIN_RANGE";
  return undefined;
}

/** Is Parquet on for this tenant (its overrides, else STRATA_PARQUET)? */
export async function parquetEnabled(ctx: JobContext, tenant: string): Promise<boolean> {
  return (await ctx.deps.tenantSettings?.(tenant))?.parquet ?? ctx.deps.config.parquet.enabled;
}

/**
 * After a block is indexed: its convert job when the tenant has Parquet on and the block's
 * range is at least STRATA_PARQUET_MIN_RANGE (the job checks again when it runs). Returns the jobs sent.
 */
export async function convertIfWanted(ctx: JobContext, ref: BlockRef, meta: BlockMeta): Promise<number> {
  if (notConvertible(ctx, meta)) return 0;
  if (!(await parquetEnabled(ctx, ref.tenant))) return 0;
  return enqueue(ctx, [{ type: "convert", tenant: ref.tenant, block: ref.block }]);
}

export async function runConvert(ctx: JobContext, job: ConvertJob): Promise<JobResult> {
  const { index, engines, storage } = ctx.deps;
  const ref = { tenant: job.tenant, block: job.block };
  if (!(await parquetEnabled(ctx, job.tenant)))
    return { status: "skipped", reason: "Parquet conversion is off for this tenant (STRATA_PARQUET, overrides)" };
  const block = (await index.blocks(job.tenant)).find((b) => b.meta.ulid === job.block);
  if (!block) return { status: "skipped", reason: "block is not indexed" };
  if (block.deletionTime !== undefined) return { status: "skipped", reason: "block is marked for deletion" };
  const why = notConvertible(ctx, block.meta);
  if (why) return { status: "skipped", reason: why };
  const have = parseMark((await storage.readReport(ref, PARQUET_MARK_FILE))?.body);
  if (have) {
    await record(ctx, job, have);
    return { status: "done" };
  }
  if (await storage.readReport(ref, PARQUET_REFUSED_FILE))
    return { status: "skipped", reason: `conversion was refused (${PARQUET_REFUSED_FILE}); delete it to try again` };
  // Refused for good (until an operator deletes the note): never converted again.
  const refuse = (details: string) =>
    storage.putReport(ref, PARQUET_REFUSED_FILE, JSON.stringify({ version: 1, details }, null, 2));
  // A job that cannot fit the function's limits is never started.
  const tooBig = engines.convertDoesNotFit(block.meta);
  if (tooBig) {
    await refuse(tooBig);
    ctx.log.warn("convert-refused", { reason: tooBig });
    return { status: "quarantined", reason: `not converted: ${tooBig}` };
  }
  const leased = { describe: `convert ${job.block} to Parquet`, blocks: [job.block], refuse };
  return withLease(ctx, job, convertLeaseName(job.block), leased, async () => {
    const mark = await engines.convert(ref, block.meta, { signal: stopSignal(ctx) });
    await record(ctx, job, mark);
    ctx.log.info("converted-to-parquet", { shards: mark.shards });
    return { status: "done" };
  });
}

/** The mark's mirror, then the index: a re-sync finds the field from the mirror. */
async function record(ctx: JobContext, job: ConvertJob, mark: ParquetMark): Promise<void> {
  await ctx.deps.storage.mirrorParquetMark({ tenant: job.tenant, block: job.block }, mark);
  await ctx.deps.index.apply(job.tenant, { parquet: [{ block: job.block, mark }] });
}

/** A converter mark Cortex accepts, or undefined (absent, unreadable, another version). */
export function parseMark(body: string | undefined): ParquetMark | undefined {
  if (body === undefined || body.length > 4096) return undefined;
  try {
    const v = JSON.parse(body) as { version?: unknown; shards?: unknown };
    if (typeof v.version !== "number" || !VALID_VERSIONS.has(v.version)) return undefined;
    const shards = typeof v.shards === "number" && Number.isInteger(v.shards) && v.shards > 0 ? v.shards : 1;
    return { version: v.version, shards };
  } catch {
    return undefined;
  }
}
