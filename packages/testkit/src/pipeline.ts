/**
 * In-memory implementations of the pipeline's own ports (not of any SDK): a bucket with
 * markers, an index and leases; engines whose behaviour a test scripts; a recording queue, a
 * settable clock and a capturing logger. Enough to run every job end to end.
 */
import { createHash } from "node:crypto";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { planId, type Plan } from "@strata/compact";
import {
  MemoryBlock,
  blockResolution,
  newUlid,
  type BlockMeta,
  type BlockSource,
  type DeletionMark,
  type NoCompactMark,
  type NoDownsampleMark,
} from "@strata/tsdb";
import {
  COMPACT_JOB_VERSION,
  DEFAULT_CONFIG,
  QUARANTINE_REASON,
  VERIFIED_FILE,
  encodeJob,
  sha256Hex,
  jsonLogger,
  type AttemptRecord,
  type BatchEntry,
  type BatchEntryFailure,
  type BlockListing,
  type BlockRef,
  type BucketIndex,
  type IndexChanges,
  type CompactJob,
  type DownsampleResolution,
  type Engines,
  type Job,
  type Lease,
  type Leases,
  type LiveBlock,
  type OutputCheck,
  type ParquetMark,
  type PipelineConfig,
  type WriteOptions,
  type PlanOutcome,
  type Storage,
  type TenantPage,
  type VerifyOutcome,
  type WorkerDeps,
} from "@strata/pipeline";

export { writeLongBlock } from "./long-block.ts";

const HOUR = 3_600_000;
export const T0 = Date.UTC(2026, 0, 1);

let seq = 0;
/** A distinct, time-ordered canonical ULID. */
export function ulid(timeMs = T0): string {
  const r = new Uint8Array(10);
  new DataView(r.buffer).setUint32(6, ++seq);
  return newUlid(timeMs, r);
}

export function meta(opts: {
  ulid?: string;
  minTime: number;
  maxTime: number;
  level?: number;
  sources?: string[];
  resolution?: number;
  labels?: Record<string, string>;
}): BlockMeta {
  const id = opts.ulid ?? ulid(opts.minTime);
  return {
    ulid: id,
    minTime: opts.minTime,
    maxTime: opts.maxTime,
    stats: { numSamples: 100n },
    compaction: { level: opts.level ?? 1, sources: opts.sources ?? [id] },
    version: 1,
    thanos: {
      labels: opts.labels ?? { cluster: "a" },
      downsample: { resolution: opts.resolution ?? 0 },
      source: "test",
    },
  };
}

/** A group key in Thanos' shape (`<resolution>@<decimal hash>`), from the labels' JSON. */
export function fakeGroupKey(labels: Record<string, string>, resolution = 0): string {
  const h = createHash("sha256").update(JSON.stringify(labels)).digest();
  return `${resolution}@${h.readUInt32BE(0)}`;
}

/** A valid planner plan (PlanSchema) over the given inputs, as the compaction planner would send it. */
export function planFor(tenant: string, groupKey: string, blocks: readonly string[], change: Partial<Plan> = {}): Plan {
  const plan: Plan = {
    id: "",
    tenant,
    groupKey,
    kind: "merge",
    window: { minTime: 0, maxTime: 1 },
    range: 8 * HOUR,
    level: 2,
    inputs: [...blocks],
    overlapping: false,
    labels: {},
    resolution: 0,
    reason: "test",
    ...change,
  };
  return { ...plan, id: planId(plan) };
}

/** The compact job of a plan, as planning sends it. */
export function compactJob(plan: Plan): CompactJob {
  return { version: COMPACT_JOB_VERSION, type: "compact", plan };
}

/** Stand for a meta.json's bytes: each upload of a block is new bytes. */
export function metaBytes(ulid: string, version: number): Uint8Array {
  return new TextEncoder().encode(`${ulid}#${version}`);
}

