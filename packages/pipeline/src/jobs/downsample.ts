/**
 * downsample: write the 5m (from raw) or 1h (from 5m) twin of one block under a lease, and
 * index it. The source stays (retention applies per resolution); the output's own upload event
 * verifies it and re-plans, which is how 5m blocks later get their 1h twin.
 *
 * Idempotency: the lease admits one worker per (block, resolution); a retry after the output
 * was uploaded finds the twin (same time range, sources and labels) and only re-indexes it; a
 * crash mid-upload leaves a partial directory for the cleanup job and the retry writes anew.
 */
import { blockResolution, sourceResolution } from "@strata/tsdb";
import { findDownsampled, jobLeaseName } from "../blocks.ts";
import type { DownsampleJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { measureIo, stopSignal, withLease } from "./context.ts";
import {
  DOWNSAMPLE_FAILED_REASON,
  JOB_FAILED_REASON,
  OutputRejectedError,
  admit,
  outputCheck,
  refuseDownsample,
} from "./admit.ts";

export async function runDownsample(ctx: JobContext, job: DownsampleJob): Promise<JobResult> {
  const ref = { tenant: job.tenant, block: job.block };
  const leased = {
    describe: `downsample ${job.block} to ${job.resolution} ms`,
    blocks: [job.block],
    refuse: (details: string) => refuseDownsample(ctx, ref, job.resolution, details, JOB_FAILED_REASON),
  };
  return withLease(ctx, job, jobLeaseName(job), leased, () => downsampleUnderLease(ctx, job));
}

async function downsampleUnderLease(ctx: JobContext, job: DownsampleJob): Promise<JobResult> {
  const { engines, index } = ctx.deps;
  const live = await index.blocks(job.tenant);
  const source = live.find((b) => b.meta.ulid === job.block);
  if (!source) return { status: "skipped", reason: "block no longer exists" };
  if (source.deletionTime !== undefined) return { status: "skipped", reason: "block is marked for deletion" };
  const have = blockResolution(source.meta);
  const need = sourceResolution(job.resolution);
  if (have !== need) {
    // A producer bug, not a transient state: fail so the message ends in the DLQ for a person.
    throw new Error(
      `downsample to ${job.resolution} ms needs a block at ${need} ms; block ${job.block} is at ${have} ms`,
    );
  }

  if (source.noDownsample) return { status: "skipped", reason: "block is marked no-downsample" };

  const output = findDownsampled(live, source.meta, job.resolution);
  if (output) {
    ctx.log.info("downsample-output-exists", { output: output.ulid });
    return { status: "done" };
  }
  let written;
  try {
    // Verified by the upload checks before its meta.json lands (outputCheck).
    written = await engines.downsample({ tenant: job.tenant, block: job.block }, job.resolution, {
      check: outputCheck(ctx),
      signal: stopSignal(ctx),
    });
  } catch (e) {
    if (!(e instanceof OutputRejectedError)) throw e;
    // The broken output was abandoned; the source stays, marked so the job is not planned again.
    await refuseDownsample(ctx, { tenant: job.tenant, block: job.block }, job.resolution, e, DOWNSAMPLE_FAILED_REASON);
    return { status: "quarantined", reason: e.message };
  }
  ctx.log.info("downsampled", { output: written.ulid, resolution: job.resolution });
  await admit(ctx, job.tenant, written);
  return { status: "done", io: await measureIo(ctx, job.tenant, [source.meta], [written]) };
}
