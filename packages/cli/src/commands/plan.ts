import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  DELETION_MARK_FILE,
  formatDuration,
  isUlid,
  META_FILE,
  NO_COMPACT_MARK_FILE,
  parseDuration,
  parseMarker,
  parseMeta,
} from "@strata/tsdb";
import { RESERVED_TENANT_NAMES, parseBlockKey } from "@strata/bucket";
import {
  fmtBytes,
  fmtSeconds,
  planAll,
  type BlockMetaWithMarks,
  type JobEstimate,
  type PlannerOptions,
  type PlanAllResult,
  type SkippedBlock,
} from "@strata/compact";
import { WORKER_LIMITS } from "@strata/lambda/deploy";
import { parseSettings } from "@strata/pipeline/settings";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

/** What `strata plan` found in a directory before planning. */
export interface ScannedBucket {
  blocks: BlockMetaWithMarks[];
  /** Directories that are not plannable blocks (no or bad meta.json), with why. */
  skipped: (SkippedBlock & { tenant: string; dir: string })[];
  /** Unreadable markers (treated as absent, as Thanos does). */
  warnings: string[];
}

export const planCommand: Command = {
  summary: "print the compaction groups and plans for a directory of blocks",
  usage:
    "plan <dir> [--json] [--replica-label L]... [--ranges 1h,2h,8h,2d,14d] [--shards N] [--split-groups N] [--split-min-series N] [--split-min-index-bytes N] [--max-index-bytes N] [--job-budget 10m] [--job-memory 2800MiB]",
  options: {
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
  async run([dir, ...extra], values) {
    if (!dir) throw new UsageError("a directory of blocks is required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`${dir}: not a directory`);
    const opts = plannerOptions(values);
    const scan = await scanBucket(dir);
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

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Read a local bucket: `<ULID>/` blocks at the top, or `<tenant>/<ULID>/`, by the bucket's
 * key grammar (`@strata/bucket/keys`): a top-level ULID folder holding ULID folders is a
 * (ULID-shaped, so invalid) tenant, not a root block; folders that are no valid tenant are
 * not read (a warning names them, except the ones Strata writes itself: `markers/`,
 * `leases/`, hidden folders).
 */
export async function scanBucket(root: string): Promise<ScannedBucket> {
  const out: ScannedBucket = { blocks: [], skipped: [], warnings: [] };
  for (const e of (await readdir(root, { withFileTypes: true })).sort(byName)) {
    if (!e.isDirectory()) continue;
    const children = (await readdir(join(root, e.name), { withFileTypes: true })).sort(byName);
    const ulidChild = children.find((c) => c.isDirectory() && isUlid(c.name));
    if (!ulidChild) {
      // A root block (`<ULID>/<file…>`); any other folder without block folders has nothing to plan.
      if (isUlid(e.name)) await scanBlock(join(root, e.name), e.name, "", out);
      continue;
    }
    // A folder of block folders: a tenant, if the key grammar takes its blocks' keys.
    const probe = parseBlockKey(`${e.name}/${ulidChild.name}/${META_FILE}`, "");
    if ("reason" in probe) {
      if (!e.name.startsWith(".") && !RESERVED_TENANT_NAMES.includes(e.name))
        out.warnings.push(`${join(root, e.name)}: not read: ${probe.reason}`);
      continue;
    }
    for (const b of children) {
      if (b.isDirectory() && isUlid(b.name)) await scanBlock(join(root, e.name, b.name), b.name, e.name, out);
    }
  }
  return out;
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

async function scanBlock(dir: string, name: string, tenant: string, out: ScannedBucket): Promise<void> {
  const text = await readIfExists(join(dir, META_FILE));
  if (!text) {
    out.skipped.push({ ulid: name.toUpperCase(), tenant, dir, reason: "no meta.json (partial upload)" });
    return;
  }
  let meta;
  try {
    meta = parseMeta(text, join(dir, META_FILE));
  } catch (e) {
    out.skipped.push({
      ulid: name.toUpperCase(),
      tenant,
      dir,
      reason: `unreadable meta.json: ${(e as Error).message}`,
    });
    return;
  }
  if (meta.ulid !== name.toUpperCase()) {
    out.skipped.push({
      ulid: name.toUpperCase(),
      tenant,
      dir,
      reason: `meta.json names block ${meta.ulid}, not its directory`,
    });
    return;
  }
  const block: BlockMetaWithMarks = { meta, tenant };
  for (const [file, flag] of [
    [NO_COMPACT_MARK_FILE, "noCompact"],
    [DELETION_MARK_FILE, "deletionMarked"],
  ] as const) {
    const mark = await readIfExists(join(dir, file));
    if (!mark) continue;
    try {
      parseMarker(file, mark);
      block[flag] = true;
    } catch (e) {
      out.warnings.push(`${join(dir, file)}: ignored: ${(e as Error).message}`);
    }
  }
  const idx = await stat(join(dir, "index")).catch(() => undefined);
  if (idx?.isFile()) block.indexBytes = idx.size;
  out.blocks.push(block);
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
