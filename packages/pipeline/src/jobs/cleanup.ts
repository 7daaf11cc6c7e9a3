/**
 * cleanup: delete blocks whose deletion mark is older than the delete delay, and mark for
 * deletion the directories of uploads abandoned without meta.json for longer than the
 * partial-upload age (deleted by a later run, after the same delay). Without a tenant, fan out.
 *
 * Idempotency: the index entry goes first (removing an absent entry is a no-op), then the
 * objects, meta.json first (the block stops being live at once) and the deletion mark last, so
 * a crash at any point leaves a directory that still carries its mark and the next run
 * finishes the job.
 *
 * An abandoned-upload mark is a guess made from a directory without meta.json. When its
 * meta.json has come since (a very slow upload, or an output whose writer was still at work,
 * seen under a clock ahead of the store's), the directory is a block: it is not deleted, its
 * mark is removed and it is sent to verification, which indexes it if it passes.
 */
import { MARKER_VERSION_1, type DeletionMark } from "@strata/tsdb";
import type { CleanupJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue } from "./context.ts";

/** The details of the deletion mark cleanup writes on a directory left without meta.json. */
export const ABANDONED_UPLOAD = "partial upload abandoned";

export async function runCleanup(ctx: JobContext, job: CleanupJob): Promise<JobResult> {
  if (job.tenant === undefined) {
    const tenants = await ctx.deps.storage.listTenants();
    return {
      status: "done",
      enqueued: await enqueue(
        ctx,
        tenants.map((tenant) => ({ type: "cleanup" as const, tenant })),
      ),
    };
  }
  const tenant = job.tenant;
  const { storage, index, clock, config } = ctx.deps;
  const now = clock.now();
  const due: string[] = [];
  const abandoned: string[] = [];
  const listed = await storage.listBlocks(tenant);
  const completed: string[] = [];
  for (const b of listed) {
    if (b.deletionTime === undefined || b.deletionTime * 1000 + config.deleteDelayMs > now) continue;
    if (b.hasMeta && (await storage.readMarkers({ tenant, block: b.block })).deletion?.details === ABANDONED_UPLOAD) {
      completed.push(b.block);
      continue;
    }
    due.push(b.block);
  }
  for (const block of completed) await storage.unmarkDeletion({ tenant, block });
  if (completed.length > 0) {
    ctx.log.warn("abandoned-upload-completed", { blocks: completed });
    await enqueue(
      ctx,
      completed.map((block) => ({ type: "verify" as const, tenant, block })),
    );
  }
  // Index first, in one update for the batch: readers stop looking for the blocks before their objects go.
  if (due.length > 0) await index.apply(tenant, { remove: due });
  for (const block of due) await storage.deleteBlock({ tenant, block });
  for (const b of listed) {
    const ref = { tenant, block: b.block };
    if (b.deletionTime === undefined && !b.hasMeta && b.lastModified + config.partialUploadAgeMs <= now) {
      // Not in the index (never had meta.json): the bucket mark is all there is to write.
      const mark: DeletionMark = {
        id: b.block,
        version: MARKER_VERSION_1,
        details: ABANDONED_UPLOAD,
        deletion_time: Math.floor(now / 1000),
      };
      await storage.markForDeletion(ref, mark);
      abandoned.push(b.block);
    }
  }
  if (due.length > 0 || abandoned.length > 0) ctx.log.info("cleanup", { deleted: due, abandoned });
  if (completed.length > 0) return { status: "done", enqueued: completed.length };
  return { status: "done" };
}
