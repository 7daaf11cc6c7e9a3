/**
 * What the worker needs from the world, as small interfaces. Lambda binds them to S3, SQS and
 * Powertools (@strata/lambda's adapters), the local runtime to the emulator, tests to in-memory
 * fakes. The engine and storage members are bound to @strata/verify, @strata/compact,
 * @strata/downsample and @strata/bucket; the pipeline itself only orchestrates.
 */
import type { BlockMeta, BlockSource, DeletionMark, FormatError, NoCompactMark, NoDownsampleMark } from "@strata/tsdb";
import type { Plan } from "@strata/compact";
import type { JobEstimate } from "@strata/compact";
import type { PipelineConfig } from "./config.ts";
import type { TenantSettings } from "./overrides/apply.ts";
import { PipelineError } from "./errors.ts";
import type { CounterName, GaugeName, GaugeSample, MetricLabels, SummaryName } from "./metrics.ts";
import type { CompactJob, DownsampleResolution, Job } from "./messages.ts";

export interface BlockRef {
  tenant: string;
  block: string;
}

export interface SendOptions {
  /** Hold the message back this long before any worker sees it (SQS DelaySeconds, 0–900). */
  delaySeconds?: number;
}

export interface JobQueue {
  /** Enqueue one job (validated by the adapter with `encodeJob`). */
  send(job: Job, opts?: SendOptions): Promise<void>;
  /**
   * Enqueue up to `SEND_BATCH_MAX_ENTRIES` (10) jobs in one call (SQS SendMessageBatch).
   * Resolves to the entries that were not sent (empty: all were); rejects only when the call
   * as a whole failed. Optional: `sendJobs` (send-jobs.ts) falls back to `send` one by one.
   */
  sendBatch?(entries: readonly BatchEntry[]): Promise<BatchEntryFailure[]>;
}

export interface BatchEntry {
  job: Job;
  opts?: SendOptions;
}

/** One entry of a batch the queue did not take (SQS `BatchResultErrorEntry`). */
export interface BatchEntryFailure {
  /** Index of the entry in the batch. */
  index: number;
  code: string;
  message: string;
  /** The request was at fault (too large, invalid): sending it again cannot help. */
  senderFault: boolean;
}

/**
 * Verification could not reach a verdict: `upload-in-progress` (the block's index or chunks
 * are not all there yet: meta.json came first) or `read-failed` (the store failed under it).
 * Never a quarantine.
 */