/** A 2h level-1 block starting `i` hours after T0. */
export function twoHourBlock(i: number, labels?: Record<string, string>): BlockMeta {
  return meta({ minTime: T0 + 2 * i * HOUR, maxTime: T0 + 2 * (i + 1) * HOUR, labels });
}

interface StoredBlock {
  meta?: BlockMeta;
  /** Bumped by every upload of meta.json (its ETag). */
  metaVersion?: number;
  metaTime?: number;
  deletion?: DeletionMark;
  noCompact?: NoCompactMark;
  noDownsample?: NoDownsampleMark;
  reports: Map<string, { body: string; lastModified: number }>;
  lastModified: number;
}

export class FakeBucket implements Storage, BucketIndex, Leases {
  readonly dirs = new Map<string, StoredBlock>();
  readonly index = new Map<string, Map<string, { meta: BlockMeta; deletionTime?: number }>>();
  readonly leases = new Map<string, string>();
  readonly rebuilt: string[] = [];
  /** Every `apply` batch, in order (one index update each). */
  readonly applied: ({ tenant: string } & IndexChanges)[] = [];
  readonly deleted: string[] = [];
  /** Make the next N calls of a method throw (fault injection). */
  readonly faults = new Map<string, number>();
  /** Tenants per `listTenantPage` (the store's 1000 by default). */
  tenantPageSize = 1000;

  private readonly clock: { now(): number };
  constructor(clock: { now(): number }) {
    this.clock = clock;
  }

  private key(ref: BlockRef): string {
    return ref.tenant ? `${ref.tenant}/${ref.block}` : ref.block;
  }
  private fault(name: string): void {
    const n = this.faults.get(name) ?? 0;
    if (n > 0) {
      this.faults.set(name, n - 1);
      throw new Error(`injected fault in ${name}`);
    }
  }
  private dir(ref: BlockRef): StoredBlock {
    let b = this.dirs.get(this.key(ref));
    if (!b) this.dirs.set(this.key(ref), (b = { reports: new Map(), lastModified: this.clock.now() }));
    return b;
  }

  /** Upload a complete block (meta.json last). */
  upload(tenant: string, m: BlockMeta): BlockRef {
    const ref = { tenant, block: m.ulid };
    const d = this.dir(ref);
    d.meta = m;
    d.metaVersion = (d.metaVersion ?? 0) + 1;
    d.metaTime = this.clock.now();
    return ref;
  }
  /** A block uploaded and already verified (indexed). */
  async uploadIndexed(tenant: string, m: BlockMeta): Promise<BlockRef> {
    const ref = this.upload(tenant, m);
    await this.addBlock(tenant, m);
    return ref;
  }
  /** An upload that never wrote meta.json. */
  partial(tenant: string, block: string, lastModified: number): void {
    this.dirs.set(this.key({ tenant, block }), { reports: new Map(), lastModified });
  }
  get(ref: BlockRef): StoredBlock | undefined {
    return this.dirs.get(this.key(ref));
  }
  indexed(tenant: string): string[] {
    return [...(this.index.get(tenant)?.keys() ?? [])].sort();
  }
  /** Indexed blocks without a deletion mark in the index: what a store gateway would query. */
  queryable(tenant: string): string[] {
    return [...(this.index.get(tenant) ?? [])]
      .filter(([, e]) => e.deletionTime === undefined)
      .map(([k]) => k)
      .sort();
  }
  /** The whole state, for "nothing changed" comparisons. */
  snapshot(): string {
    return JSON.stringify([[...this.dirs], [...this.index].map(([t, m]) => [t, [...m]])], (_k, v) =>
      typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v,
    );
  }

