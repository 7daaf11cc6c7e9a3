/**
 * Source-based deduplication: a block whose `compaction.sources` are all contained in
 * other blocks of the same group holds no data of its own and is outdated. This is what
 * makes a crash between uploading a compacted block and marking its inputs harmless: the
 * next planning round finds the inputs covered and marks them for deletion.
 *
 * Shard-aware, as Mimir's filter: a sharded block is covered only by a block of the same
 * shard; an unsharded block is covered by an unsharded block, or by sharded blocks that
 * together hold every shard `1..n` of some count n. Between blocks with identical
 * sources (and shard) the one with the greatest ULID survives.
 *
 * Sources are only what a meta.json claims: a block covers another only when its time range
 * holds the other's too, so an uploaded block that lists a stranger's ULID cannot make it
 * look outdated (and be deleted).
 */
import { compareUlids } from "@strata/tsdb";
import type { GroupBlock } from "./group.ts";
import { parseShardId } from "../shard/shard.ts";

export interface OutdatedBlock {
  ulid: string;
  /** The blocks whose sources cover it. */
  coveredBy: string[];
}

/** The outdated blocks among `blocks` (one group), in input order. */
export function findOutdated(blocks: readonly GroupBlock[]): OutdatedBlock[] {
  // Blocks containing each source; a candidate coverer must contain every source of the
  // block, so looking up the rarest source keeps this near-linear. Most blocks have a
  // source no other block has and need no sets at all.
  const bySource = new Map<string, GroupBlock[]>();
  for (const b of blocks) {
    for (const s of b.sources) {
      const l = bySource.get(s);
      if (l === undefined) bySource.set(s, [b]);
      else if (l[l.length - 1] !== b) l.push(b);
    }
  }
  const sets = new Map<GroupBlock, Set<string>>();
  const setOf = (b: GroupBlock) => {
    let s = sets.get(b);
    if (s === undefined) sets.set(b, (s = new Set(b.sources)));
    return s;
  };
  const out: OutdatedBlock[] = [];
  for (const b of blocks) {
    let rarest: GroupBlock[] | undefined;
    for (const s of b.sources) {
      const l = bySource.get(s)!;
      if (rarest === undefined || l.length < rarest.length) rarest = l;
    }
    if (rarest === undefined || rarest.length < 2) continue;
    const mine = setOf(b);
    const coverers: GroupBlock[] = [];
    for (const c of rarest) {
      if (c === b) continue;
      const theirs = setOf(c);
      if (theirs.size < mine.size || c.minTime > b.minTime || c.maxTime < b.maxTime) continue;
      let all = true;
      for (const s of mine) {
        if (!theirs.has(s)) {
          all = false;
          break;
        }
      }
      // Identical source sets: only the greater ULID covers, so exactly one survives.
      if (all && theirs.size === mine.size && compareUlids(c.ulid, b.ulid) < 0) all = false;
      if (all) coverers.push(c);
    }
    const by = coveringSet(b, coverers);
    if (by) out.push({ ulid: b.ulid, coveredBy: by.map((c) => c.ulid).sort(compareUlids) });
  }
  return out;
}

function coveringSet(b: GroupBlock, coverers: GroupBlock[]): GroupBlock[] | undefined {
  if (coverers.length === 0) return undefined;
  if (b.shardId !== "") {
    const same = coverers.filter((c) => c.shardId === b.shardId);
    return same.length ? same : undefined;
  }
  const plain = coverers.find((c) => c.shardId === "");
  if (plain) return [plain];
  // Unsharded block: covered when some shard count has every index present.
  const byCount = new Map<number, Map<number, GroupBlock>>();
  for (const c of coverers) {
    const p = parseShardId(c.shardId);
    if (!p) continue;
    let m = byCount.get(p.shards);
    if (!m) byCount.set(p.shards, (m = new Map()));
    if (!m.has(p.index)) m.set(p.index, c);
  }
  for (const [count, m] of byCount) if (m.size === count) return [...m.values()];
  return undefined;
}
