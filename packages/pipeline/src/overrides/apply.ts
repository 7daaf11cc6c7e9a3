/**
 * The settings one tenant runs with: the environment's (config.ts's shapes, from settings.ts),
 * then the document's `defaults` block, then the tenant's own block; each field replaces the
 * one below it. Pure: the jobs and engines call it with the overrides in force.
 */
import { tenantName } from "@strata/bucket";
import { RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW, tryParseDuration } from "@strata/tsdb";
import type { EngineSettings, PipelineConfig } from "../config.ts";
import { defaultDedup } from "../settings.ts";
import type { OverridesDocument, TenantOverrides } from "./schema.ts";

/** What a tenant's jobs read in place of the global retention, replica labels and split. */
export interface TenantSettings {
  /** false: the tenant's jobs are acknowledged and skipped (nothing written, nothing deleted). */
  enabled: boolean;
  retention: PipelineConfig["retention"];
  replicaLabels: readonly string[];
  dedup: EngineSettings["dedup"];
  split?: EngineSettings["split"];
  /** Convert the tenant's blocks to Parquet. */
  parquet: boolean;
}

/** The global settings a tenant's own are laid over. */
export interface BaseSettings {
  retention: PipelineConfig["retention"];
  replicaLabels: readonly string[];
  dedup: EngineSettings["dedup"];
  split?: EngineSettings["split"];
  parquet?: boolean;
}

/** `tenant` is the pipeline's name (`""` for the root tenant); the document uses the CLI's (`__root__`). */
export function tenantSettings(doc: OverridesDocument, tenant: string, base: BaseSettings): TenantSettings {
  const out: TenantSettings = {
    enabled: true,
    retention: { ...base.retention },
    replicaLabels: base.replicaLabels,
    dedup: base.dedup,
    ...(base.split ? { split: base.split } : {}),
    parquet: base.parquet ?? false,
  };
  const own =
    doc.tenants && Object.hasOwn(doc.tenants, tenantName(tenant)) ? doc.tenants[tenantName(tenant)] : undefined;
  for (const o of [doc.defaults, own]) if (o) layer(out, o, base);
  return out;
}

function layer(out: TenantSettings, o: TenantOverrides, base: BaseSettings): void {
  const ms = (t: string | undefined) => (t === undefined ? undefined : tryParseDuration(t));
  const r = o.retention;
  const raw = ms(r?.raw);
  const m5 = ms(r?.["5m"]);
  const h1 = ms(r?.["1h"]);
  if (raw !== undefined) out.retention[RESOLUTION_RAW] = raw;
  if (m5 !== undefined) out.retention[RESOLUTION_5M] = m5;
  if (h1 !== undefined) out.retention[RESOLUTION_1H] = h1;
  if (o.replicaLabels) {
    out.replicaLabels = o.replicaLabels;
    // A dedup mode derived from the global labels follows the tenant's; one set explicitly stays.
    if (base.dedup === defaultDedup(base.replicaLabels)) out.dedup = defaultDedup(o.replicaLabels);
  }
  if (o.splitShards !== undefined) {
    if (o.splitShards === 0) delete out.split;
    else out.split = { ...base.split, shardCount: o.splitShards };
  }
  if (o.enabled !== undefined) out.enabled = o.enabled;
  if (o.parquet !== undefined) out.parquet = o.parquet;
}

/** The base from the pipeline's two configuration shapes. */
export function baseSettings(
  config: Pick<PipelineConfig, "retention"> & Partial<Pick<PipelineConfig, "parquet">>,
  engine: Partial<EngineSettings>,
): BaseSettings {
  const replicaLabels = engine.replicaLabels ?? [];
  return {
    retention: config.retention,
    parquet: config.parquet?.enabled ?? false,
    replicaLabels,
    dedup: engine.dedup ?? defaultDedup(replicaLabels),
    ...(engine.split ? { split: engine.split } : {}),
  };
}
