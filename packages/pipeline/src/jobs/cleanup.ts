/**
 * cleanup: delete blocks whose deletion mark is older than the delete delay, and mark for
 * deletion the directories of uploads abandoned without meta.json for longer than the
 * partial-upload age (deleted by a later run, after the same delay). Without a tenant, fan out.
 *
 * Idempotency: the index entry goes first (removing an absent entry is a no-op), then the
 * objects, meta.json first (the block stops being live at once) and the deletion mark last, so
 * a crash at any point leaves a directory that still carries its mark and the next run
 * finishes the job.
 */
import { MARKER_VERSION_1, type DeletionMark } from "@strata/tsdb";
import type { CleanupJob } from "../messages.ts";
import type { JobContext, JobResult } from "./context.ts";
import { enqueue } from "./context.ts";

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
  const deleted: string[] = [];
  const abandoned: string[] = [];
  for (const b of await storage.listBlocks(tenant)) {
    const ref = { tenant, block: b.block };
    if (b.deletionTime !== undefined) {
      if (b.deletionTime * 1000 + config.deleteDelayMs <= now) {
        // Index first: readers stop looking for the block before its objects go.
        await index.removeBlock(tenant, b.block);
        await storage.deleteBlock(ref);
        deleted.push(b.block);
      }
    } else if (!b.hasMeta && b.lastModified + config.partialUploadAgeMs <= now) {
      // Not in the index (never had meta.json): the bucket mark is all there is to write.
      const mark: DeletionMark = {
        id: b.block,
        version: MARKER_VERSION_1,
        details: "partial upload abandoned",
        deletion_time: Math.floor(now / 1000),
      };
      await storage.markForDeletion(ref, mark);
      abandoned.push(b.block);
    }
  }
  if (deleted.length > 0 || abandoned.length > 0) ctx.log.info("cleanup", { deleted, abandoned });
  return { status: "done" };
}
