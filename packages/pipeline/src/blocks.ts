/**
 * Pure rules over a tenant's block set, the basis of every idempotency check: which block
 * already holds a plan's output, which downsampled block already exists, which blocks
 * retention expires.
 */
import { createHash } from "node:crypto";
import { RESOLUTION_RAW, blockResolution, nextResolution, resolutionName, type BlockMeta } from "@strata/tsdb";
import { COMPACTOR_SHARD_ID_LABEL, formatShardId } from "@strata/compact";
import type { PipelineConfig } from "./config.ts";
import type { CompactJob, DownsampleJob } from "./messages.ts";
import type { LiveBlock } from "./ports.ts";

/** The level-1 blocks whose data this block holds (a level-1 block is its own source). */
export function sourcesOf(meta: BlockMeta): readonly string[] {
  const s = meta.compaction.sources;
  return s && s.length > 0 ? s : [meta.ulid];
}

/**
 * Whether `outer`'s time range holds all of `inner`'s. A block's sources are only a claim of
 * its meta.json: a block can cover another only where it holds its whole time range too, so
 * an upload that lists a stranger's ULID in its sources never makes that block look redundant.
 */
export function containsRange(outer: BlockMeta, inner: BlockMeta): boolean {
  return outer.minTime <= inner.minTime && outer.maxTime >= inner.maxTime;
}

export function sameExternalLabels(a: BlockMeta, b: BlockMeta): boolean {
  const la = a.thanos?.labels ?? {};
  const lb = b.thanos?.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => lb[k] === la[k]);
}

/**
 * A live block, other than the inputs, that already holds all of the inputs' data: same
 * resolution and external labels, a time range holding every input's, and its sources
 * include every source of every input
 * (Thanos' deduplication rule; `sameGroup` lets the engines' replica-aware grouping decide,
 * so the deduplicated output of an HA pair covers both replicas). Its existence means the plan already ran (or a larger
 * plan
 * superseded it), so the inputs only need their deletion marks.
 */
export function findCoveringBlock(
  live: readonly LiveBlock[],
  inputs: readonly BlockMeta[],
  sameGroup: (a: BlockMeta, b: BlockMeta) => boolean = (a, b) =>
    blockResolution(a) === blockResolution(b) && sameExternalLabels(a, b),
  target: BlockMeta | undefined = inputs[0],
): BlockMeta | undefined {
  if (inputs.length === 0 || target === undefined) return undefined;
  const inputIds = new Set(inputs.map((m) => m.ulid));
  const needed = new Set(inputs.flatMap((m) => sourcesOf(m)));
  const ref = target;
  for (const { meta, deletionTime } of live) {
    if (deletionTime !== undefined || inputIds.has(meta.ulid)) continue;
    if (!sameGroup(meta, ref) || !inputs.every((i) => containsRange(meta, i))) continue;
    const have = new Set(sourcesOf(meta));
    if ([...needed].every((s) => have.has(s))) return meta;
  }
  return undefined;
}

/**
 * What output `index` of a split into `count` shards looks like to grouping: the inputs'
 * meta with Mimir's shard label (`__compactor_shard_id__="<index+1>_of_<count>"`) added to
 * its external labels. Pass it as `findCoveringBlock`'s target to find that shard's output.
 */
export function shardOutputTarget(input: BlockMeta, index: number, count: number): BlockMeta {
  const thanos = input.thanos ?? { labels: {}, downsample: { resolution: 0 }, source: "compactor" };
  return {
    ...input,
    thanos: {
      ...thanos,
      labels: { ...(thanos.labels ?? {}), [COMPACTOR_SHARD_ID_LABEL]: formatShardId(index, count) },
    },
  };
}

/**
 * Blocks whose data another live block already holds (same resolution and labels, a time
 * range holding theirs, sources a superset; of identical twins the smaller ULID stays). They arise when a compaction
 * ran twice
 * (a crash after the upload but before the index update) or two overlapping plans both ran;
 * marking them for deletion is how those cases converge.
 */
export function redundantBlocks(live: readonly LiveBlock[]): { block: BlockMeta; coveredBy: BlockMeta }[] {
  const active = live.filter((b) => b.deletionTime === undefined).map((b) => b.meta);
  const bySource = new Map<string, BlockMeta[]>();
  for (const m of active) for (const s of sourcesOf(m)) bySource.set(s, [...(bySource.get(s) ?? []), m]);
  const out: { block: BlockMeta; coveredBy: BlockMeta }[] = [];
  for (const a of active) {
    const mine = sourcesOf(a);
    for (const b of bySource.get(mine[0]!) ?? []) {
      if (b === a || blockResolution(b) !== blockResolution(a) || !sameExternalLabels(a, b) || !containsRange(b, a))
        continue;
      const theirs = new Set(sourcesOf(b));
      if (!mine.every((s) => theirs.has(s))) continue;
      if (theirs.size > mine.length || b.ulid < a.ulid) {
        out.push({ block: a, coveredBy: b });
        break;
      }
    }
  }
  return out;
}

