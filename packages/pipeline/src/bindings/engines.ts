/**
 * The Engines port over @strata/verify, @strata/compact and @strata/downsample. Blocks are
 * read in place (`StoreBlockSource`, ranged GETs) and written straight into the bucket
 * (`StoreBlockSink`, meta.json last on `commit()`), so no scratch disk is needed: the engines
 * stream, and memory stays bounded by one series plus the writer's symbols and postings.
 */
import { Code, formatProblem, repairBlock, verifyBlock, type VerifyReport } from "@strata/verify";
import { blockCostOf, blockRangeOf, executePlan, fmtBytes } from "@strata/compact";
import { planAll } from "@strata/compact";
import { groupBlocks, removeReplicaLabels, SHARD_ID_LABEL, type BlockMetaWithMarks } from "@strata/compact";
import { downsampleBlock, planDownsampling } from "@strata/downsample";
import { CONVERTER_MARK_VERSION, DEFAULT_ROW_GROUP_SIZE, convertBlock } from "@strata/parquet";
import {
  blockResolution,
  compareStrings,
  newUlid,
  readMeta,
  stoppableSink,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
} from "@strata/tsdb";
import { JOB_CACHE_BYTES, RangeCache, SOURCE_CACHE_BYTES, StoreBlockSink, StoreBlockSource } from "@strata/bucket";
import type { BucketLayout } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import type { EngineSettings } from "../config.ts";
import type { TenantSettings } from "../overrides/apply.ts";
import type { CompactJob, DownsampleResolution } from "../messages.ts";
import {
  VerificationIncompleteError,
  type BlockRef,
  type Engines,
  type LiveBlock,
  type ParquetMark,
  type PlanOutcome,
  type VerifyOutcome,
  type WriteOptions,
} from "../ports.ts";

export class BlockEngines implements Engines {
  private readonly store: ObjectStore;
  private readonly layout: BucketLayout;
  private readonly settings: EngineSettings;
  private readonly now: () => number;
  private readonly keys = new Map<string, string>();
  private readonly perTenant: ((tenant: string) => Promise<TenantSettings>) | undefined;

  /** `perTenant`: a tenant's replica labels, dedup and split with its overrides (overrides/apply.ts). */
  constructor(
    store: ObjectStore,
    layout: BucketLayout,
    settings: EngineSettings,
    now: () => number = Date.now,
    perTenant?: (tenant: string) => Promise<TenantSettings>,
  ) {
    this.store = store;
    this.layout = layout;
    this.settings = settings;
    this.now = now;
    this.perTenant = perTenant;
  }

  /** The settings a tenant's plans and merges use: the global ones with its overrides. */
  private async tenantEngine(tenant: string): Promise<EngineSettings> {
    if (!this.perTenant) return this.settings;
    const t = await this.perTenant(tenant);
    const { split: _global, ...rest } = this.settings;
    return { ...rest, replicaLabels: t.replicaLabels, dedup: t.dedup, ...(t.split ? { split: t.split } : {}) };
  }

  async verify(source: BlockSource, ref: BlockRef): Promise<VerifyOutcome> {
    const report = await verifyBlock(source, { expectedUlid: ref.block, ...this.verifyLimits() });
    // CriticalErr = the source failed (an S3 error, a worker dying): not a verdict on the bytes.
    const critical = report.problems.find((p) => p.code === Code.CriticalErr);
    if (critical)
      throw new VerificationIncompleteError(
        `${source.name}: verification could not read the block: ${critical.message}`,
        "read-failed",
      );
    // meta.json is meant to be uploaded last, but tools such as `aws s3 cp --recursive` upload in
    // any order: a missing index or segment is an upload still in progress, retried (and, if
    // it never completes, dead-lettered for a person), never a verdict.
    const missing = report.problems.find((p) => p.code === Code.IndexMissing || p.code === Code.NoSegments);
    if (missing)
      throw new VerificationIncompleteError(
        `${source.name}: ${missing.message} (upload still in progress?)`,
        "upload-in-progress",
      );
    if (report.ok) return { ok: true, meta: await readMeta(source, { maxBytes: this.settings.maxMetaBytes }) };
    const repairable = report.problems.every((p) => p.severity !== "reject");
    return { ok: false, reason: summary(report), report: reportJson(report, repairable), repairable };
  }

