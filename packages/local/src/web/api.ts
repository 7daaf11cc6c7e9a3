/**
 * The JSON API of the page (`strata web`, the local runtime's HTTP port): one zod schema per
 * response. The server parses every response through its schema before sending it, and the
 * tests parse what they receive with the same schemas, so the contract cannot drift.
 * Tenants are named as people read them (`__root__` for the bucket root).
 */
import { z } from "zod";

export const BLOCK_STATES = ["live", "pending", "marked", "quarantined", "broken", "partial"] as const;

const MarkSchema = z.object({
  /** Unix seconds. */
  time: z.number(),
  reason: z.string().optional(),
  details: z.string().optional(),
});

/** A block as `strata ls` lists it, with its state and compaction group (`BlockView` of @strata/pipeline). */
export const BlockSchema = z.object({
  /** The tenant as people read it (`__root__`). */
  tenant: z.string(),
  block: z.string(),
  state: z.enum(BLOCK_STATES),
  sizeBytes: z.number(),
  objects: z.number().int(),
  lastModified: z.number(),
  /** Why meta.json cannot be trusted; the meta fields are absent when it does not parse. */
  problem: z.string().optional(),
  minTime: z.number().optional(),
  maxTime: z.number().optional(),
  level: z.number().int().optional(),
  resolution: z.number().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  shard: z.string().optional(),
  series: z.number().optional(),
  samples: z.number().optional(),
  chunks: z.number().optional(),
  marks: z.object({
    deletion: MarkSchema.omit({ reason: true }).optional(),
    noCompact: MarkSchema.required({ reason: true }).optional(),
    noDownsample: MarkSchema.required({ reason: true }).optional(),
    quarantine: z.object({ reason: z.string(), problems: z.number().int() }).optional(),
    unreadable: z.array(z.object({ file: z.string(), problem: z.string() })).optional(),
  }),
  indexed: z.boolean(),
  verified: z.boolean(),
  parquet: z.boolean().optional(),
  group: z.string().optional(),
  groupLabels: z.record(z.string(), z.string()).optional(),
});

export const IndexSchema = z.object({
  present: z.boolean(),
  updatedAt: z.number().optional(),
  ageSeconds: z.number().optional(),
  blocks: z.number().int().optional(),
  error: z.string().optional(),
});

export const TenantSummarySchema = z.object({
  tenant: z.string(),
  blocks: z.number().int(),
  states: z.record(z.string(), z.number().int()),
  index: IndexSchema,
  /** Undefined when the planner could not run (`plansError`). */
  pendingCompactions: z.number().int().optional(),
  pendingDownsamples: z.number().int().optional(),
  plansError: z.string().optional(),
});

export const QueuesSchema = z.object({ jobs: z.number().int(), dlq: z.number().int() });

export const StatusResponse = z.object({
  bucket: z.string(),
  /** ms since the epoch. */
  generatedAt: z.number(),
  refreshSeconds: z.number(),
  /** Null when the server does not know the queues (`strata web` on a bucket). */
  queues: QueuesSchema.nullable(),
  queuesError: z.string().optional(),
  tenants: z.array(TenantSummarySchema),
});

export const TenantsResponse = z.object({ tenants: z.array(TenantSummarySchema) });

export const BlocksResponse = z.object({ tenant: z.string(), index: IndexSchema, blocks: z.array(BlockSchema) });

export const PlansResponse = z.object({
  tenant: z.string(),
  error: z.string().optional(),
  compactions: z.array(z.object({ kind: z.string(), inputs: z.array(z.string()), reason: z.string() })),
  downsamples: z.array(z.object({ block: z.string(), resolution: z.number() })),
  refused: z.array(z.object({ block: z.string(), reason: z.string(), details: z.string() })),
  failing: z.array(z.object({ job: z.string(), attempts: z.number(), errors: z.array(z.string()) })),
});

export const BlockDetailResponse = z.object({
  tenant: z.string(),
  block: BlockSchema,
  files: z.array(z.object({ name: z.string(), size: z.number() })),
  /** meta.json as stored (JSON), absent with `metaError`. */
  meta: z.unknown().optional(),
  metaError: z.string().optional(),
  marks: z.object({ deletion: z.unknown(), noCompact: z.unknown(), noDownsample: z.unknown() }).partial(),
  verifyReport: z.unknown().optional(),
  planReport: z.unknown().optional(),
  verified: z.unknown().optional(),
});

export const ErrorResponse = z.object({ error: z.string() });

export type Block = z.infer<typeof BlockSchema>;
export type TenantSummary = z.infer<typeof TenantSummarySchema>;
export type Status = z.infer<typeof StatusResponse>;
export type Blocks = z.infer<typeof BlocksResponse>;
export type Plans = z.infer<typeof PlansResponse>;
export type BlockDetailBody = z.infer<typeof BlockDetailResponse>;
export type Queues = z.infer<typeof QueuesSchema>;
