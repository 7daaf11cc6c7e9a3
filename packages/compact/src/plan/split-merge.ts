/**
 * Split-and-merge planning with Mimir's semantics (M: pkg/compactor/split_merge_grouper.go,
 * split_merge_job.go), for groups too big for one job:
 * - At the first target range, a window holding any unsharded block gets split jobs: its
 *   unsharded blocks are spread over `splitGroups` jobs by Mimir's HashBlockID (FNV-1 of
 *   the ULID bytes), and each job writes `shardCount` outputs, series assigned by label
 *   hash, each labelled `__compactor_shard_id__="<i>_of_<shardCount>"`.
 * - Otherwise (and at every larger range) blocks are merged shard by shard: all blocks of
 *   a window with the same shard label (or none) form one merge job when there are ≥ 2.
 * - A job is dropped if it overlaps an already planned job of another stage, or of the
 *   same stage and shard; ranges go smallest first, so larger windows wait.
 * - Finally a job is kept only if its window ends by the group's greatest maxTime, or all
 *   its inputs are level 1, or its inputs span the whole window (no premature compaction).
 * No-compact blocks are left out and, as in the leveled planner, split a shard's merge run.
 */
import { formatDuration } from "@strata/tsdb";
import type { GroupBlock } from "../group/group.ts";
import { formatShardId } from "../shard/shard.ts";
import { hashBlockId } from "../hash/labels-hash.ts";
import type { SkippedBlock } from "./schema.ts";
import type { Draft, DraftResult } from "./draft.ts";
import type { ResolvedOptions } from "./options.ts";
import { DisjointWindows, groupByRange, maxLevel, spanOf } from "./windows.ts";

interface Job extends Draft {
  start: number;
  end: number;
}

/** Plan a group in split-and-merge mode with `shardCount` output shards per split job. */
export function planSplitMerge(
  blocks: readonly GroupBlock[],
  opts: ResolvedOptions,
  shardCount: number,
  splitGroups: number,
): DraftResult {
  const skipped: SkippedBlock[] = [];
  for (const b of blocks) if (b.noCompact) skipped.push({ ulid: b.ulid, reason: "no-compact-mark.json present" });
  const targets = opts.ranges.slice(1);
  // One lane of disjoint windows per stage and shard: jobs in different lanes of the same
  // stage never conflict; across stages any overlap does.
  const splitLanes = new Map<string, DisjointWindows>();
  const mergeLanes = new Map<string, DisjointWindows>();
  const lane = (m: Map<string, DisjointWindows>, k: string) => {
    let w = m.get(k);
    if (!w) m.set(k, (w = new DisjointWindows()));
    return w;
  };
  const conflicts = (stage: "split" | "merge", shard: string, start: number, end: number): boolean => {
    const same = stage === "split" ? splitLanes : mergeLanes;
    const other = stage === "split" ? mergeLanes : splitLanes;
    if (same.get(shard)?.overlaps(start, end)) return true;
    for (const w of other.values()) if (w.overlaps(start, end)) return true;
    return false;
  };

  const jobs: Job[] = [];
  for (let r = 0; r < targets.length; r++) {
    const tr = targets[r]!;
    for (const part of groupByRange(blocks, tr)) {
      const candidates: Job[] = [];
      const unsharded = part.blocks.filter((b) => b.shardId === "" && !b.noCompact);
      if (r === 0 && unsharded.length > 0) {
        const byGroup = new Map<number, GroupBlock[]>();
        for (const b of unsharded) {
          const g = splitGroups > 1 ? hashBlockId(b.ulid) % splitGroups : 0;
          let l = byGroup.get(g);
          if (!l) byGroup.set(g, (l = []));
          l.push(b);
        }
        for (const g of [...byGroup.keys()].sort((a, b) => a - b)) {
          const bs = byGroup.get(g)!;
          candidates.push({
            kind: "split",
            blocks: bs,
            range: tr,
            shardCount,
            splitGroup: formatShardId(g, splitGroups),
            start: part.start,
            end: part.end,
            reason: `${bs.length} unsplit block(s) in the ${formatDuration(tr)} window split into ${shardCount} shards`,
          });
        }
      } else {
        const byShard = new Map<string, GroupBlock[]>();
        for (const b of part.blocks) {
          let l = byShard.get(b.shardId);
          if (!l) byShard.set(b.shardId, (l = []));
          l.push(b);
        }
        for (const shard of [...byShard.keys()].sort()) {
          // No-compact blocks cut the shard's blocks into runs; each run of ≥ 2 merges.
          let run: GroupBlock[] = [];
          const flush = () => {
            if (run.length > 1) {
              candidates.push({
                kind: "merge",
                blocks: run,
                range: tr,
                shardId: shard || undefined,
                start: part.start,
                end: part.end,
                reason: `${run.length} blocks of ${shard ? `shard ${shard}` : "unsharded data"} in the ${formatDuration(tr)} window`,
              });
            }
            run = [];
          };
          for (const b of byShard.get(shard)!) {
            if (b.noCompact) flush();
            else run.push(b);
          }
          flush();
        }
      }
      for (const j of candidates) {
        const stage = j.kind === "split" ? "split" : "merge";
        const shard = (stage === "split" ? j.splitGroup : j.shardId) ?? "";
        if (conflicts(stage, shard, j.start, j.end)) continue;
        lane(stage === "split" ? splitLanes : mergeLanes, shard).add(j.start, j.end);
        jobs.push(j);
      }
    }
  }

  // Do not compact the newest blocks prematurely.
  let highest = -Infinity;
  for (const b of blocks) if (b.maxTime > highest) highest = b.maxTime;
  const drafts: Draft[] = [];
  for (const j of jobs) {
    const span = spanOf(j.blocks);
    if (j.end <= highest || maxLevel(j.blocks) === 1 || span.maxTime - span.minTime === j.end - j.start) {
      const { start: _s, end: _e, ...d } = j;
      drafts.push(d);
    }
  }
  return { drafts, skipped };
}