  /**
   * The meta.json checks that need the pipeline's settings: no block spans more than the
   * largest compaction range, none ends more than a day after now, and no meta.json is larger
   * than `maxMetaBytes`.
   */
  private verifyLimits(): { now: number; maxRangeMs: number; maxMetaBytes?: number } {
    const limits = { now: this.now(), maxRangeMs: Math.max(...this.settings.ranges) };
    return this.settings.maxMetaBytes === undefined ? limits : { ...limits, maxMetaBytes: this.settings.maxMetaBytes };
  }

  async repair(ref: BlockRef, ulid: string, opts: WriteOptions = {}): Promise<BlockMeta> {
    const source = new StoreBlockSource(this.store, this.layout.blockPrefix(ref.tenant, ref.block));
    const report = await verifyBlock(source, { expectedUlid: ref.block, ...this.verifyLimits() });
    return this.writeOne(ref.tenant, ulid, opts, (sink) => repairBlock(source, sink, report, { ulid }));
  }

  /**
   * Write one block as `ulid` of the tenant: checked (`opts.check`) before its meta.json makes
   * it visible, stopped by `opts.signal`, and abandoned (what was stored deleted) on any failure.
   */
  private async writeOne(
    tenant: string,
    ulid: string,
    opts: WriteOptions,
    write: (sink: BlockSink) => Promise<{ meta: BlockMeta }>,
  ): Promise<BlockMeta> {
    const sink = new StoreBlockSink(this.store, this.layout.blockPrefix(tenant, ulid));
    try {
      const written = await write(stoppableSink(sink, opts.signal));
      await checkStaged(sink, { tenant, block: ulid }, opts);
      await sink.commit();
      return written.meta;
    } catch (e) {
      await sink.abort().catch(() => undefined);
      throw e;
    }
  }

  groupKey(meta: BlockMeta, replicaLabels: readonly string[] = this.settings.replicaLabels): string {
    // Label sets repeat across a tenant's blocks: hash each distinct one once.
    const canon = `${blockResolution(meta)}\0${JSON.stringify(meta.thanos?.labels ?? {})}\0${replicaLabels.join(",")}`;
    let k = this.keys.get(canon);
    if (k === undefined) {
      k = groupBlocks([{ meta }], { replicaLabels })[0]!.key;
      if (this.keys.size > 10_000) this.keys.clear();
      this.keys.set(canon, k);
    }
    return k;
  }

  sameGroup(a: BlockMeta, b: BlockMeta): boolean {
    return this.groupKey(a) === this.groupKey(b);
  }

