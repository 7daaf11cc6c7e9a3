import { stat } from "node:fs/promises";
import { formatDuration, isUlid, parseDuration } from "@strata/tsdb";
import { ROOT_TENANT, quoteName, tenantFromName, tenantProblem } from "@strata/bucket";
import {
  fmtBytes,
  fmtSeconds,
  planAll,
  type JobEstimate,
  type PlannerOptions,
  type PlanAllResult,
} from "@strata/compact";
import { WORKER_LIMITS } from "@strata/lambda/deploy";
import { parseSettings } from "@strata/pipeline/settings";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { isUrlArg } from "../block-args.ts";
import { openBucketArg } from "../bucket-args.ts";
import { dirTree, scanTree, storeTree, type ScannedBucket } from "../bucket-scan.ts";

export type { ScannedBucket } from "../bucket-scan.ts";

export const planCommand: Command = {
  summary: "print the compaction groups and plans for a directory of blocks",
  usage:
    "plan <dir|bucket-url> [--tenant T] [--json] [--replica-label L]... [--ranges 1h,2h,8h,2d,14d] [--shards N] [--split-groups N] [--split-min-series N] [--split-min-index-bytes N] [--max-index-bytes N] [--job-budget 10m] [--job-memory 2800MiB]",
  options: {
    tenant: { type: "string" },
    json: { type: "boolean" },
    "replica-label": { type: "string", multiple: true },
    ranges: { type: "string" },
    shards: { type: "string" },
    "split-groups": { type: "string" },
    "split-min-series": { type: "string" },
    "split-min-index-bytes": { type: "string" },
    "max-index-bytes": { type: "string" },
    "job-budget": { type: "string" },
    "job-memory": { type: "string" },
  },
  optionHelp: {
    tenant: "plan this tenant only (__root__: the blocks at the bucket root)",
    json: "groups, plans, refusals, skipped blocks and warnings as one JSON object",
    "replica-label": "an external label that tells HA replicas apart (repeat for several): their blocks group together",
    ranges:
      "the base block range, then the compaction ranges, ascending, each dividing the next (default 1h,2h,8h,2d,14d)",
    shards: "split-and-merge: output shards of a split job (Mimir's -compactor.split-and-merge-shards)",
    "split-groups": "split-and-merge: jobs a window's unsplit blocks are spread over (default 1; needs --shards)",
    "split-min-series":
      "split-and-merge: split a group only once one of its blocks has this many series (needs --shards)",
    "split-min-index-bytes":
      "split-and-merge: split a group only once one of its blocks' index is this large (needs --shards)",
    "max-index-bytes": "largest output index a plan may make, before 15% headroom (default and cap 64 GiB)",
    "job-budget":
      "time a planned job may take by the cost model (STRATA_JOB_BUDGET; default two thirds of the worker's timeout)",
    "job-memory":
      "memory a planned job may take, e.g. 2800MiB (STRATA_JOB_MEMORY; default the worker's memory minus the runtime)",
  },
  details: async () =>
    [
      "The bucket is a local directory or a bucket URL (file:///path, s3://bucket[/prefix]; S3 endpoint and",
      "credentials from the AWS_* environment): blocks at its root (<ULID>/, the __root__ tenant) or under",
      "tenants (<tenant>/<ULID>/). Each block's meta.json and marks are read in place; nothing is written.",
      "",
      "Examples:",
      "  strata plan ./bucket",
      "  strata plan s3://metrics --tenant team-a --replica-label replica",
      "  strata plan file:///var/lib/strata/bucket --shards 4 --json",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (!dir) throw new UsageError("a directory of blocks or a bucket URL is required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const tenant = tenantOption(values.tenant);
    const opts = plannerOptions(values);
    const scan = await scanArg(dir, tenant);
    let result: PlanAllResult;
    try {
      result = planAll(scan.blocks, opts);
    } catch (e) {
      if (e instanceof RangeError) throw new UsageError(e.message, { cause: e });
      throw e;
    }
    if (values.json) process.stdout.write(JSON.stringify(toJson(scan, result), null, 2) + "\n");
    else process.stdout.write(render(scan, result));
    return 0;
  },
};

/** `--tenant`: a tenant's name, or __root__ (ROOT_TENANT); an invalid name is a usage error. */
function tenantOption(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const t = tenantFromName(String(v));
  const problem = t === ROOT_TENANT ? undefined : tenantProblem(t);
  if (problem) throw new UsageError(`--tenant ${quoteName(String(v))}: ${problem}`);
  return t;
}

/** Scans a local directory bucket, or a bucket URL in place. */
async function scanArg(arg: string, tenant: string | undefined): Promise<ScannedBucket> {
  if (!isUrlArg(arg)) {
    const st = await stat(arg).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`${arg}: not a directory`);
    return scanTree(dirTree(arg), { tenant });
  }
  if (isUlid(arg.replace(/\/+$/, "").split("/").at(-1) ?? ""))
    throw new UsageError(`${arg}: plan takes a bucket URL, not a block's (narrow with --tenant)`);
  const store = await openBucketArg(arg);
  try {
    return await scanTree(storeTree(store, store.url), { tenant, bucketUrl: store.url });
  } finally {
    await store.close?.();
  }
}