export class VerificationIncompleteError extends PipelineError {
  override readonly name = "VerificationIncompleteError";
  readonly kind: "upload-in-progress" | "read-failed";
  constructor(message: string, kind: "upload-in-progress" | "read-failed", options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export type LogFields = Record<string, unknown>;

/** Structured logging: one JSON line per event, carrying the bound fields (tenant, block, job id). */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/**
 * Where the worker reports job metrics; the names, types, units and labels are the catalogue's
 * (metrics.ts). Lambda binds it to EMF, the local runtime to its Prometheus registry.
 */
export interface Metrics {
  /** Add to a counter. */
  add(name: CounterName, value: number, labels: MetricLabels): void;
  /** One observation of a summary (a duration). */
  observe(name: SummaryName, value: number, labels: MetricLabels): void;
  /** Set a gauge (the tenant gauges, after an index re-sync). */
  set(name: GaugeName, value: number, labels: MetricLabels): void;
}

/** An indexed (so verified) block whose meta.json still exists, with the markers next to it. */
export interface LiveBlock {
  meta: BlockMeta;
  /** Unix seconds, when the block carries a deletion mark. */
  deletionTime?: number;
  noCompact?: NoCompactMark;
  /** Set when the block carries a no-downsample mark (a failed downsampling, or an operator's). */
  noDownsample?: boolean;
}

/** meta.json's identity in the store: a re-upload changes its time, new content its hash. */
export interface MetaStat {
  /** Hex SHA-256 of meta.json's bytes. */
  sha256: string;
  /** Milliseconds since the epoch, by the store's clock. */
  lastModified: number;
}

/**
 * Run by an engine on each block it writes, after every file but meta.json is stored and
 * before meta.json is (which makes the block visible): `staged` reads the block as it will be,
 * `meta` is meta.json's bytes. Throwing refuses the output: the engine abandons it (deletes
 * what it stored) and rethrows.
 */
export type OutputCheck = (ref: BlockRef, staged: BlockSource, meta: Uint8Array) => Promise<void>;

/** How a job runs an engine that writes blocks. */
export interface WriteOptions {
  /** Run on each written block before its meta.json makes it visible. */
  check?: OutputCheck;
  /**
   * Aborted when the job must stop (its time runs out): the engine stops writing, deletes
   * what it wrote of blocks not yet visible, and rethrows the signal's reason.
   */
  signal?: AbortSignal;
}

/** One block directory as a listing sees it (for cleanup). */
export interface BlockListing {
  block: string;
  hasMeta: boolean;
  /** Milliseconds since the epoch: the newest object under the directory. */
  lastModified: number;
  /** Unix seconds, when a deletion mark exists. */
  deletionTime?: number;
}

/** A block file as listed: path below the block folder, bytes, milliseconds since the epoch. */
export interface BlockDataFile {
  file: string;
  size: number;
  lastModified: number;
}

export interface TenantPage {
  tenants: string[];
  /** The continuation token of the next page; absent on the last. */
  next?: string;
}

export interface Storage {
  /** The block's files for reading in place (ranged GETs). */
  openBlock(ref: BlockRef): Promise<BlockSource>;
  /** Undefined when meta.json does not exist (deleted, or not yet uploaded). */
  readMeta(ref: BlockRef): Promise<BlockMeta | undefined>;
  /** meta.json's hash and time; undefined when it does not exist. */
  statMeta(ref: BlockRef): Promise<MetaStat | undefined>;
  /**
   * meta.json parsed (or the FormatError that says why it does not parse) with its hash and
   * time, from one read; undefined when it does not exist.
   */
  readMetaStat(ref: BlockRef): Promise<{ meta: BlockMeta | FormatError; stat: MetaStat } | undefined>;
  readMarkers(ref: BlockRef): Promise<{ deletion?: DeletionMark; noCompact?: NoCompactMark }>;
  /**
   * The block's own files (meta.json, index, chunk segments; not marks or reports), from one
   * listing: whether an upload is still adding to it, and when it last did.
   */
  listBlockData(ref: BlockRef): Promise<BlockDataFile[]>;
  listBlocks(tenant: string): Promise<BlockListing[]>;
  listTenants(): Promise<string[]>;
  /**
   * One page of `listTenants` (one listing call, at most 1000 tenants): the schedule's fan-out.
   * `rootSeen`: an earlier page already had the bucket-root tenant. `next` continues the listing.
   */
  listTenantPage(token?: string, opts?: { rootSeen?: boolean }): Promise<TenantPage>;
  /** Create-if-absent: an existing mark is kept, so a retry never moves its time. */
  markNoCompact(ref: BlockRef, mark: NoCompactMark): Promise<void>;
  /** Create-if-absent, as above (the delete delay counts from the first mark). */
  markForDeletion(ref: BlockRef, mark: DeletionMark): Promise<void>;
  /** Create-if-absent, next to the block and mirrored to the tenant's markers. */
  markNoDownsample(ref: BlockRef, mark: NoDownsampleMark): Promise<void>;
  /** Remove the no-compact mark next to the block and its mirror (a quarantine lifted). */
  unmarkNoCompact(ref: BlockRef): Promise<void>;
  /** Remove the deletion mark next to the block, then its mirror (an abandoned upload that completed after all). */
  unmarkDeletion(ref: BlockRef): Promise<void>;
  /** Write (or overwrite) a report object next to the block. */
  putReport(ref: BlockRef, name: string, body: string): Promise<void>;
  /** A report object next to the block, with the store's time of writing; undefined when absent. */
  readReport(ref: BlockRef, name: string): Promise<{ body: string; lastModified: number } | undefined>;
  deleteReport(ref: BlockRef, name: string): Promise<void>;
  /** Mirror a block's parquet converter mark to `<tenant>/parquet-markers/` (Cortex's global location). */
  mirrorParquetMark(ref: BlockRef, mark: ParquetMark): Promise<void>;
  /** meta.json first (the block turns partial), the deletion mark last; missing objects are fine. */
  deleteBlock(ref: BlockRef): Promise<void>;
}

/** A batch for `BucketIndex.apply`. */
export interface IndexChanges {
  add?: readonly BlockMeta[];
  /** Unix seconds per block. */
  markDeleted?: readonly { block: string; deletionTime: number }[];
  remove?: readonly string[];
  /** Record a block's Parquet (Cortex's `parquet` field in the index). */
  parquet?: readonly { block: string; mark: ParquetMark }[];
}

/** Cortex's converter mark: `{"version":2,"shards":N}`. */
export interface ParquetMark {
  version: number;
  shards: number;
}

export interface RebuildResult {
  /** Blocks with a meta.json that no verify has admitted: left out of the index. */
  unverified: string[];
  /** Block directories without a usable meta.json, with the reason (left out; cleanup's business). */
  partials?: [string, string][];
}

/** The tenant's bucket index; every update is a compare-and-swap, safe under concurrent writers. */
export interface BucketIndex {
  /**
   * The tenant's indexed blocks with their full meta.json (the index entry lacks sources and
   * labels; metas are immutable, so a binding may cache them) and markers. Only verified blocks
   * are ever indexed, so planning and retention never see an unverified or quarantined block.
   */
  blocks(tenant: string): Promise<LiveBlock[]>;
  /** Add or replace the block (idempotent). */
  addBlock(tenant: string, meta: BlockMeta): Promise<void>;
  /** Record a deletion mark (idempotent). */
  markDeleted(tenant: string, block: string, deletionTime: number): Promise<void>;
  /** Drop a deleted block and its mark (idempotent). */
  removeBlock(tenant: string, block: string): Promise<void>;
  /**
   * All of `changes` in one update (one compare-and-swap round): a compaction's outputs with its
   * inputs' deletion marks, a retention's or a cleanup's blocks. Idempotent as the single calls.
   */
  apply(tenant: string, changes: IndexChanges): Promise<void>;
  /**
   * Rebuild from a listing of the bucket, keeping only blocks a passed verify admitted (a
   * verification record, or already indexed) and never a quarantined one. Returns the blocks
   * with a meta.json that no verify has admitted yet, for the caller to send to verification.
   */
  rebuild(tenant: string): Promise<RebuildResult>;
}

export interface Lease {
  release(): Promise<void>;
  /** Extend the lease by its TTL from now; false when it was lost (expired and taken over). */
  renew?(): Promise<boolean>;
}

/** How often a leased job (a plan, a downsampling) has started, and how its attempts ended. */
export interface AttemptRecord {
  version: 1;
  /** Attempts started; one that was killed or ran out of time left no error. */
  attempts: number;
  /** One line per attempt that failed with an error, oldest first (at most a few kept). */
  errors: string[];
  /** What the job is, for a person reading `strata status`. */
  job: string;
  blocks: string[];
  /** Unix seconds. */
  first_time: number;
  last_time: number;
}

export interface Leases {
  /**
   * Take the tenant's lease called `name` (a short token safe in an object key); undefined
   * when another owner holds it unexpired.
   */
  acquire(tenant: string, name: string, ttlMs: number): Promise<Lease | undefined>;
  /** The attempt record kept beside the lease `name`; written only under that lease. */
  readAttempts(tenant: string, name: string): Promise<AttemptRecord | undefined>;
  /** Write the record, or remove it (undefined) once the job succeeded or was refused. */
  writeAttempts(tenant: string, name: string, record: AttemptRecord | undefined): Promise<void>;
  /** Every attempt record of the tenant (jobs that failed at least once and have not yet succeeded). */
  listAttempts(tenant: string): Promise<{ name: string; record: AttemptRecord }[]>;
  /**
   * Whether the job called `name` was sent less than `ttlMs` ago and has not started since.
   * Planning runs on every upload; without this each upload would enqueue every due plan of
   * its group again. Past `ttlMs` the message may be lost, so it is sent again.
   */
  isQueued(tenant: string, name: string, ttlMs: number): Promise<boolean>;
  /**
   * Note that the job called `name` is on the queue. Written only after the send succeeded: a
   * note for a message that was never sent would hold the job back for the whole TTL.
   */
  noteQueued(tenant: string, name: string): Promise<void>;
  /** The job called `name` has started: a later planning may queue it again. */
  clearQueued(tenant: string, name: string): Promise<void>;
}

/** `repairable`: every problem is of Thanos' repairable class, so a repair may fix the block. */
export type VerifyOutcome =
  | { ok: true; meta: BlockMeta }
  | { ok: false; reason: string; report: string; repairable: boolean };

export interface PlannedCompaction {
  groupKey: string;
  blocks: string[];
  /** The compaction planner's plan; it travels in the compact job as it is. */
  plan: Plan;
}

export interface PlannedDownsample {
  block: string;
  resolution: DownsampleResolution;
}

export interface PlanOutcome {
  /** Independent plans: no block appears in two of them. */
  compactions: PlannedCompaction[];
  downsamples: PlannedDownsample[];
  /**
   * Blocks whose data another live block of their group already holds (the planner's view:
   * replica- and shard-aware), to be marked for deletion.
   */
  outdated?: { block: string; coveredBy: string }[];
  /**
   * Jobs the planner refused as over the job budget (`STRATA_JOB_BUDGET`, `STRATA_JOB_MEMORY`)
   * even cut down: their blocks are to be marked no-compact (reason `strata-job-over-budget`,
   * details = the report, which names the setting that would let the job run).
   */
  refused?: RefusedCompaction[];
}

export interface RefusedCompaction {
  groupKey: string;
  blocks: string[];
  /** Why, against which budget, and what setting would let it run. */
  reason: string;
  estimate: JobEstimate;
  /** `NAME=value`. */
  setting: string;
}

export interface Engines {
  verify(source: BlockSource, ref: BlockRef): Promise<VerifyOutcome>;
  /**
   * The compaction group a block belongs to (resolution and external labels); `replicaLabels`: the tenant's (its
   * overrides), absent = the global ones.
   */
  groupKey(meta: BlockMeta, replicaLabels?: readonly string[]): string;
  /**
   * The compaction range a block belongs to: the smallest configured range one of whose aligned
   * windows holds it (Cortex's rule for which blocks to convert), else by its span.
   */
  blockRange(meta: BlockMeta): number;
  /**
   * Convert an indexed block (`meta`: its meta.json, as indexed) to Parquet into its own folder:
   * parquet-common's labels and chunks files per shard, Cortex's `parquet-converter-mark.json`
   * last. Returns the mark's content.
   */
  convert(ref: BlockRef, meta: BlockMeta, opts?: { signal?: AbortSignal }): Promise<ParquetMark>;
  /** Why converting this block would not fit the job budget (time or memory), or undefined when it would. */
  convertDoesNotFit(meta: BlockMeta): string | undefined;
  /**
   * Plans over the tenant's live blocks (blocks with a deletion mark are already filtered
   * out; no-compact ones are passed so that they can still be downsampled). `all` is every
   * indexed block of the tenant, for rules that look across groups (a block's downsampled twin
   * lives in another resolution's group).
   */
  plan(
    tenant: string,
    blocks: readonly LiveBlock[],
    groupKey?: string,
    all?: readonly LiveBlock[],
  ): Promise<PlanOutcome>;
  /**
   * Run a plan; the output is fully uploaded (meta.json last) when this resolves. Undefined
   * when the merge left no sample at all (everything deleted by tombstones): no block is written.
   */
  /**
   * Run the job's plan and return the blocks written (uploaded, meta.json last): one, or
   * none when every sample was deleted; for a split plan one per shard that got series.
   * `shards` (0-based, split plans only) limits the work to those outputs.
   */
  compact(tenant: string, job: CompactJob, opts?: WriteOptions & { shards?: readonly number[] }): Promise<BlockMeta[]>;
  /** Whether two blocks belong to one compaction group (resolution, labels minus replica labels). */
  sameGroup?(a: BlockMeta, b: BlockMeta): boolean;
  /** Downsample one block; the output is fully uploaded (meta.json last) when this resolves. */
  downsample(ref: BlockRef, resolution: DownsampleResolution, opts?: WriteOptions): Promise<BlockMeta>;
  /**
   * Write a repaired copy of a block whose problems are all repairable, as block `ulid` of the
   * same tenant (uploaded, meta.json last, when this resolves). Throws when it cannot be repaired.
   */
  repair(ref: BlockRef, ulid: string, opts?: WriteOptions): Promise<BlockMeta>;
}

export interface WorkerDeps {
  storage: Storage;
  index: BucketIndex;
  leases: Leases;
  engines: Engines;
  queue: JobQueue;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
  /**
   * The tenant's gauges (tenant-gauges.ts), reported through `metrics` after each index
   * re-sync; bound where nothing else computes them (Lambda: the local runtime computes them
   * at scrape time).
   */
  tenantGauges?: (tenant: string) => Promise<readonly GaugeSample[]>;
  config: PipelineConfig;
  /** The tenant's settings with its overrides (overrides/); absent: `config` and the engines' settings for every tenant. */
  tenantSettings?(tenant: string): Promise<TenantSettings>;
}