  // Storage
  async openBlock(ref: BlockRef): Promise<BlockSource> {
    if (!this.get(ref)?.meta) throw new Error(`no block ${this.key(ref)}`);
    return new MemoryBlock(this.key(ref));
  }
  async readMeta(ref: BlockRef) {
    return this.get(ref)?.meta;
  }
  async readMetaStat(ref: BlockRef) {
    const b = this.get(ref);
    const stat = await this.statMeta(ref);
    return b?.meta && stat ? { meta: b.meta, stat } : undefined;
  }
  async statMeta(ref: BlockRef) {
    const b = this.get(ref);
    return b?.meta
      ? { sha256: sha256Hex(metaBytes(b.meta.ulid, b.metaVersion!)), lastModified: b.metaTime! }
      : undefined;
  }
  async readMarkers(ref: BlockRef) {
    const b = this.get(ref);
    return { deletion: b?.deletion, noCompact: b?.noCompact };
  }
  async listBlockData(ref: BlockRef) {
    const b = this.get(ref);
    return b?.meta ? [{ file: "meta.json", size: 1, lastModified: b.metaTime! }] : [];
  }
  async listBlocks(tenant: string): Promise<BlockListing[]> {
    return [...this.dirs]
      .filter(([k]) => this.tenantOf(k) === tenant)
      .map(([k, b]) => ({
        block: k.split("/").pop()!,
        hasMeta: !!b.meta,
        lastModified: b.lastModified,
        deletionTime: b.deletion?.deletion_time,
      }));
  }
  async listTenants() {
    return [...new Set([...this.dirs.keys()].map((k) => this.tenantOf(k)))].sort();
  }
  /** Pages of `listTenants` (the token is the next offset); the root tenant ("") sorts first. */
  async listTenantPage(token?: string, opts: { rootSeen?: boolean } = {}): Promise<TenantPage> {
    this.fault("listTenantPage");
    const all = await this.listTenants();
    const from = token === undefined ? 0 : Number(token);
    const to = from + this.tenantPageSize;
    const tenants = all.slice(from, to).filter((t) => !(opts.rootSeen && t === ""));
    return to < all.length ? { tenants, next: String(to) } : { tenants };
  }
  async markNoCompact(ref: BlockRef, mark: NoCompactMark) {
    this.dir(ref).noCompact ??= mark;
  }
  async markForDeletion(ref: BlockRef, mark: DeletionMark) {
    this.fault("markForDeletion");
    this.dir(ref).deletion ??= mark;
  }
  async markNoDownsample(ref: BlockRef, mark: NoDownsampleMark) {
    this.dir(ref).noDownsample ??= mark;
  }
  async unmarkNoCompact(ref: BlockRef) {
    const b = this.get(ref);
    if (b) b.noCompact = undefined;
  }
  async unmarkDeletion(ref: BlockRef) {
    const b = this.get(ref);
    if (b) b.deletion = undefined;
  }
  async putReport(ref: BlockRef, name: string, body: string) {
    this.dir(ref).reports.set(name, { body, lastModified: this.clock.now() });
  }
  async readReport(ref: BlockRef, name: string) {
    return this.get(ref)?.reports.get(name);
  }
  async deleteReport(ref: BlockRef, name: string) {
    this.get(ref)?.reports.delete(name);
  }
  /** The mirrors under parquet-markers/, by block. */
  readonly parquetMirrors = new Map<string, ParquetMark>();
  async mirrorParquetMark(ref: BlockRef, mark: ParquetMark) {
    this.parquetMirrors.set(`${ref.tenant}/${ref.block}`, mark);
  }
  async deleteBlock(ref: BlockRef) {
    this.dirs.delete(this.key(ref));
    this.deleted.push(this.key(ref));
  }
  private tenantOf(key: string): string {
    const parts = key.split("/");
    return parts.length === 2 ? parts[0]! : "";
  }

