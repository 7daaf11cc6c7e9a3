// `strata overrides show|set|unset`: the per-tenant overrides document (strata-overrides.json)
// through @strata/pipeline/operations; this file parses flags and prints.
import { tryParseDuration, DURATION_FORM } from "@strata/tsdb";
import type { EditOutcome, OverridesView, TenantOverrides } from "@strata/pipeline/operations";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { tenantOption } from "./ls.ts";
import { tenantName } from "@strata/bucket";

const ACTIONS = ["show", "set", "unset"] as const;
type Action = (typeof ACTIONS)[number];
/** Options only `set` takes. */
const SET_ONLY = [
  "retention-raw",
  "retention-5m",
  "retention-1h",
  "replica-label",
  "no-replica-labels",
  "split-shards",
  "enabled",
];
const MAX_SPLIT_SHARDS = 128;

export const overridesCommand: Command = {
  summary: "show or edit per-tenant settings in strata-overrides.json: retention, replica labels, split, enabled",
  usage:
    "overrides show|set|unset <bucket-url> [--tenant T | --defaults] [--retention-raw D] [--retention-5m D] [--retention-1h D] [--replica-label L]... [--no-replica-labels] [--split-shards N] [--enabled true|false] [--if-match ETAG] [--dry-run] [--json]",
  options: {
    tenant: { type: "string" },
    defaults: { type: "boolean" },
    "retention-raw": { type: "string" },
    "retention-5m": { type: "string" },
    "retention-1h": { type: "string" },
    "replica-label": { type: "string", multiple: true },
    "no-replica-labels": { type: "boolean" },
    "split-shards": { type: "string" },
    enabled: { type: "string" },
    "if-match": { type: "string" },
    "dry-run": { type: "boolean" },
    json: { type: "boolean" },
  },
  optionHelp: {
    tenant:
      "the tenant (__root__ = blocks at the bucket root); show: only this one; set/unset: required unless --defaults",
    defaults: "set/unset: the document's defaults block, which every tenant inherits before its own",
    "retention-raw": `set: keep raw blocks this long (${DURATION_FORM}; 0 = forever), e.g. 30d`,
    "retention-5m": "set: keep 5m-resolution blocks this long, e.g. 90d",
    "retention-1h": "set: keep 1h-resolution blocks this long, e.g. 1y",
    "replica-label": "set: an external label telling HA replicas apart (repeatable; replaces the list), e.g. replica",
    "no-replica-labels": "set: no replica labels for this tenant, whatever the global STRATA_REPLICA_LABELS",
    "split-shards": `set: split-and-merge shards per split (0 = off, at most ${MAX_SPLIT_SHARDS}), e.g. 4`,
    enabled: "set: false = the tenant's jobs are acknowledged and skipped (nothing deleted); true = back on",
    "if-match": "set/unset: write only if the document's ETag is still this one (as show --json printed; '' = absent)",
    "dry-run": "set/unset: print the document that would be written; write nothing",
    json: "show: the document, its ETag and each tenant's effective settings as JSON",
  },
  details: async () =>
    [
      "The document sits at the bucket root (under the URL's prefix): a defaults block and one block per tenant, each",
      "setting only what differs from the global STRATA_* settings. Workers re-read it within 30 s of a change. An edit",
      "is a read-modify-write with a compare-and-swap on the document's ETag: if someone else wrote in between, nothing",
      "is written and the command exits 1; run it again. show computes effective settings over this shell's STRATA_*",
      "variables (their defaults where unset): run it with the pipeline's settings for the deployed values.",
      "",
      "Examples:",
      "  strata overrides show s3://strata-blocks",
      "  strata overrides set s3://strata-blocks --tenant team-a --retention-raw 30d --retention-5m 90d --retention-1h 1y",
      "  strata overrides set file:///data/bucket --tenant team-b --replica-label replica --split-shards 4 --dry-run",
      "  strata overrides set s3://strata-blocks --tenant legacy --enabled false",
      "  strata overrides unset s3://strata-blocks --tenant team-a",
    ].join("\n"),
  run: runOverrides,
};

