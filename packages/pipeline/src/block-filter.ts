/**
 * `strata ls`'s filters and orders over the rows of `list-blocks.ts`: pure functions, so the
 * CLI only parses flags into a `BlockFilter` and a `BlockSort`.
 */
import { compareStrings as cmp } from "@strata/tsdb";
import type { BlockRow } from "./list-blocks.ts";

export const MARK_FILTERS = ["deletion", "no-compact", "no-downsample", "quarantine", "any", "none"] as const;
export type MarkFilter = (typeof MARK_FILTERS)[number];
export const BLOCK_SORTS = ["time", "size", "level", "ulid"] as const;
export type BlockSort = (typeof BLOCK_SORTS)[number];

export interface BlockFilter {
  level?: number;
  /** Milliseconds. */
  resolution?: number;
  /**
   * `no-compact` is any no-compact mark (a quarantine is one); `any`/`none`: any mark or none (unreadable ones count).
   */
  marked?: MarkFilter;
  /** Keep blocks whose data reaches this time (ms): maxTime ≥ sinceMs. Block time, not upload time. */
  sinceMs?: number;
}

/** The rows that pass every filter given; a row without a usable meta.json passes only the mark filters. */
export function filterBlocks(rows: readonly BlockRow[], f: BlockFilter): BlockRow[] {
  return rows.filter((r) => {
    if (f.level !== undefined && r.level !== f.level) return false;
    if (f.resolution !== undefined && r.resolution !== f.resolution) return false;
    if (f.sinceMs !== undefined && (r.maxTime === undefined || r.maxTime < f.sinceMs)) return false;
    if (f.marked !== undefined && !hasMark(r, f.marked)) return false;
    return true;
  });
}

function hasMark(r: BlockRow, m: MarkFilter): boolean {
  const any = !!(r.marks.deletion || r.marks.noCompact || r.marks.noDownsample || r.marks.unreadable?.length);
  switch (m) {
    case "deletion":
      return !!r.marks.deletion;
    case "no-compact":
      return !!r.marks.noCompact;
    case "no-downsample":
      return !!r.marks.noDownsample;
    case "quarantine":
      return !!r.marks.quarantine;
    case "any":
      return any;
    case "none":
      return !any;
  }
}

/**
 * Sorted copy: `time` (start, then end), `level` (then time) and `ulid` within each tenant,
 * tenants in name order; `size` across the whole bucket, largest first. Rows without a
 * usable meta.json sort after the others of their tenant.
 */
export function sortBlocks(rows: readonly BlockRow[], by: BlockSort): BlockRow[] {
  const num = (v: number | undefined) => v ?? Number.MAX_SAFE_INTEGER;
  const key = (r: BlockRow): number[] => {
    switch (by) {
      case "time":
        return [num(r.minTime), num(r.maxTime)];
      case "level":
        return [num(r.level), num(r.minTime), num(r.maxTime)];
      case "size":
        return [-r.sizeBytes];
      case "ulid":
        return [];
    }
  };
  return [...rows].sort((a, b) => {
    if (by !== "size" && a.tenant !== b.tenant) return cmp(a.tenant, b.tenant);
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
    return a.tenant === b.tenant ? cmp(a.block, b.block) : cmp(a.tenant, b.tenant);
  });
}