/** The downsampled twin of `source` at `resolution`, if one was already written. */
export function findDownsampled(
  live: readonly LiveBlock[],
  source: BlockMeta,
  resolution: number,
): BlockMeta | undefined {
  const want = sourcesOf(source);
  for (const { meta } of live) {
    if (blockResolution(meta) !== resolution || !sameExternalLabels(meta, source)) continue;
    if (meta.minTime !== source.minTime || meta.maxTime !== source.maxTime) continue;
    const have = new Set(sourcesOf(meta));
    if (want.every((s) => have.has(s))) return meta;
  }
  return undefined;
}

/**
 * Blocks past their resolution's retention (0 = keep forever), not yet marked for deletion,
 * and the ones held back. With `requireDownsampled` (the default) retention never removes
 * the last copy of a range: a raw block goes only once live 5m blocks of its stream hold its
 * range and sources (one block or several together: seven 2d 5m blocks hold a 14d raw block);
 * if the 5m retention has passed for its range too, a 1h copy will do, and if that has passed
 * as well it may go. A 5m block likewise needs 1h (or the 1h retention passed); 1h blocks are
 * the last resolution. A range is never left without a copy at a resolution that still keeps it.
 */
export function retentionVerdicts(
  live: readonly LiveBlock[],
  nowMs: number,
  retention: PipelineConfig["retention"],
  requireDownsampled = true,
): { expired: BlockMeta[]; held: { block: BlockMeta; reason: string }[] } {
  const past = (meta: BlockMeta, res: number) => {
    const keep = retention[res as keyof typeof retention];
    return keep !== undefined && keep !== 0 && meta.maxTime + keep < nowMs;
  };
  const downsampled = live
    .filter((b) => b.deletionTime === undefined && blockResolution(b.meta) > RESOLUTION_RAW)
    .map((b) => b.meta);
  const expired: BlockMeta[] = [];
  const held: { block: BlockMeta; reason: string }[] = [];
  for (const { meta, deletionTime } of live) {
    if (deletionTime !== undefined || !past(meta, blockResolution(meta))) continue;
    // Walk the coarser resolutions: a copy there lets the block go; a resolution whose own
    // retention has passed for this range is skipped; one that still keeps it, without a copy, holds it.
    let verdict: string | undefined;
    // The resolution whose blocks hold a block's data next, once it is downsampled (1h has none).
    for (
      let next = nextResolution(blockResolution(meta));
      requireDownsampled && next !== undefined;
      next = nextResolution(next)
    ) {
      if (heldAt(downsampled, meta, next)) break;
      if (!past(meta, next)) {
        verdict = `past retention, but no ${resolutionName(next)} block holds its range yet and that resolution keeps it (this is the last copy of its data)`;
        break;
      }
    }
    if (verdict === undefined) expired.push(meta);
    else held.push({ block: meta, reason: verdict });
  }
  return { expired, held };
}

/**
 * Whether blocks at resolution `res` hold `meta`'s data together: of its stream, every source
 * of it in one of them, and their time ranges reaching from its start to its end (sources
 * alone are a claim; the ranges must agree). Gaps between them are allowed: consecutive
 * blocks' ranges end at their last sample, so a scrape interval lies between them.
 */
function heldAt(downsampled: readonly BlockMeta[], meta: BlockMeta, res: number): boolean {
  const mine = new Set(sourcesOf(meta));
  const holders = downsampled.filter(
    (d) => blockResolution(d) === res && sameExternalLabels(d, meta) && sourcesOf(d).some((s) => mine.has(s)),
  );
  const have = new Set(holders.flatMap((d) => sourcesOf(d)));
  if (holders.length === 0 || ![...mine].every((s) => have.has(s))) return false;
  return (
    Math.min(...holders.map((d) => d.minTime)) <= meta.minTime &&
    Math.max(...holders.map((d) => d.maxTime)) >= meta.maxTime
  );
}

/** Blocks past their resolution's retention that may go now (see `retentionVerdicts`). */
export function expiredBlocks(
  live: readonly LiveBlock[],
  nowMs: number,
  retention: PipelineConfig["retention"],
  requireDownsampled = true,
): BlockMeta[] {
  return retentionVerdicts(live, nowMs, retention, requireDownsampled).expired;
}

/**
 * A short, key-safe name for a compaction plan's lease, from the plan's id: the id names the
 * plan's inputs and output (`planId` of `@strata/compact`), so every send of one plan takes
 * the same lease and two different plans never do.
 */
export function compactLeaseName(planId: string): string {
  return `compact-${createHash("sha256").update(planId).digest("hex").slice(0, 32)}`;
}

export function downsampleLeaseName(block: string, resolution: number): string {
  return `downsample-${block}-${resolution}`;
}

/** The lease (and planning's queued note) a compaction or downsampling job takes. */
export function jobLeaseName(
  job: Pick<CompactJob, "type" | "plan"> | Pick<DownsampleJob, "type" | "block" | "resolution">,
): string {
  return job.type === "compact" ? compactLeaseName(job.plan.id) : downsampleLeaseName(job.block, job.resolution);
}