async function runOverrides([action, url, ...extra]: string[], values: Record<string, unknown>): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action ?? ""))
    throw new UsageError(`expected ${ACTIONS.join(", ")}, got ${JSON.stringify(action ?? "")}`);
  if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const act = action as Action;
  if (act !== "set") {
    const wrong = SET_ONLY.find((k) => values[k] !== undefined);
    if (wrong) throw new UsageError(`--${wrong}: only strata overrides set takes it`);
  }
  if (act === "show") {
    for (const k of ["defaults", "dry-run", "if-match"])
      if (values[k] !== undefined) throw new UsageError(`--${k}: only set and unset take it`);
  } else if (values.json !== undefined) throw new UsageError("--json: only strata overrides show takes it");
  const tenant = tenantOption(values.tenant, false);
  if (act !== "show" && (tenant === undefined) === (values.defaults !== true))
    throw new UsageError("give --tenant T or --defaults (the block every tenant inherits), one of them");
  const patch = act === "set" ? parsePatch(values) : undefined;
  const store = await openBucketArg(url);
  try {
    const ops = await import("@strata/pipeline/operations");
    if (act === "show") {
      let base;
      try {
        base = ops.globalSettings(process.env);
      } catch (e) {
        process.stderr.write(`strata overrides: ${(e as Error).message}\n`);
        return 1;
      }
      const r = await ops.showOverrides(store, { tenant: tenant === undefined ? undefined : tenantName(tenant), base });
      if (!r.ok) {
        process.stderr.write(`strata overrides: ${r.error}\n`);
        return 1;
      }
      process.stdout.write(values.json ? `${JSON.stringify(r.view, null, 2)}\n` : showText(store.url, r.view));
      return 0;
    }
    const block = tenant === undefined ? ops.DEFAULTS_BLOCK : tenantName(tenant);
    const opts = { dryRun: values["dry-run"] === true, ifMatch: values["if-match"] as string | undefined };
    const out =
      act === "set"
        ? await ops.setTenantOverrides(store, block, patch!, opts)
        : await ops.unsetTenantOverrides(store, block, opts);
    return report(block === ops.DEFAULTS_BLOCK ? "the defaults block" : block, out);
  } finally {
    await store.close?.();
  }
}

function parsePatch(values: Record<string, unknown>): TenantOverrides {
  const patch: TenantOverrides = {};
  const retention: NonNullable<TenantOverrides["retention"]> = {};
  for (const [flag, res] of [
    ["retention-raw", "raw"],
    ["retention-5m", "5m"],
    ["retention-1h", "1h"],
  ] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (tryParseDuration(String(v)) === undefined)
      throw new UsageError(`--${flag}: expected ${DURATION_FORM}, got ${JSON.stringify(v)}`);
    retention[res] = String(v).trim();
  }
  if (Object.keys(retention).length > 0) patch.retention = retention;
  const labels = values["replica-label"] as string[] | undefined;
  if (labels && values["no-replica-labels"])
    throw new UsageError("--replica-label and --no-replica-labels: one of them");
  for (const l of labels ?? [])
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(l))
      throw new UsageError(`--replica-label: expected a label name like replica, got ${JSON.stringify(l)}`);
  if (labels) patch.replicaLabels = [...new Set(labels)];
  if (values["no-replica-labels"]) patch.replicaLabels = [];
  const shards = values["split-shards"];
  if (shards !== undefined) {
    const n = /^\d{1,4}$/.test(String(shards)) ? Number(shards) : Number.NaN;
    if (!(n >= 0 && n <= MAX_SPLIT_SHARDS))
      throw new UsageError(`--split-shards: expected 0 (off) to ${MAX_SPLIT_SHARDS}, got ${JSON.stringify(shards)}`);
    patch.splitShards = n;
  }
  const enabled = values.enabled;
  if (enabled !== undefined) {
    if (enabled !== "true" && enabled !== "false")
      throw new UsageError(`--enabled: expected true or false, got ${JSON.stringify(enabled)}`);
    patch.enabled = enabled === "true";
  }
  if (Object.keys(patch).length === 0)
    throw new UsageError(
      "nothing to set: give --retention-raw, --retention-5m, --retention-1h, --replica-label, --split-shards or --enabled",
    );
  return patch;
}

function report(what: string, out: EditOutcome): number {
  if (!out.ok) {
    process.stderr.write(`strata overrides: ${out.error}\n`);
    return 1;
  }
  const doc = JSON.stringify(out.after, null, 2);
  if (!out.changed) process.stdout.write(`${what}: unchanged\n`);
  else if (!out.written) process.stdout.write(`${what}: would write (dry run):\n${doc}\n`);
  else process.stdout.write(`${what}: written, ETag ${out.etag}\n${doc}\n`);
  return 0;
}

function showText(url: string, v: OverridesView): string {
  const lines = [
    v.exists
      ? `${url}/${v.key}: ETag ${v.etag}, ${Object.keys(v.document.tenants ?? {}).length} tenant block(s)${v.document.defaults ? " and a defaults block" : ""}`
      : `${url}/${v.key}: absent; every tenant runs on the global settings`,
  ];
  if (v.document.defaults) lines.push(`defaults: ${JSON.stringify(v.document.defaults)}`);
  const names = Object.keys(v.tenants);
  if (names.length === 0) lines.push("no tenants");
  for (const name of names) {
    const t = v.tenants[name]!;
    const r = t.retention;
    lines.push(
      `${name}${t.overridden ? " (overridden)" : ""}: ${t.enabled ? "enabled" : "DISABLED"}, retention raw ${r.raw} 5m ${r["5m"]} 1h ${r["1h"]}, replica labels ${t.replicaLabels.length ? t.replicaLabels.join(",") : "none"} (dedup ${t.dedup}), split ${t.splitShards === 0 ? "off" : `${t.splitShards} shards`}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