  // BucketIndex
  private tenantIndex(tenant: string) {
    let t = this.index.get(tenant);
    if (!t) this.index.set(tenant, (t = new Map()));
    return t;
  }
  async blocks(tenant: string): Promise<LiveBlock[]> {
    const out: LiveBlock[] = [];
    for (const id of this.index.get(tenant)?.keys() ?? []) {
      const b = this.get({ tenant, block: id });
      if (b?.meta)
        out.push({
          meta: b.meta,
          deletionTime: b.deletion?.deletion_time,
          noCompact: b.noCompact,
          ...(b.noDownsample ? { noDownsample: true } : {}),
        });
    }
    return out;
  }
  async addBlock(tenant: string, m: BlockMeta) {
    this.fault("addBlock");
    const t = this.tenantIndex(tenant);
    t.set(m.ulid, { meta: m, deletionTime: t.get(m.ulid)?.deletionTime });
  }
  async markDeleted(tenant: string, block: string, deletionTime: number) {
    const e = this.tenantIndex(tenant).get(block);
    if (e) e.deletionTime = deletionTime;
  }
  async removeBlock(tenant: string, block: string) {
    this.tenantIndex(tenant).delete(block);
  }
  /** One call per batch, all or nothing, as the real binding's one compare-and-swap round. */
  async apply(tenant: string, c: IndexChanges) {
    if (c.add?.length) this.fault("addBlock");
    this.applied.push({ tenant, ...c });
    for (const m of c.add ?? []) {
      const t = this.tenantIndex(tenant);
      t.set(m.ulid, { meta: m, deletionTime: t.get(m.ulid)?.deletionTime });
    }
    for (const m of c.markDeleted ?? []) await this.markDeleted(tenant, m.block, m.deletionTime);
    for (const id of c.remove ?? []) await this.removeBlock(tenant, id);
  }
  /** As the real binding: admitted blocks (a verification record, or indexed) stay; the rest are returned. */
  async rebuild(tenant: string) {
    this.rebuilt.push(tenant);
    const t = this.tenantIndex(tenant);
    const unverified: string[] = [];
    for (const [k, b] of this.dirs) {
      if (this.tenantOf(k) !== tenant || !b.meta) continue;
      if (b.noCompact?.reason === QUARANTINE_REASON) t.delete(b.meta.ulid);
      else if (b.reports.has(VERIFIED_FILE) || t.has(b.meta.ulid))
        t.set(b.meta.ulid, { meta: b.meta, deletionTime: b.deletion?.deletion_time });
      else unverified.push(b.meta.ulid);
    }
    return { unverified };
  }

  // Leases
  readonly attempts = new Map<string, AttemptRecord>();
  async readAttempts(tenant: string, name: string) {
    return this.attempts.get(`${tenant}/${name}`);
  }
  async writeAttempts(tenant: string, name: string, record: AttemptRecord | undefined) {
    if (record) this.attempts.set(`${tenant}/${name}`, structuredClone(record));
    else this.attempts.delete(`${tenant}/${name}`);
  }
  readonly queued = new Map<string, number>();
  /** Lease renewals (heartbeats of running jobs). */
  renewals = 0;
  async isQueued(tenant: string, name: string, ttlMs: number) {
    const at = this.queued.get(`${tenant}/${name}`);
    return at !== undefined && at + ttlMs > this.clock.now();
  }
  async noteQueued(tenant: string, name: string) {
    this.queued.set(`${tenant}/${name}`, this.clock.now());
  }
  async clearQueued(tenant: string, name: string) {
    this.queued.delete(`${tenant}/${name}`);
  }
  async listAttempts(tenant: string) {
    return [...this.attempts]
      .filter(([k]) => k.startsWith(`${tenant}/`))
      .map(([k, record]) => ({ name: k.slice(tenant.length + 1), record }));
  }
  async acquire(tenant: string, name: string): Promise<Lease | undefined> {
    const key = `${tenant}/${name}`;
    if (this.leases.has(key)) return undefined;
    this.leases.set(key, "me");
    return {
      release: async () => void this.leases.delete(key),
      renew: async () => {
        this.renewals++;
        return this.leases.has(key);
      },
    };
  }
}

