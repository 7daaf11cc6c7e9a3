/**
 * The queue's message contract. One SQS body is one of three things:
 *  - an S3 event notification (`Records`), sent by the bucket's `notify` rule for
 *    `ObjectCreated:*` on keys ending in `meta.json`;
 *  - the `s3:TestEvent` S3 sends whenever the notification configuration changes;
 *  - a Strata job: a discriminated union on `type`, with `version: 1` (compact jobs: 2,
 *    version 1 still read and converted).
 * Everything is validated here, at the edge; a bad body throws `MessageError`, which fails
 * only its own record (partial batch response) and, after the queue's retries, lands in the DLQ.
 */
import { z } from "zod";
import { isUlid, META_FILE, RESOLUTION_1H, RESOLUTION_5M } from "@strata/tsdb";
import { ROOT_TENANT, parseBlockKey, tenantProblem } from "@strata/bucket";
import { PlanSchema } from "@strata/compact";
import { planId } from "@strata/compact";
import { PipelineError } from "./errors.ts";

export const JOB_MESSAGE_VERSION = 1;

// --- shared field schemas ----------------------------------------------------------

/** A canonical (upper-case) ULID: block directories are named exactly so. */
export const BlockIdSchema = z
  .string()
  .refine((s) => isUlid(s) && s === s.toUpperCase(), { message: "not a canonical (upper-case) ULID" });

/**
 * The bucket's tenant rule (`tenantProblem` of `@strata/bucket/keys`: 1–150 bytes of UTF-8,
 * no `/`, control, bidi or zero-width characters, not `.`/`..`, not starting with `.` or
 * `__`, not ULID-shaped, not a reserved name); "" is the bucket-root tenant.
 */
