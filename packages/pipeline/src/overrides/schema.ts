/**
 * The per-tenant overrides document, `strata-overrides.json` at the bucket root (under the
 * bucket URL's prefix, if any), in the spirit of Mimir's runtime overrides: a `defaults` block
 * and one block per tenant, each setting only what differs from the environment's settings.
 *
 *   { "defaults": { "retention": { "raw": "30d" } },
 *     "tenants": { "team-a": { "retention": { "raw": "7d", "5m": "90d" }, "replicaLabels": ["replica"],
 *                              "splitShards": 4, "enabled": true } } }
 *
 * Durations are tsdb's (`30d`, `48h`, `0` = forever); tenants are named as the CLI names them
 * (`__root__` for blocks at the bucket root). Unknown fields are refused (a typo must not
 * silently keep data forever).
 */
import { z } from "zod";
import { ROOT_TENANT_NAME, tenantProblem } from "@strata/bucket";
import { DURATION_FORM, tryParseDuration } from "@strata/tsdb";

/** The document's key, relative to the bucket (or its prefix). */
export const OVERRIDES_KEY = "strata-overrides.json";
/** A larger document is refused unread: it is read by every worker, and the bucket is hostile. */
export const MAX_OVERRIDES_BYTES = 1 << 20;
/** Split shards above this are refused: a typo must not plan thousands of outputs per group. */
export const MAX_SPLIT_SHARDS = 128;

const duration = z.string().refine((t) => tryParseDuration(t) !== undefined, { error: `expected ${DURATION_FORM}` });

// Prometheus label names; the same check a replica label gets anywhere else.
const labelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "expected a label name like replica or prometheus_replica");

export const TenantOverridesSchema = z.strictObject({
  /** Per resolution: how long its blocks are kept (`0` = forever). */
  retention: z
    .strictObject({ raw: duration.optional(), "5m": duration.optional(), "1h": duration.optional() })
    .optional(),
  /** External labels telling HA replicas apart (replaces the global list; `[]` = none). */
  replicaLabels: z.array(labelName).max(32).optional(),
  /** Split-and-merge shards per split; 0 = off (leveled planning). */
  splitShards: z.int().min(0).max(MAX_SPLIT_SHARDS).optional(),
  /** false: the tenant's jobs are acknowledged and skipped; nothing is written or deleted. */
  enabled: z.boolean().optional(),
  /** Convert the tenant's blocks to Parquet (replaces STRATA_PARQUET). */
  parquet: z.boolean().optional(),
});

export const OverridesSchema = z
  .strictObject({
    defaults: TenantOverridesSchema.optional(),
    tenants: z.record(z.string(), TenantOverridesSchema).optional(),
  })
  .superRefine((doc, ctx) => {
    // Checked here rather than as the record's key schema, so the issue names the tenant and the rule.
    for (const t of Object.keys(doc.tenants ?? {})) {
      const problem = t === ROOT_TENANT_NAME ? undefined : tenantProblem(t);
      if (problem)
        ctx.addIssue({
          code: "custom",
          path: ["tenants", t],
          message: `invalid tenant ${JSON.stringify(t)}: ${problem}`,
        });
    }
  });

export type TenantOverrides = z.infer<typeof TenantOverridesSchema>;
export type OverridesDocument = z.infer<typeof OverridesSchema>;

/** The empty document: every tenant on the environment's settings. */
export const NO_OVERRIDES: OverridesDocument = Object.freeze({});

/**
 * The document from `bytes`, or one line saying what is wrong with it (too large, not JSON, the
 * first schema issues with their paths).
 */
export function parseOverrides(
  bytes: Uint8Array | string,
): { ok: true; doc: OverridesDocument } | { ok: false; error: string } {
  const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MAX_OVERRIDES_BYTES)
    return { ok: false, error: `${OVERRIDES_KEY}: ${size} bytes, more than the ${MAX_OVERRIDES_BYTES}-byte limit` };
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === "string" ? bytes : new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    return { ok: false, error: `${OVERRIDES_KEY}: not JSON: ${(e as Error).message}` };
  }
  const r = OverridesSchema.safeParse(json);
  if (r.success) return { ok: true, doc: r.data };
  const issues = r.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(document)"}: ${i.message}`);
  const more = r.error.issues.length > 5 ? ` (and ${r.error.issues.length - 5} more)` : "";
  return { ok: false, error: `${OVERRIDES_KEY}: ${issues.join("; ")}${more}` };
}

/** The document as written back: stable two-space JSON with a final newline. */
export function encodeOverrides(doc: OverridesDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
