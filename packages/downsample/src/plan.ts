/**
 * Planning rules: which blocks Thanos' compactor downsamples, and to what (T: cmd/thanos/
 * downsample.go downsampleBucket). Pure functions over metas; the pipeline calls them,
 * the engine downsamples whatever it is given.
 */
import {
  FormatError,
  RESOLUTION_1H,
  RESOLUTION_5M,
  RESOLUTION_RAW,
  blockResolution,
  compareUlids,
  nextResolution,
  type BlockMeta,
  type DownsampleResolution,
  type NoDownsampleMark,
} from "@strata/tsdb";
import { RES_1H_MIN_RANGE, RES_5M_MIN_RANGE } from "./resolution.ts";

/** Blocks marked with `no-downsample-mark.json`: their ULIDs, or the marks themselves. */
export type NoDownsampleMarks = ReadonlySet<string> | readonly Pick<NoDownsampleMark, "id">[];

function markedSet(marks: NoDownsampleMarks | undefined): ReadonlySet<string> {
  if (marks === undefined) return new Set();
  if (marks instanceof Set) return marks as ReadonlySet<string>;
  return new Set((marks as readonly Pick<NoDownsampleMark, "id">[]).map((m) => m.id));
}

/** Sources already covered at each resolution, from the (unmarked) metas of the group. */
export interface DownsampledSources {
  sources5m: ReadonlySet<string>;
  sources1h: ReadonlySet<string>;
}

/**
 * Union of `compaction.sources` of every 5m and every 1h block. Marked blocks are left
 * out entirely, as Thanos drops them from the metas before planning. A resolution other
 * than 0, 5m or 1h is an error (Thanos refuses to plan).
 */
export function downsampledSources(metas: readonly BlockMeta[], marks?: NoDownsampleMarks): DownsampledSources {
  const marked = markedSet(marks);
  const sources5m = new Set<string>();
  const sources1h = new Set<string>();
  for (const m of metas) {
    if (marked.has(m.ulid)) continue;
    const res = blockResolution(m);
    const into = res === RESOLUTION_5M ? sources5m : res === RESOLUTION_1H ? sources1h : undefined;
    if (res !== RESOLUTION_RAW && into === undefined) {
      throw new FormatError("invalid-value", `block ${m.ulid} has unexpected downsampling resolution ${res}`, {
        file: `${m.ulid}/meta.json`,
        expected: `${RESOLUTION_RAW}, ${RESOLUTION_5M} or ${RESOLUTION_1H}`,
        found: String(res),
      });
    }
    for (const id of m.compaction.sources ?? []) into?.add(id);
  }
  return { sources5m, sources1h };
}

/**
 * The resolution `meta` should be downsampled to now, or undefined: raw → 5m once its
 * range is ≥ 40h and some source of it is in no 5m block; 5m → 1h once ≥ 10d and some
 * source is in no 1h block; never for 1h blocks or marked blocks. `group` is every meta
 * of the tenant/group (including `meta`), or precomputed DownsampledSources.
 */
export function needsDownsampling(
  meta: BlockMeta,
  marks: NoDownsampleMarks | undefined,
  group: readonly BlockMeta[] | DownsampledSources,
): DownsampleResolution | undefined {
  if (markedSet(marks).has(meta.ulid)) return undefined;
  const done = Array.isArray(group)
    ? downsampledSources(group as readonly BlockMeta[], marks)
    : (group as DownsampledSources);
  const next = nextResolution(blockResolution(meta));
  if (next === undefined) return undefined;
  const sources = meta.compaction.sources ?? [];
  const range = meta.maxTime - meta.minTime;
  const [covered, minRange] =
    next === RESOLUTION_5M ? [done.sources5m, RES_5M_MIN_RANGE] : [done.sources1h, RES_1H_MIN_RANGE];
  if (sources.every((s) => covered.has(s))) return undefined;
  return range >= minRange ? next : undefined;
}

/** Every block of the group that needs downsampling, in ULID order (Thanos' processing order). */
export function planDownsampling(
  metas: readonly BlockMeta[],
  marks?: NoDownsampleMarks,
): { meta: BlockMeta; resolution: DownsampleResolution }[] {
  const done = downsampledSources(metas, marks);
  const out: { meta: BlockMeta; resolution: DownsampleResolution }[] = [];
  for (const meta of [...metas].sort((a, b) => compareUlids(a.ulid, b.ulid))) {
    const resolution = needsDownsampling(meta, marks, done);
    if (resolution !== undefined) out.push({ meta, resolution });
  }
  return out;
}