/** A local bucket's blocks (`<ULID>/` or `<tenant>/<ULID>/`), as `strata plan <dir>` reads them. */
export function scanBucket(root: string): Promise<ScannedBucket> {
  return scanTree(dirTree(root));
}

function positiveInt(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${name}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

/** "1h,2h,8h,2d,14d" → milliseconds each. */
function parseRanges(text: string): number[] {
  try {
    return text.split(",").map((r) => parseDuration(r, "--ranges"));
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
}

function plannerOptions(values: Record<string, unknown>): PlannerOptions {
  const opts: PlannerOptions = {};
  if (values.ranges !== undefined) opts.ranges = parseRanges(String(values.ranges));
  const labels = values["replica-label"] as string[] | undefined;
  if (labels?.length) opts.replicaLabels = labels;
  const shards = positiveInt("shards", values.shards);
  const groups = positiveInt("split-groups", values["split-groups"]);
  const minSeries = positiveInt("split-min-series", values["split-min-series"]);
  const minIndex = positiveInt("split-min-index-bytes", values["split-min-index-bytes"]);
  if (shards !== undefined)
    opts.split = { shardCount: shards, splitGroups: groups, minSeries, minIndexBytes: minIndex };
  else if (groups !== undefined || minSeries !== undefined || minIndex !== undefined)
    throw new UsageError("--split-* options need --shards");
  const max = positiveInt("max-index-bytes", values["max-index-bytes"]);
  if (max !== undefined) opts.maxIndexBytes = max;
  // The pipeline's job budget (STRATA_JOB_BUDGET / STRATA_JOB_MEMORY, their defaults and the
  // deployed worker's walls), so the plans shown are the ones the pipeline would run, each
  // with its estimate.
  try {
    const env = {
      STRATA_JOB_BUDGET: values["job-budget"] as string | undefined,
      STRATA_JOB_MEMORY: values["job-memory"] as string | undefined,
    };
    opts.budget = parseSettings(env, { limits: WORKER_LIMITS }).engine.jobBudget;
  } catch (e) {
    throw new UsageError(
      (e as Error).message
        .replaceAll("STRATA_JOB_BUDGET", "--job-budget")
        .replaceAll("STRATA_JOB_MEMORY", "--job-memory"),
      { cause: e },
    );
  }
  return opts;
}

function toJson(scan: ScannedBucket, r: PlanAllResult): unknown {
  return {
    groups: r.groups.map((g) => ({
      key: g.group.key,
      tenant: g.group.tenant,
      labels: g.group.labels,
      resolution: g.group.resolution,
      mode: g.mode,
      blocks: g.group.blocks.map((b) => b.ulid),
      plans: g.plans,
      outdated: g.outdated,
      skipped: g.skipped,
      refused: g.refused,
    })),
    refused: r.refused,
    skipped: scan.skipped,
    warnings: scan.warnings,
  };
}

const fmtTime = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** "est. ~3m, 2.1 GB in, peak 180 MB". */
function fmtEstimate(e: JobEstimate): string {
  return `est. ${fmtSeconds(e.seconds)}, ${fmtBytes(e.readBytes)} in, peak ${fmtBytes(e.peakBytes)}`;
}

function render(scan: ScannedBucket, r: PlanAllResult): string {
  const out: string[] = [];
  for (const g of r.groups) {
    const labels = Object.entries(g.group.labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(",");
    out.push(
      `Group ${g.group.key}${g.group.tenant ? `  tenant ${g.group.tenant}` : ""}  {${labels}}  resolution ${g.group.resolution}ms  ${g.group.blocks.length} block(s), ${g.mode}`,
    );
    if (g.plans.length === 0) out.push("  no plans");
    for (const p of g.plans) {
      const extra =
        p.kind === "split"
          ? ` into ${p.shardCount} shards${p.splitGroup && p.splitGroup !== "1_of_1" ? ` (split group ${p.splitGroup})` : ""}`
          : p.shardId
            ? ` shard ${p.shardId}`
            : "";
      out.push(
        `  plan ${p.kind}${extra}: ${fmtTime(p.window.minTime)} .. ${fmtTime(p.window.maxTime)}  (${formatDuration(p.range)} range, level ${p.level})  ${p.reason}${p.estimate ? `  [${fmtEstimate(p.estimate)}]` : ""}`,
      );
      for (const u of p.inputs) out.push(`    ${u}`);
    }
    for (const o of g.outdated) out.push(`  outdated ${o.ulid}: sources covered by ${o.coveredBy.join(", ")}`);
    for (const s of g.skipped) out.push(`  skipped ${s.ulid}: ${s.reason}`);
    for (const x of g.refused) out.push(`  refused ${x.blocks.join(", ")}: ${x.reason}`);
  }
  for (const s of scan.skipped) out.push(`Skipped ${s.dir}: ${s.reason}`);
  for (const w of scan.warnings) out.push(`Warning: ${w}`);
  out.push(
    `${r.groups.length} group(s), ${r.plans.length} plan(s)${r.refused.length ? `, ${r.refused.length} refused as over the job budget` : ""}`,
  );
  return out.join("\n") + "\n";
}