/** Engines whose results a test scripts; calls are recorded. */
export class FakeEngines implements Engines {
  readonly calls: string[] = [];
  /** Blocks (ULIDs) the verifier rejects, with the reason. */
  readonly broken = new Map<string, string>();
  /** Blocks whose verification finds only repairable problems (reason), and what repair() writes. */
  readonly repairable = new Map<string, string>();
  /** Blocks whose verification throws (an engine crash). */
  readonly crashing = new Set<string>();
  /** Errors the next repairs throw, in order (a store outage, the job's time running out). */
  readonly repairFailures: Error[] = [];
  /** What the next plan() returns (then reset), or a function of the blocks. */
  planner: (tenant: string, blocks: readonly LiveBlock[], groupKey?: string) => PlanOutcome = () => ({
    compactions: [],
    downsamples: [],
  });
  /** The next compaction dies after uploading this many outputs (a worker crash mid-split). */
  crashAfterShards: number | undefined = undefined;

  private readonly bucket: FakeBucket;
  constructor(bucket: FakeBucket) {
    this.bucket = bucket;
  }

  async verify(_source: BlockSource, ref: BlockRef): Promise<VerifyOutcome> {
    this.calls.push(`verify ${ref.block}`);
    if (this.crashing.has(ref.block)) throw new Error(`verifier crashed on ${ref.block}`);
    const reason = this.broken.get(ref.block);
    if (reason)
      return { ok: false, reason, report: JSON.stringify({ block: ref.block, problems: [reason] }), repairable: false };
    const fixable = this.repairable.get(ref.block);
    if (fixable)
      return {
        ok: false,
        reason: fixable,
        report: JSON.stringify({ block: ref.block, repairable: true, problems: [fixable] }),
        repairable: true,
      };
    return { ok: true, meta: this.staging.get(ref.block) ?? (await this.bucket.readMeta(ref))! };
  }
  groupKey(m: BlockMeta): string {
    return fakeGroupKey(m.thanos?.labels ?? {}, blockResolution(m));
  }
  /** Blocks (ULIDs) too big to convert in one job, with the reason. */
  readonly tooBigToConvert = new Map<string, string>();
  convertDoesNotFit(m: BlockMeta): string | undefined {
    return this.tooBigToConvert.get(m.ulid);
  }
  /** The block's span: enough for the fake's blocks. */
  blockRange(m: BlockMeta): number {
    return m.maxTime - m.minTime;
  }
  /** Scripted: writes the mark (one shard) beside the block, as the real converter does last. */
  convertFails = 0;
  async convert(ref: BlockRef, _meta: BlockMeta): Promise<ParquetMark> {
    this.calls.push(`convert ${ref.block}`);
    if (this.convertFails > 0) {
      this.convertFails--;
      throw new Error("injected conversion failure");
    }
    await this.bucket.putReport(ref, "parquet-converter-mark.json", '{"version":2,"shards":1}');
    return { version: 2, shards: 1 };
  }
  async plan(tenant: string, blocks: readonly LiveBlock[], groupKey?: string): Promise<PlanOutcome> {
    this.calls.push(`plan ${groupKey ?? "*"} (${blocks.length} blocks)`);
    return this.planner(tenant, blocks, groupKey);
  }
  /** Written blocks not yet visible (their meta.json not stored), for verify() of a staged output. */
  private readonly staging = new Map<string, BlockMeta>();

  /** What a real engine does before storing meta.json: the caller's check on the staged block. */
  private async stage(tenant: string, out: BlockMeta, check?: OutputCheck): Promise<void> {
    if (!check) return;
    this.staging.set(out.ulid, out);
    try {
      await check(
        { tenant, block: out.ulid },
        new MemoryBlock(out.ulid),
        metaBytes(out.ulid, (this.bucket.get({ tenant, block: out.ulid })?.metaVersion ?? 0) + 1),
      );
    } finally {
      this.staging.delete(out.ulid);
    }
  }