  async plan(
    tenant: string,
    blocks: readonly LiveBlock[],
    groupKey?: string,
    all: readonly LiveBlock[] = blocks,
  ): Promise<PlanOutcome> {
    const settings = await this.tenantEngine(tenant);
    const metas: BlockMetaWithMarks[] = blocks.map((b) => ({
      meta: b.meta,
      tenant,
      noCompact: b.noCompact !== undefined,
      deletionMarked: b.deletionTime !== undefined,
    }));
    // Only jobs that fit the budget are planned; the rest come back refused, with a report.
    // The budget carries the worker's walls (parseSettings sets both); without one every plan runs.
    const budget = this.settings.jobBudget;
    // A job's memory includes its page cache (RangeCache.forJob: the setting in all, 64 MiB per input at most).
    const cost = {
      cacheBytes: this.settings.pageCacheBytes ?? JOB_CACHE_BYTES,
      cacheBytesPerInput: SOURCE_CACHE_BYTES,
    };
    const r = planAll(metas, {
      ranges: settings.ranges,
      replicaLabels: settings.replicaLabels,
      split: settings.split,
      budget,
      cost,
    });
    const groups = r.groups.filter((g) => groupKey === undefined || g.group.key === groupKey);
    const out: PlanOutcome = { compactions: [], downsamples: [], outdated: [], refused: [] };
    for (const g of groups) {
      for (const p of g.plans) out.compactions.push({ groupKey: p.groupKey, blocks: [...p.inputs], plan: p });
      for (const o of g.outdated) out.outdated!.push({ block: o.ulid, coveredBy: o.coveredBy[0]! });
      for (const x of g.refused)
        out.refused!.push({
          groupKey: x.groupKey,
          blocks: [...x.blocks],
          reason: x.reason,
          estimate: x.estimate,
          setting: x.setting,
        });
    }
    // Downsampling looks across resolutions of one stream (its 5m twin is in another
    // compaction group), so it plans over every live block with the same labels.
    const inPlan = new Set(groups.flatMap((g) => g.group.blocks.map((b) => b.ulid)));
    const stream = (m: BlockMeta) => this.streamKey(m, settings.replicaLabels);
    const streams = new Set([...inPlan].map((id) => stream(blocks.find((b) => b.meta.ulid === id)!.meta)));
    const byStream = new Map<string, BlockMeta[]>();
    for (const b of all) {
      if (b.deletionTime !== undefined) continue;
      const s = stream(b.meta);
      if (!streams.has(s)) continue;
      byStream.set(s, [...(byStream.get(s) ?? []), b.meta]);
    }
    const noDownsample = new Set(all.filter((b) => b.noDownsample).map((b) => b.meta.ulid));
    for (const metasOfStream of byStream.values()) {
      for (const d of planDownsampling(metasOfStream, noDownsample)) {
        if (inPlan.has(d.meta.ulid))
          out.downsamples.push({ block: d.meta.ulid, resolution: d.resolution as DownsampleResolution });
      }
    }
    return out;
  }

  async compact(
    tenant: string,
    job: CompactJob,
    opts: WriteOptions & { shards?: readonly number[] } = {},
  ): Promise<BlockMeta[]> {
    const shards = opts.shards;
    const plan = job.plan;
    const settings = await this.tenantEngine(tenant);
    // One page cache for the job's inputs, bounded as a whole (not 64 MiB each) and fair across them.
    const cache = RangeCache.forJob(plan.inputs.length, this.settings.pageCacheBytes);
    const inputs = plan.inputs.map(
      (id) => new StoreBlockSource(this.store, this.layout.blockPrefix(tenant, id), cache),
    );
    // The plan is the contract (executePlan checks it against the inputs and builds the
    // outputs' meta.json from it); outputs are checked and committed one at a time, each live
    // once its meta.json lands, so a crash in between leaves whole shards that the retry keeps.
    const r = await executePlan(plan, {
      sources: inputs,
      sink: (_shard, ulid) => new StoreBlockSink(this.store, this.layout.blockPrefix(tenant, ulid)),
      dedup: settings.dedup,
      replicaLabels: settings.replicaLabels,
      ulid: newUlid(this.now()),
      shards,
      check: (o) => checkStaged(o.sink, { tenant, block: o.meta.ulid }, opts),
      signal: opts.signal,
    });
    return r.outputs.map((o) => o.meta);
  }

  async downsample(ref: BlockRef, resolution: DownsampleResolution, opts: WriteOptions = {}): Promise<BlockMeta> {
    const source = new StoreBlockSource(
      this.store,
      this.layout.blockPrefix(ref.tenant, ref.block),
      RangeCache.forJob(1, this.settings.pageCacheBytes),
    );
    const ulid = newUlid(this.now());
    return this.writeOne(ref.tenant, ulid, opts, (sink) =>
      downsampleBlock(source, sink, { resolution, ulid, workers: this.settings.downsampleWorkers }),
    );
  }

  blockRange(meta: BlockMeta): number {
    return blockRangeOf(meta.minTime, meta.maxTime, this.settings.ranges);
  }

