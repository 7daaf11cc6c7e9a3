/**
 * Pure changes to a bucket index, applied in place by the updater's compare-and-swap rounds:
 * single entries, a job's batch (`applyEdit`), and the merge of a rebuilt index with what other
 * writers changed meanwhile (`mergeRebuilt`).
 */
import { emptyIndex, type BucketIndex, type IndexBlock, type IndexDeletionMark, type IndexParquet } from "./schema.ts";

/** A batch of changes written in one compare-and-swap round. */
export interface IndexEdit {
  /** Blocks to add (already indexed ones are left as they are: blocks are immutable). */
  add?: readonly IndexBlock[];
  /** Deletion marks to record (a block's existing mark is kept). */
  mark?: readonly IndexDeletionMark[];
  /** Blocks to drop, with their deletion marks. */
  remove?: readonly string[];
  /** Parquet converter marks to record on indexed blocks (Cortex's `parquet` field); null clears it. */
  parquet?: readonly { block_id: string; parquet: IndexParquet | null }[];
}

/** Adds a block entry unless the block is already there (blocks are immutable). */
export function addBlockEntry(idx: BucketIndex, b: IndexBlock): boolean {
  if (idx.blocks.some((x) => x.block_id === b.block_id)) return false;
  idx.blocks.push(b);
  return true;
}

/** Adds a deletion mark unless one is there for the block. */
export function addMarkEntry(idx: BucketIndex, m: IndexDeletionMark): boolean {
  if (idx.block_deletion_marks.some((x) => x.block_id === m.block_id)) return false;
  idx.block_deletion_marks.push(m);
  return true;
}

/** Apply a batch (IndexEdit) in place; false when it changes nothing. */
export function applyEdit(idx: BucketIndex, edit: IndexEdit): boolean {
  let changed = false;
  if (edit.remove?.length) {
    const gone = new Set(edit.remove.map((id) => id.toUpperCase()));
    const nb = idx.blocks.length;
    const nm = idx.block_deletion_marks.length;
    idx.blocks = idx.blocks.filter((b) => !gone.has(b.block_id));
    idx.block_deletion_marks = idx.block_deletion_marks.filter((m) => !gone.has(m.block_id));
    changed = idx.blocks.length !== nb || idx.block_deletion_marks.length !== nm;
  }
  if (edit.add?.length && addNew(idx.blocks, edit.add)) changed = true;
  if (edit.mark?.length && addNew(idx.block_deletion_marks, edit.mark)) changed = true;
  for (const p of edit.parquet ?? []) {
    const i = idx.blocks.findIndex((b) => b.block_id === p.block_id);
    if (i < 0) continue;
    const b = idx.blocks[i]!;
    if (JSON.stringify(b.parquet ?? null) === JSON.stringify(p.parquet)) continue;
    // Entries are shared and frozen: a changed one is a new object.
    const { parquet: _, ...rest } = b;
    idx.blocks[i] = p.parquet ? { ...rest, parquet: { ...p.parquet } } : rest;
    changed = true;
  }
  return changed;
}

/** Appends the entries whose block is not in `list` yet; a few are looked up by scanning (no 100k-entry set). */
function addNew<T extends { block_id: string }>(list: T[], add: readonly T[]): boolean {
  const have =
    add.length > 8
      ? new Set(list.map((e) => e.block_id))
      : { has: (id: string) => list.some((e) => e.block_id === id), add: (_: string) => {} };
  let changed = false;
  for (const e of add) {
    if (have.has(e.block_id)) continue;
    have.add(e.block_id);
    list.push(e);
    changed = true;
  }
  return changed;
}

/**
 * A rebuilt index (`scanned`, listed after `base` was read) merged with `current`: what other
 * writers changed since `base` wins (an entry they added is kept, one they removed stays
 * removed), the listing decides the rest. `freshBlocks`/`freshMarks`: entries only the listing
 * has, which the caller confirms are still in the bucket before writing them.
 */
export function mergeRebuilt(
  base: BucketIndex | undefined,
  scanned: BucketIndex,
  current: BucketIndex | undefined,
): { index: BucketIndex; freshBlocks: string[]; freshMarks: string[] } {
  const blocks = mergeEntries(base?.blocks, scanned.blocks, current?.blocks);
  const marks = mergeEntries(base?.block_deletion_marks, scanned.block_deletion_marks, current?.block_deletion_marks);
  const index = emptyIndex();
  index.blocks = blocks.entries;
  index.block_deletion_marks = marks.entries;
  return { index, freshBlocks: blocks.fresh, freshMarks: marks.fresh };
}

function mergeEntries<T extends { block_id: string }>(
  base: readonly T[] | undefined,
  scanned: readonly T[],
  current: readonly T[] | undefined,
): { entries: T[]; fresh: string[] } {
  const inBase = new Map(base?.map((e) => [e.block_id, e]));
  const inCurrent = new Map(current?.map((e) => [e.block_id, e]));
  const inScan = new Set(scanned.map((e) => e.block_id));
  const entries: T[] = [];
  const fresh: string[] = [];
  for (const e of scanned) {
    const b = inBase.get(e.block_id);
    const c = inCurrent.get(e.block_id);
    if (b && !c) continue; // removed meanwhile
    if (!b && !c) fresh.push(e.block_id);
    // Changed meanwhile (a block's parquet field): the writer's change is newer than the listing.
    entries.push(b && c && c !== b && JSON.stringify(c) !== JSON.stringify(b) ? c : e);
  }
  for (const e of current ?? []) if (!inBase.has(e.block_id) && !inScan.has(e.block_id)) entries.push(e); // added meanwhile
  return { entries, fresh };
}