  async compact(
    tenant: string,
    job: CompactJob,
    opts: WriteOptions & { shards?: readonly number[] } = {},
  ): Promise<BlockMeta[]> {
    const { shards, check } = opts;
    this.calls.push(`compact ${job.plan.inputs.join(",")}${shards ? ` shards ${shards.join(",")}` : ""}`);
    const inputs = job.plan.inputs.map((b) => this.bucket.get({ tenant, block: b })!.meta!);
    const n = job.plan.shardCount;
    const outputs: BlockMeta[] = [];
    for (const shard of n === undefined ? [undefined] : (shards ?? Array.from({ length: n }, (_, i) => i))) {
      const labels = inputs[0]!.thanos?.labels ?? undefined;
      const out = meta({
        minTime: Math.min(...inputs.map((m) => m.minTime)),
        maxTime: Math.max(...inputs.map((m) => m.maxTime)),
        level: Math.max(...inputs.map((m) => m.compaction.level)) + 1,
        sources: [...new Set(inputs.flatMap((m) => m.compaction.sources ?? [m.ulid]))].sort(),
        labels: shard === undefined ? labels : { ...labels, __compactor_shard_id__: `${shard + 1}_of_${n}` },
        resolution: inputs[0]!.thanos?.downsample?.resolution,
      });
      await this.stage(tenant, out, check);
      this.bucket.upload(tenant, out);
      outputs.push(out);
      if (this.crashAfterShards !== undefined && outputs.length >= this.crashAfterShards) {
        this.crashAfterShards = undefined;
        throw new Error(`compactor died after writing ${outputs.length} shard(s)`);
      }
    }
    return outputs;
  }
  async downsample(ref: BlockRef, resolution: DownsampleResolution, { check }: WriteOptions = {}): Promise<BlockMeta> {
    this.calls.push(`downsample ${ref.block} ${resolution}`);
    const src = this.bucket.get(ref)!.meta!;
    const out = meta({
      ...src,
      ulid: undefined,
      resolution,
      labels: src.thanos?.labels ?? undefined,
      sources: src.compaction.sources,
      level: src.compaction.level,
    });
    await this.stage(ref.tenant, out, check);
    this.bucket.upload(ref.tenant, out);
    return out;
  }
  async repair(ref: BlockRef, ulid: string, { check }: WriteOptions = {}): Promise<BlockMeta> {
    this.calls.push(`repair ${ref.block} into ${ulid}`);
    const failure = this.repairFailures.shift();
    if (failure) throw failure;
    const src = this.bucket.get(ref)!.meta!;
    const out = meta({
      ...src,
      ulid,
      labels: src.thanos?.labels ?? undefined,
      sources: [ulid],
      level: src.compaction.level,
      resolution: src.thanos?.downsample?.resolution,
    });
    await this.stage(ref.tenant, out, check);
    this.bucket.upload(ref.tenant, out);
    return out;
  }
}

export class RecordingQueue {
  readonly sent: Job[] = [];
  readonly bodies: string[] = [];
  /** The delay each sent job asked for (0 when none), in sending order. */
  readonly delays: number[] = [];
  /** Entries per `sendBatch` call, in calling order. */
  readonly batches: number[] = [];
  /** Refuse an entry of a batch (as SQS's `Failed`): return why, or undefined to send it. */
  failEntry?: (job: Job) => Omit<BatchEntryFailure, "index"> | undefined;
  /** The next N `sendBatch` calls reject whole (a failed request). */
  failCalls = 0;
  async send(job: Job, opts?: { delaySeconds?: number }): Promise<void> {
    this.bodies.push(encodeJob(job)); // the adapter's validation: an invalid job fails here
    this.sent.push(job);
    this.delays.push(opts?.delaySeconds ?? 0);
  }
  async sendBatch(entries: readonly BatchEntry[]): Promise<BatchEntryFailure[]> {
    if (entries.length < 1 || entries.length > 10) throw new Error(`a batch of ${entries.length} entries`);
    this.batches.push(entries.length);
    if (this.failCalls > 0) {
      this.failCalls--;
      throw new Error("injected failure of a whole batch call");
    }
    const failed: BatchEntryFailure[] = [];
    for (const [index, e] of entries.entries()) {
      const f = this.failEntry?.(e.job);
      if (f) failed.push({ index, ...f });
      else await this.send(e.job, e.opts);
    }
    return failed;
  }
  /** Take what was sent so far. */
  drain(): string[] {
    const b = this.bodies.splice(0);
    this.sent.splice(0);
    this.delays.splice(0);
    return b;
  }
}

