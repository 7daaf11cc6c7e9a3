/**
 * What `strata overrides show|set|unset` run against a bucket: the document with every tenant's
 * effective settings, and edits as read-modify-write with a compare-and-swap on the document's
 * ETag (two operators' edits never overwrite each other; the loser is told to run again).
 */
import { tenantFromName, tenantName, type ObjectStore } from "@strata/bucket";
import { RESOLUTION_1H, RESOLUTION_5M, RESOLUTION_RAW, formatDuration } from "@strata/tsdb";
import { pipelineLayout } from "../bindings/index.ts";
import { readSettings } from "../settings.ts";
import { type BaseSettings, tenantSettings } from "./apply.ts";
import { readOverrides, writeOverrides } from "./load.ts";
import { OVERRIDES_KEY, OverridesSchema, type OverridesDocument, type TenantOverrides } from "./schema.ts";

/** One tenant's settings as an operator reads them (durations as text, `0` = forever). */
export interface EffectiveSettings {
  enabled: boolean;
  retention: { raw: string; "5m": string; "1h": string };
  replicaLabels: readonly string[];
  dedup: string;
  /** 0 = split-and-merge off. */
  splitShards: number;
  /** Whether the document names this tenant (else: defaults block and global settings only). */
  overridden: boolean;
}

export interface OverridesView {
  key: string;
  exists: boolean;
  etag: string;
  document: OverridesDocument;
  /** By the CLI's tenant name (`__root__` for the bucket root). */
  tenants: Record<string, EffectiveSettings>;
}

/**
 * The global settings from `STRATA_*` variables (the CLI passes its environment; unset ones
 * keep their defaults). Throws SettingsError on a malformed one.
 */
export function globalSettings(env: Readonly<Record<string, string | undefined>>): BaseSettings {
  const v = readSettings(
    Object.fromEntries(
      Object.entries(env).filter(
        ([k]) =>
          k.startsWith("STRATA_RETENTION_") ||
          k === "STRATA_REPLICA_LABELS" ||
          k.startsWith("STRATA_SPLIT_") ||
          k === "STRATA_DEDUP",
      ),
    ),
  );
  const labels = v.STRATA_REPLICA_LABELS;
  return {
    retention: {
      [RESOLUTION_RAW]: v.STRATA_RETENTION_RAW,
      [RESOLUTION_5M]: v.STRATA_RETENTION_5M,
      [RESOLUTION_1H]: v.STRATA_RETENTION_1H,
    },
    replicaLabels: labels,
    dedup: v.STRATA_DEDUP ?? (labels.length > 0 ? "penalty" : "1:1"),
    ...(v.STRATA_SPLIT_SHARDS !== undefined
      ? {
          split: {
            shardCount: v.STRATA_SPLIT_SHARDS,
            minSeries: v.STRATA_SPLIT_MIN_SERIES,
            minIndexBytes: v.STRATA_SPLIT_MIN_INDEX_BYTES,
          },
        }
      : {}),
  };
}

/**
 * The document and the effective settings of `tenant` (a CLI name), or of every tenant the
 * bucket holds or the document names. A stored document that is invalid comes back as its error.
 */
export async function showOverrides(
  store: ObjectStore,
  opts: { tenant?: string; base: BaseSettings },
): Promise<{ ok: true; view: OverridesView } | { ok: false; error: string }> {
  const r = await readOverrides(store);
  if (!r.ok) return r;
  const names =
    opts.tenant !== undefined
      ? [opts.tenant]
      : [
          ...new Set([
            ...(await pipelineLayout().listTenants(store)).map(tenantName),
            ...Object.keys(r.doc.tenants ?? {}),
          ]),
        ].sort();
  const tenants: Record<string, EffectiveSettings> = {};
  for (const name of names) {
    const t = tenantSettings(r.doc, tenantFromName(name), opts.base);
    tenants[name] = {
      enabled: t.enabled,
      retention: {
        raw: formatDuration(t.retention[RESOLUTION_RAW]),
        "5m": formatDuration(t.retention[RESOLUTION_5M]),
        "1h": formatDuration(t.retention[RESOLUTION_1H]),
      },
      replicaLabels: t.replicaLabels,
      dedup: t.dedup,
      splitShards: t.split?.shardCount ?? 0,
      overridden: r.doc.tenants !== undefined && Object.hasOwn(r.doc.tenants, name),
    };
  }
  return { ok: true, view: { key: OVERRIDES_KEY, exists: r.exists, etag: r.etag, document: r.doc, tenants } };
}