export const TenantSchema = z.string().superRefine((t, ctx) => {
  const problem = t === ROOT_TENANT ? undefined : tenantProblem(t);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Target resolution of a downsampling job (raw is not a target). */
export const DownsampleResolutionSchema = z.union([z.literal(RESOLUTION_5M), z.literal(RESOLUTION_1H)], {
  error: `resolution must be ${RESOLUTION_5M} (5m) or ${RESOLUTION_1H} (1h) milliseconds`,
});

// --- Strata job messages -----------------------------------------------------------

const version = z.literal(JOB_MESSAGE_VERSION);
/** Optional correlation id (for example set by `strata replay`); logs fall back to the SQS message id. */
const id = z.string().min(1).max(200).optional();
/** How many times this job was re-sent with a delay (an upload in progress, a busy lease): sets the next delay. */
const retry = z.number().int().min(0).max(1000).optional();

export const VerifyJobSchema = z.strictObject({
  version,
  id,
  retry,
  type: z.literal("verify"),
  tenant: TenantSchema,
  block: BlockIdSchema,
});

/**
 * The compact job is the planner's plan and nothing else: tenant, group, inputs and output
 * are the plan's, its id keys the lease (`compactLeaseName`). Version 2; version 1 (the plan
 * with copies of its tenant, group and inputs beside it) is still read and converted.
 */
export const COMPACT_JOB_VERSION = 2;

/**
 * The `@strata/compact` plan as a message may carry it: the bucket's tenant rule, canonical distinct inputs, and the id
 * of its own work.
 */
const CompactPlanSchema = PlanSchema.superRefine((p, ctx) => {
  const tenant = TenantSchema.safeParse(p.tenant);
  if (!tenant.success)
    for (const i of tenant.error.issues) ctx.addIssue({ code: "custom", path: ["tenant"], message: i.message });
  p.inputs.forEach((u, i) => {
    if (!BlockIdSchema.safeParse(u).success)
      ctx.addIssue({ code: "custom", path: ["inputs", i], message: "not a canonical (upper-case) ULID" });
  });
  if (new Set(p.inputs).size !== p.inputs.length)
    ctx.addIssue({ code: "custom", path: ["inputs"], message: "input blocks must be distinct" });
  // Duplicate sends of one plan must share a lease, and two plans never: the id must be its work's.
  const want = planId(p);
  if (p.id !== want)
    ctx.addIssue({
      code: "custom",
      path: ["id"],
      message: `${JSON.stringify(p.id)} is not the id of the plan's inputs and output (${want}); the lease is keyed on it`,
    });
});

export const CompactJobSchema = z.strictObject({
  version: z.literal(COMPACT_JOB_VERSION),
  id,
  retry,
  type: z.literal("compact"),
  /** The compaction planner's plan, run as it is (`executePlan`). */
  plan: CompactPlanSchema,
});

/** A compact job as version 1 wrote it: the plan with copies of its tenant, group and inputs, which had to agree. */
const CompactJobV1Schema = z
  .strictObject({
    version: z.literal(1),
    id,
    retry,
    type: z.literal("compact"),
    tenant: TenantSchema,
    groupKey: z.string().min(1),
    blocks: z
      .array(BlockIdSchema)
      .min(1)
      .refine((b) => new Set(b).size === b.length, { message: "input blocks must be distinct" }),
    plan: PlanSchema,
  })
  .superRefine((j, ctx) => {
    const a = [...j.blocks].sort().join(",");
    const b = [...j.plan.inputs].sort().join(",");
    if (a !== b)
      ctx.addIssue({
        code: "custom",
        path: ["plan", "inputs"],
        message: `plan inputs [${b}] differ from the job's blocks [${a}]`,
      });
    if (j.plan.groupKey !== j.groupKey)
      ctx.addIssue({
        code: "custom",
        path: ["plan", "groupKey"],
        message: `plan group ${j.plan.groupKey} differs from the job's ${j.groupKey}`,
      });
    if (j.plan.tenant !== j.tenant)
      ctx.addIssue({
        code: "custom",
        path: ["plan", "tenant"],
        message: `plan tenant ${JSON.stringify(j.plan.tenant)} differs from the job's ${JSON.stringify(j.tenant)}`,
      });
  });

/**
 * A version-1 compact job (still on a queue or in a DLQ after an upgrade) as version 2: the
 * copies are checked against the plan as before, then dropped; the plan's id is made again
 * (version-1 ids did not name the inputs), so the job takes the same lease as the same plan
 * sent now.
 */
function compactJobFromV1(obj: Record<string, unknown>): CompactJob {
  const old = CompactJobV1Schema.safeParse(obj);
  if (!old.success) throw new MessageError("invalid compact job (version 1)", zodIssues(old.error));
  const { version: _v, tenant: _t, groupKey: _g, blocks: _b, plan, ...rest } = old.data;
  const r = CompactJobSchema.safeParse({ ...rest, version: COMPACT_JOB_VERSION, plan: { ...plan, id: planId(plan) } });
  if (!r.success) throw new MessageError("invalid compact job (version 1)", zodIssues(r.error));
  return r.data;
}

export const DownsampleJobSchema = z.strictObject({
  version,
  id,
  retry,
  type: z.literal("downsample"),
  tenant: TenantSchema,
  block: BlockIdSchema,
  resolution: DownsampleResolutionSchema,
});

/** Convert one indexed block to Parquet (parquet-common's files and Cortex's converter mark, in the block's folder). */
export const ConvertJobSchema = z.strictObject({
  version,
  id,
  retry,
  type: z.literal("convert"),
  tenant: TenantSchema,
  block: BlockIdSchema,
});

/** Run the planner for one group, or for every group of the tenant. */
export const PlanJobSchema = z.strictObject({
  version,
  id,
  type: z.literal("plan"),
  tenant: TenantSchema,
  groupKey: z.string().min(1).optional(),
});

/** Apply retention; without a tenant, fan out one retention job per tenant. */
export const RetentionJobSchema = z.strictObject({
  version,
  id,
  type: z.literal("retention"),
  tenant: TenantSchema.optional(),
});

/** Delete blocks past the delete delay and mark stale partial uploads; without a tenant, fan out. */
export const CleanupJobSchema = z.strictObject({
  version,
  id,
  type: z.literal("cleanup"),
  tenant: TenantSchema.optional(),
});

/** Rebuild the tenant's bucket index from a listing, then re-plan it (catches missed events). */
export const IndexSyncJobSchema = z.strictObject({ version, id, type: z.literal("index-sync"), tenant: TenantSchema });

/**
 * One page of the bucket's tenant listing (the hourly schedule's fan-out, jobs/schedule-page.ts):
 * send retention, cleanup and index-sync for each tenant on it, then the next page's job.
 */
export const SchedulePageJobSchema = z.strictObject({
  version,
  id,
  type: z.literal("schedule-page"),
  /** The listing's continuation token (opaque, the store's); absent: the first page. */
  token: z.string().min(1).max(4096).optional(),
  /** 0 for the first page: for logs and the DLQ. */
  page: z.number().int().min(0).max(10_000_000).optional(),
  /** An earlier page had the bucket-root tenant (its block folders may span pages). */
  rootSeen: z.literal(true).optional(),
});

export const JobSchema = z.discriminatedUnion("type", [
  VerifyJobSchema,
  CompactJobSchema,
  DownsampleJobSchema,
  PlanJobSchema,
  RetentionJobSchema,
  CleanupJobSchema,
  IndexSyncJobSchema,
  SchedulePageJobSchema,
  ConvertJobSchema,
]);

export type VerifyJob = z.infer<typeof VerifyJobSchema>;
export type CompactJob = z.infer<typeof CompactJobSchema>;
export type DownsampleJob = z.infer<typeof DownsampleJobSchema>;
export type PlanJob = z.infer<typeof PlanJobSchema>;
export type RetentionJob = z.infer<typeof RetentionJobSchema>;
export type CleanupJob = z.infer<typeof CleanupJobSchema>;
export type IndexSyncJob = z.infer<typeof IndexSyncJobSchema>;
export type SchedulePageJob = z.infer<typeof SchedulePageJobSchema>;
export type ConvertJob = z.infer<typeof ConvertJobSchema>;
export type Job = z.infer<typeof JobSchema>;
export type JobType = Job["type"];
export type DownsampleResolution = z.infer<typeof DownsampleResolutionSchema>;

export const JOB_TYPES: readonly JobType[] = [
  "verify",
  "compact",
  "downsample",
  "plan",
  "retention",
  "cleanup",
  "index-sync",
  "schedule-page",
  "convert",
];

// --- S3 event notifications --------------------------------------------------------

// Loose objects: S3 adds fields over time (eventVersion 2.1 → 2.3); only what we use is checked.
const S3EventRecordSchema = z.looseObject({
  eventSource: z.literal("aws:s3"),
  eventName: z.string().min(1),
  eventTime: z.string().min(1),
  awsRegion: z.string().optional(),
  s3: z.looseObject({
    configurationId: z.string().optional(),
    bucket: z.looseObject({ name: z.string().min(1) }),
    object: z.looseObject({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const S3EventSchema = z.looseObject({ Records: z.array(S3EventRecordSchema).min(1, { message: "no records" }) });

const S3TestEventSchema = z.looseObject({
  Service: z.literal("Amazon S3"),
  Event: z.literal("s3:TestEvent"),
  Bucket: z.string(),
  Time: z.string().optional(),
});

/** A completed block upload: its `meta.json` was created. */
export interface BlockUpload {
  tenant: string;
  block: string;
  bucket: string;
  /** The decoded object key. */
  key: string;
  eventName: string;
  eventTime: string;
  eTag?: string;
  sequencer?: string;
}

/** A well-formed record that is not a block upload (acknowledged, logged, not retried). */
export interface IgnoredRecord {
  bucket: string;
  key: string;
  eventName: string;
  reason: string;
}

export type ParsedMessage =
  | { kind: "s3"; records: BlockUpload[]; ignored: IgnoredRecord[] }
  | { kind: "test-event"; bucket: string }
  | { kind: "job"; job: Job };

export interface MessageIssue {
  /** Dotted path into the body, e.g. `Records.0.s3.object.key`; "" for the body itself. */
  path: string;
  message: string;
}

/** A queue body that cannot be processed as it is: retrying will not help, the DLQ will keep it. */
export class MessageError extends PipelineError {
  override readonly name = "MessageError";
  readonly issues: readonly MessageIssue[];
  constructor(summary: string, issues: readonly MessageIssue[] = [], options?: ErrorOptions) {
    const detail = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    super(detail ? `${summary}: ${detail}` : summary, options);
    this.issues = issues;
  }
}

/** S3 URL-encodes keys in notifications, with `+` for a space. */
export function decodeS3Key(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, " "));
}

/**
 * The block a key names, if it is `<tenant>/<ULID>/meta.json` or `<ULID>/meta.json`;
 * otherwise the reason it is not.
 */
export function blockOfMetaKey(key: string): { tenant: string; block: string } | { reason: string } {
  if (key.slice(key.lastIndexOf("/") + 1) !== META_FILE) return { reason: `not a ${META_FILE}` };
  const k = parseBlockKey(key, ROOT_TENANT);
  if ("reason" in k) return { reason: k.reason };
  if (k.file !== META_FILE) return { reason: `expected <tenant>/<ULID>/${META_FILE} or <ULID>/${META_FILE}` };
  if (!BlockIdSchema.safeParse(k.block).success) return { reason: `directory "${k.block}" is not a canonical ULID` };
  return { tenant: k.tenant, block: k.block };
}

/** Parse one SQS message body. Throws `MessageError` naming every problem and where it is. */
export function parseQueueBody(body: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    throw new MessageError(
      `body is not JSON (${(e as Error).message}); it starts ${JSON.stringify(body.slice(0, 60))}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MessageError(
      `body must be a JSON object, found ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`,
    );
  }
  const obj = value as Record<string, unknown>;
  if ("Records" in obj) return parseS3Event(obj);
  if (obj.Event === "s3:TestEvent") {
    const t = S3TestEventSchema.safeParse(obj);
    if (!t.success) throw new MessageError("invalid s3:TestEvent", zodIssues(t.error));
    return { kind: "test-event", bucket: t.data.Bucket };
  }
  if ("type" in obj || "version" in obj) return { kind: "job", job: parseJob(obj) };
  throw new MessageError(
    `unrecognised message: expected an S3 event notification (Records), an s3:TestEvent, or a Strata job ({version, type, …}); found keys [${Object.keys(obj).join(", ")}]`,
  );
}

/** Validate a job object (already JSON-decoded). */
export function parseJob(value: unknown): Job {
  const obj = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (obj.type === "compact" && obj.version === 1) return compactJobFromV1(obj);
  const want = obj.type === "compact" ? COMPACT_JOB_VERSION : JOB_MESSAGE_VERSION;
  if (obj.version !== want) {
    const also = obj.type === "compact" ? " (and converts version 1)" : "";
    throw new MessageError(
      `unsupported job message version ${JSON.stringify(obj.version)}: this worker reads version ${want}${also}`,
    );
  }
  if (typeof obj.type !== "string" || !(JOB_TYPES as readonly string[]).includes(obj.type)) {
    throw new MessageError(`unknown job type ${JSON.stringify(obj.type)}: expected one of ${JOB_TYPES.join(", ")}`);
  }
  const r = JobSchema.safeParse(obj);
  if (!r.success) throw new MessageError(`invalid ${obj.type} job`, zodIssues(r.error));
  return r.data;
}

/** The version a producer stamps on a job of this type (compact jobs are at 2, the others at 1). */
export function jobVersion(type: JobType): number {
  return type === "compact" ? COMPACT_JOB_VERSION : JOB_MESSAGE_VERSION;
}

/** The tenant a job is for: a compact job's is its plan's; undefined for a job that fans out over every tenant. */
export function jobTenant(job: VerifyJob | CompactJob | DownsampleJob | ConvertJob): string;
export function jobTenant(job: Job): string | undefined;
export function jobTenant(job: Job): string | undefined {
  return job.type === "compact" ? job.plan.tenant : "tenant" in job ? job.tenant : undefined;
}

/** The body a producer sends: validated, so no invalid job ever reaches the queue. */
export function encodeJob(job: Job): string {
  return JSON.stringify(parseJob(job));
}

function parseS3Event(obj: Record<string, unknown>): ParsedMessage {
  const r = S3EventSchema.safeParse(obj);
  if (!r.success) throw new MessageError("invalid S3 event notification", zodIssues(r.error));
  const records: BlockUpload[] = [];
  const ignored: IgnoredRecord[] = [];
  r.data.Records.forEach((rec, i) => {
    const bucket = rec.s3.bucket.name;
    let key: string;
    try {
      key = decodeS3Key(rec.s3.object.key);
    } catch {
      throw new MessageError("invalid S3 event notification", [
        { path: `Records.${i}.s3.object.key`, message: `not a URL-encoded key: ${JSON.stringify(rec.s3.object.key)}` },
      ]);
    }
    const base = { bucket, key, eventName: rec.eventName };
    if (!rec.eventName.startsWith("ObjectCreated:")) {
      ignored.push({ ...base, reason: "not an ObjectCreated event" });
      return;
    }
    const b = blockOfMetaKey(key);
    if ("reason" in b) {
      ignored.push({ ...base, reason: b.reason });
      return;
    }
    records.push({
      ...base,
      ...b,
      eventTime: rec.eventTime,
      eTag: rec.s3.object.eTag,
      sequencer: rec.s3.object.sequencer,
    });
  });
  return { kind: "s3", records, ignored };
}

function zodIssues(error: z.ZodError): MessageIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}