export interface Harness {
  deps: WorkerDeps;
  bucket: FakeBucket;
  engines: FakeEngines;
  queue: RecordingQueue;
  clock: { t: number; now(): number };
  lines: Record<string, unknown>[];
}

export function harness(config: Partial<PipelineConfig> = {}): Harness {
  const clock = {
    t: T0 + 48 * HOUR,
    now() {
      return this.t;
    },
  };
  const bucket = new FakeBucket(clock);
  const engines = new FakeEngines(bucket);
  const queue = new RecordingQueue();
  const lines: Record<string, unknown>[] = [];
  const deps: WorkerDeps = {
    storage: bucket,
    index: bucket,
    leases: bucket,
    engines,
    queue,
    clock,
    log: jsonLogger(
      (l) => lines.push(JSON.parse(l)),
      {},
      () => clock.now(),
    ),
    config: { ...DEFAULT_CONFIG, ...config },
  };
  return { deps, bucket, engines, queue, clock, lines };
}

// --- real-format AWS events --------------------------------------------------------

const QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:strata-production-JobsQueue-abcd";
let msg = 0;

/** An SQS record exactly as the Lambda event source mapping delivers it. */
export function sqsRecord(body: string, opts: { messageId?: string; receiveCount?: number } = {}): SQSRecord {
  const sent = String(T0 + ++msg);
  return {
    messageId: opts.messageId ?? `059f36b4-87a3-44ab-83d2-${String(msg).padStart(12, "0")}`,
    receiptHandle: `AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a${msg}...`,
    body,
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: sent,
      SenderId: "AIDAIENQZJOLO23YVJ4VO",
      ApproximateFirstReceiveTimestamp: sent,
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: QUEUE_ARN,
    awsRegion: "us-east-1",
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** The S3 notification body for created objects, keys URL-encoded as S3 does (`+` for space). */
export function s3EventBody(
  keys: string[],
  opts: { eventName?: string; bucket?: string; encode?: boolean } = {},
): string {
  const bucket = opts.bucket ?? "strata-blocks";
  return JSON.stringify({
    Records: keys.map((key, i) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2026-01-03T00:00:00.000Z",
      eventName: opts.eventName ?? "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:AIDAINPONIXQXHT3IKHL2" },
      requestParameters: { sourceIPAddress: "205.255.255.255" },
      responseElements: {
        "x-amz-request-id": "D82B88E5F771F645",
        "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=",
      },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "BlockUploaded",
        bucket: { name: bucket, ownerIdentity: { principalId: "A3I5XTEXAMAI3E" }, arn: `arn:aws:s3:::${bucket}` },
        object: {
          key: opts.encode === false ? key : encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"),
          size: 1024,
          eTag: "d41d8cd98f00b204e9800998ecf8427e",
          sequencer: `0055AED6DCD9028${i}`,
        },
      },
    })),
  });
}

/** The body S3 sends when a notification configuration is saved (AWS's documented sample). */
export const S3_TEST_EVENT = JSON.stringify({
  Service: "Amazon S3",
  Event: "s3:TestEvent",
  Time: "2014-10-13T15:57:02.089Z",
  Bucket: "strata-blocks",
  RequestId: "5582815E1AEA5ADF",
  HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
});

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "strata-production-JobsSubscriber",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:strata-production-JobsSubscriber",
  memoryLimitInMB: "3008",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  logGroupName: "/aws/lambda/strata-production-JobsSubscriber",
  logStreamName: "2026/01/03/[$LATEST]abcdef",
  getRemainingTimeInMillis: () => 900_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