export interface EditOptions {
  dryRun?: boolean;
  /** Write only if the stored document is still this ETag ("" = none yet); default: the one just read. */
  ifMatch?: string;
}

export type EditOutcome =
  | { ok: true; before: OverridesDocument; after: OverridesDocument; changed: boolean; written: boolean; etag: string }
  | { ok: false; error: string; conflict: boolean };

/** Merge `patch` into `tenant`'s block (a CLI name, or "*" for the defaults block). */
export function setTenantOverrides(
  store: ObjectStore,
  tenant: string,
  patch: TenantOverrides,
  opts: EditOptions = {},
): Promise<EditOutcome> {
  return edit(store, opts, (doc) => {
    const prev = block(doc, tenant) ?? {};
    const retention = patch.retention ? { ...prev.retention, ...patch.retention } : prev.retention;
    return withBlock(doc, tenant, { ...prev, ...patch, ...(retention ? { retention } : {}) });
  });
}

/** Remove `tenant`'s block ("*": the defaults block): it runs on the defaults block and global settings again. */
export function unsetTenantOverrides(store: ObjectStore, tenant: string, opts: EditOptions = {}): Promise<EditOutcome> {
  return edit(store, opts, (doc) => withBlock(doc, tenant, undefined));
}

/** The name `set`/`unset` take for the document's defaults block. */
export const DEFAULTS_BLOCK = "*";

function block(doc: OverridesDocument, tenant: string): TenantOverrides | undefined {
  if (tenant === DEFAULTS_BLOCK) return doc.defaults;
  return doc.tenants && Object.hasOwn(doc.tenants, tenant) ? doc.tenants[tenant] : undefined;
}

function withBlock(doc: OverridesDocument, tenant: string, b: TenantOverrides | undefined): OverridesDocument {
  const out: OverridesDocument = { ...doc };
  if (tenant === DEFAULTS_BLOCK) {
    if (b) out.defaults = b;
    else delete out.defaults;
    return out;
  }
  const tenants = { ...doc.tenants };
  if (b) tenants[tenant] = b;
  else delete tenants[tenant];
  if (Object.keys(tenants).length > 0) out.tenants = tenants;
  else delete out.tenants;
  return out;
}

async function edit(
  store: ObjectStore,
  opts: EditOptions,
  change: (doc: OverridesDocument) => OverridesDocument,
): Promise<EditOutcome> {
  const r = await readOverrides(store);
  if (!r.ok)
    return {
      ok: false,
      conflict: false,
      error: `${r.error}; the stored document is invalid: fix or delete it before editing (the pipeline keeps the last valid one)`,
    };
  if (opts.ifMatch !== undefined && opts.ifMatch !== r.etag)
    return { ok: false, conflict: true, error: conflictLine(opts.ifMatch, r.etag) };
  const next = change(r.doc);
  const checked = OverridesSchema.safeParse(next);
  if (!checked.success) {
    const i = checked.error.issues[0]!;
    return { ok: false, conflict: false, error: `${OVERRIDES_KEY}: ${i.path.join(".")}: ${i.message}` };
  }
  const changed = JSON.stringify(checked.data) !== JSON.stringify(r.doc);
  if (!changed || opts.dryRun)
    return { ok: true, before: r.doc, after: checked.data, changed, written: false, etag: r.etag };
  const put = await writeOverrides(store, checked.data, r.etag);
  if (typeof put !== "string") return { ok: false, conflict: true, error: conflictLine(r.etag, undefined) };
  return { ok: true, before: r.doc, after: checked.data, changed, written: true, etag: put };
}

function conflictLine(expected: string, found: string | undefined): string {
  const was = expected === "" ? "absent" : `ETag ${expected}`;
  const now = found === undefined ? "it changed" : found === "" ? "it is absent now" : `it is ETag ${found} now`;
  return `${OVERRIDES_KEY}: changed since it was read (expected ${was}, ${now}): someone else edited it; show it and run the command again`;
}
