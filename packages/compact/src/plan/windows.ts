/** Time-window helpers shared by the leveled and split-and-merge planners. */
import type { GroupBlock } from "../group/group.ts";

/** Start of the aligned window of size `tr` holding `t` (floor division, negative-safe as in TSDB). */
export function rangeStart(t: number, tr: number): number {
  return Math.floor(t / tr) * tr;
}

/**
 * The compaction range a block belongs to, told from its times as Cortex does (which blocks to
 * convert to Parquet): the smallest of `ranges` one of whose aligned windows holds
 * [minTime, maxTime). A block no aligned window holds (an upload across a boundary) counts by
 * its span: the smallest range at least as long, else the span itself.
 */
export function blockRangeOf(minTime: number, maxTime: number, ranges: readonly number[]): number {
  const span = maxTime - minTime;
  for (const r of ranges) if (r >= span && rangeStart(minTime, r) + r >= maxTime) return r;
  return ranges.find((r) => r >= span) ?? span;
}

export interface RangePart {
  start: number;
  /** Exclusive. */
  end: number;
  blocks: GroupBlock[];
}

/**
 * TSDB's `splitByRange`: consecutive blocks (sorted by minTime) that fit in the aligned
 * window of the first one; a block reaching past its own window is skipped (misaligned or
 * already bigger). E.g. [0-10, 10-20, 50-60, 90-100] at 30 → [0-10, 10-20], [50-60], [90-100].
 */
export function splitByRange(blocks: readonly GroupBlock[], tr: number): RangePart[] {
  const parts: RangePart[] = [];
  for (let i = 0; i < blocks.length; ) {
    const start = rangeStart(blocks[i]!.minTime, tr);
    const end = start + tr;
    if (blocks[i]!.maxTime > end) {
      i++;
      continue;
    }
    const part: GroupBlock[] = [];
    for (; i < blocks.length && blocks[i]!.maxTime <= end; i++) part.push(blocks[i]!);
    parts.push({ start, end, blocks: part });
  }
  return parts;
}

/**
 * Mimir's `groupBlocksByRange`: like splitByRange, but a block starting in the window and
 * reaching past it is skipped without closing the window.
 */
export function groupByRange(blocks: readonly GroupBlock[], tr: number): RangePart[] {
  const parts: RangePart[] = [];
  for (let i = 0; i < blocks.length; ) {
    const start = rangeStart(blocks[i]!.minTime, tr);
    const end = start + tr;
    if (blocks[i]!.maxTime > end) {
      i++;
      continue;
    }
    const part: GroupBlock[] = [];
    for (; i < blocks.length && blocks[i]!.minTime < end; i++) {
      if (blocks[i]!.maxTime <= end) part.push(blocks[i]!);
    }
    parts.push({ start, end, blocks: part });
  }
  return parts;
}

/**
 * Maximal runs of overlapping blocks (sorted by minTime), as TSDB's
 * `selectOverlappingDirs` finds the first; all runs are returned. Runs are disjoint in time.
 */
export function overlappingRuns(blocks: readonly GroupBlock[]): GroupBlock[][] {
  const runs: GroupBlock[][] = [];
  if (blocks.length < 2) return runs;
  let run: GroupBlock[] = [blocks[0]!];
  let maxt = blocks[0]!.maxTime;
  for (let i = 1; i < blocks.length; i++) {
    const b = blocks[i]!;
    if (b.minTime < maxt) run.push(b);
    else {
      if (run.length > 1) runs.push(run);
      run = [b];
    }
    if (b.maxTime > maxt) maxt = b.maxTime;
  }
  if (run.length > 1) runs.push(run);
  return runs;
}

/** A set of pairwise-disjoint half-open windows with O(log n) overlap queries. */
export class DisjointWindows {
  private starts: number[] = [];
  private ends: number[] = [];

  /** Whether [start, end) overlaps a window of the set. */
  overlaps(start: number, end: number): boolean {
    // Last window starting before `end`; being disjoint and sorted, it has the greatest end of those.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < end) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && this.ends[lo - 1]! > start;
  }

  /** Add a window that overlaps none of the set (checked). */
  add(start: number, end: number): void {
    if (this.overlaps(start, end)) throw new Error(`window [${start}, ${end}) overlaps a chosen window`);
    let i = this.starts.length;
    if (i > 0 && this.starts[i - 1]! > start) {
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.starts[mid]! < start) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
  }
}

export function maxLevel(blocks: readonly GroupBlock[]): number {
  let l = 0;
  for (const b of blocks) if (b.level > l) l = b.level;
  return l;
}

export function spanOf(blocks: readonly GroupBlock[]): { minTime: number; maxTime: number } {
  let minTime = Infinity;
  let maxTime = -Infinity;
  for (const b of blocks) {
    if (b.minTime < minTime) minTime = b.minTime;
    if (b.maxTime > maxTime) maxTime = b.maxTime;
  }
  return { minTime, maxTime };
}

/** Whether any two of the blocks (sorted by minTime) overlap in time. */
export function anyOverlap(blocks: readonly GroupBlock[]): boolean {
  let maxt = -Infinity;
  for (const b of blocks) {
    if (b.minTime < maxt) return true;
    if (b.maxTime > maxt) maxt = b.maxTime;
  }
  return false;
}
