/**
 * Leveled planning with Thanos' semantics (T: pkg/compact/planner.go, itself Prometheus'
 * LeveledCompactor.plan), changed in one way: every independent plan is returned at once
 * instead of the first one, so the pipeline can run them in parallel.
 *
 * 1. Overlapping blocks first: each maximal run of overlapping blocks is a vertical plan.
 * 2. The newest block (greatest minTime) is held back.
 * 3. For each target range (ranges[1:]) ascending, each aligned window of blocks is
 *    planned if it has ≥ 2 blocks, none failed, and it spans the full range or ends no
 *    later than the newest remaining block starts; no-compact blocks split the window
 *    into runs and every run of ≥ 2 blocks is a plan (so no gap is ever created).
 *    A window is skipped if it overlaps a window already planned (a vertical run, or a
 *    smaller range): smaller ranges go first, as Thanos' one-at-a-time loop would.
 * 4. Blocks of at least ranges[len/2] with more than 5% tombstones per series are
 *    rewritten alone, walking from the newest and stopping at the first smaller block.
 */
import { RESOLUTION_RAW, blockResolution, formatDuration } from "@strata/tsdb";
import type { GroupBlock } from "../group/group.ts";
import type { SkippedBlock } from "./schema.ts";
import type { Draft, DraftResult } from "./draft.ts";
import type { ResolvedOptions } from "./options.ts";
import { DisjointWindows, overlappingRuns, spanOf, splitByRange } from "./windows.ts";

/** Plan one group (or one shard of a group) the leveled way. `blocks` sorted, live (not deleted/outdated). */
export function planLeveled(blocks: readonly GroupBlock[], opts: ResolvedOptions): DraftResult {
  const drafts: Draft[] = [];
  const skipped: SkippedBlock[] = [];
  const planned = new Set<GroupBlock>();
  const chosen = new DisjointWindows();
  const targets = opts.ranges.slice(1);
  const notExcluded = blocks.filter((b) => !b.noCompact);

  for (const b of blocks) if (b.noCompact) skipped.push({ ulid: b.ulid, reason: "no-compact-mark.json present" });

  // 1. Vertical: every run of overlapping blocks.
  for (const run of overlappingRuns(notExcluded)) {
    const span = spanOf(run);
    chosen.add(span.minTime, span.maxTime);
    if (run.some((b) => blockResolution(b.meta) !== RESOLUTION_RAW)) {
      // Thanos marks these no-compact (thanos#6775): overlapping downsampled data is never merged.
      for (const b of run)
        skipped.push({
          ulid: b.ulid,
          reason: "overlaps other downsampled blocks; downsampled blocks are never merged vertically",
        });
      continue;
    }
    drafts.push({ kind: "vertical", blocks: run, range: targets[0]!, reason: `${run.length} blocks overlap in time` });
    for (const b of run) planned.add(b);
  }

  if (blocks.length === 0) return { drafts, skipped };

  // 2. Hold back the newest block.
  const newest = blocks[blocks.length - 1]!;
  const metas = blocks.slice(0, -1);

  // 3. Fill aligned windows, smallest range first.
  if (metas.length > 0) {
    const highTime = metas[metas.length - 1]!.minTime;
    for (const iv of targets) {
      for (const part of splitByRange(metas, iv)) {
        const p = part.blocks;
        if (p.length < 2) continue;
        const failed = p.find((b) => b.failed);
        if (failed) {
          if (!planned.has(failed))
            skipped.push({
              ulid: failed.ulid,
              reason: `compaction failed before; its ${formatDuration(iv)} window is not compacted`,
            });
          continue;
        }
        const mint = p[0]!.minTime;
        const maxt = p[p.length - 1]!.maxTime;
        if (maxt - mint !== iv && maxt > highTime) continue;
        if (chosen.overlaps(part.start, part.end)) continue;
        let any = false;
        let run: GroupBlock[] = [];
        const flush = () => {
          if (run.length > 1) {
            const full = maxt - mint === iv;
            drafts.push({
              kind: "merge",
              blocks: run,
              range: iv,
              reason: `${run.length} blocks fill the ${formatDuration(iv)} window${full ? "" : " (older than the newest block)"}${run.length < p.length ? " between no-compact blocks" : ""}`,
            });
            for (const b of run) planned.add(b);
            any = true;
          }
          run = [];
        };
        for (const b of p) {
          if (b.noCompact) flush();
          else run.push(b);
        }
        flush();
        if (any) chosen.add(part.start, part.end);
      }
    }
  }

  // 4. Tombstones.
  const tombRange = opts.ranges[opts.ranges.length >> 1]!;
  const candidates = newest.noCompact ? notExcluded : notExcluded.filter((b) => b !== newest);
  for (let i = candidates.length - 1; i >= 0; i--) {
    const b = candidates[i]!;
    if (b.maxTime - b.minTime < tombRange) break;
    if (planned.has(b) || chosen.overlaps(b.minTime, b.maxTime)) continue;
    const ratio = b.numTombstones / (b.numSeries + 1);
    if (ratio > opts.tombstoneRatio) {
      drafts.push({
        kind: "tombstones",
        blocks: [b],
        range: b.maxTime - b.minTime,
        reason: `${b.numTombstones} tombstones for ${b.numSeries} series (${(ratio * 100).toFixed(1)}% > ${(opts.tombstoneRatio * 100).toFixed(0)}%)`,
      });
      planned.add(b);
      chosen.add(b.minTime, b.maxTime);
    }
  }

  if (!planned.has(newest) && !newest.noCompact)
    skipped.push({ ulid: newest.ulid, reason: "newest block of the group, held back" });
  return { drafts, skipped };
}