  async convert(ref: BlockRef, meta: BlockMeta, opts: { signal?: AbortSignal } = {}): Promise<ParquetMark> {
    const prefix = this.layout.blockPrefix(ref.tenant, ref.block);
    const source = new StoreBlockSource(this.store, prefix, RangeCache.forJob(1, this.settings.pageCacheBytes));
    // Straight into the block's folder: no file of it is read by anything until the mark, written last, says so.
    const r = await convertBlock(source, new StoreBlockSink(this.store, prefix), {
      signal: opts.signal,
      rowGroupSize: convertRowGroupRows(meta),
    });
    return { version: CONVERTER_MARK_VERSION, shards: r.shards.length };
  }

  convertDoesNotFit(meta: BlockMeta): string | undefined {
    const budget = this.settings.jobBudget;
    if (!budget) return undefined;
    const c = blockCostOf(meta);
    const seconds = (c.indexBytes + c.chunkBytes) / CONVERT_BYTES_PER_SECOND;
    if (seconds > budget.seconds)
      return `converting ~${fmtBytes(c.indexBytes + c.chunkBytes)} takes ~${Math.ceil(seconds)} s at ${fmtBytes(CONVERT_BYTES_PER_SECOND)}/s, more than the job budget's ${budget.seconds} s`;
    return undefined;
  }

  /** External labels without replica and shard labels: one stream across resolutions. */
  private streamKey(meta: BlockMeta, replicaLabels: readonly string[]): string {
    const l = removeReplicaLabels(meta.thanos?.labels, replicaLabels);
    delete l[SHARD_ID_LABEL];
    return Object.keys(l)
      .sort(compareStrings)
      .map((k) => `${k}\0${l[k]}`)
      .join("\0");
  }
}

/** Run the caller's check on a written block before its meta.json makes it visible. */
async function checkStaged(sink: StoreBlockSink, ref: BlockRef, opts: WriteOptions): Promise<void> {
  opts.signal?.throwIfAborted();
  if (!opts.check) return;
  const { source, meta } = await sink.staged();
  await opts.check(ref, source, meta);
  opts.signal?.throwIfAborted();
}

/** The first rejecting problem (and how many more), for the no-compact mark's details. */
function summary(report: VerifyReport): string {
  const bad = report.problems.filter((p) => p.severity === "reject" || p.severity === "repairable");
  const total = Object.values(report.counts).reduce((a, b) => a + (b ?? 0), 0);
  const first = bad[0] ? formatProblem("", bad[0]).replace(/^:? ?/, "") : "verification failed";
  return total > 1 ? `${first} (and ${total - 1} more problems)` : first;
}

/**
 * The report object written next to a quarantined block (bigints as decimal strings);
 * `repairable` tells a retried verify job to finish a repair (jobs/verify.ts).
 */
function reportJson(report: VerifyReport, repairable: boolean): string {
  return (
    JSON.stringify(
      { tool: "strata verify", repairable, ...report },
      (_k, v) => (typeof v === "bigint" ? v.toString() : v),
      2,
    ) + "\n"
  );
}

/**
 * Input bytes converted per second, one thread: `npm run bench -- convert` measured ~28 MB/s on
 * a 2-core machine; a margin for a slower vCPU and S3.
 */
export const CONVERT_BYTES_PER_SECOND = 20e6;
/**
 * The converter holds one row group's compressed pages per file until it is written (its
 * README): rows per group are capped so that a group's chunk bytes stay near this, Cortex's
 * 1M rows being the most. Readers take any row-group size.
 */
export const CONVERT_ROW_GROUP_BYTES = 256 * 2 ** 20;

/** Rows per row group for a block: 1M (Cortex's), fewer when its series carry many chunk bytes. */
export function convertRowGroupRows(meta: BlockMeta): number {
  const c = blockCostOf(meta);
  const perSeries = c.series > 0 ? c.chunkBytes / c.series : 0;
  if (!(perSeries > 0)) return DEFAULT_ROW_GROUP_SIZE;
  return Math.max(1_000, Math.min(DEFAULT_ROW_GROUP_SIZE, Math.floor(CONVERT_ROW_GROUP_BYTES / perSeries)));
}
