// `strata ls`: every block in a bucket, one aligned line each (or JSON), with its time range,
// level, resolution, labels, shard, stats, size, marks and whether the bucket index holds it.
// The listing is @strata/pipeline's (`listBucketBlocks`); this file parses flags and prints.
import { ROOT_TENANT, quoteName, tenantFromName, tenantName, tenantProblem } from "@strata/bucket";
import { resolutionName } from "@strata/tsdb";
import type { BlockRow, BlockSort, MarkFilter } from "@strata/pipeline/operations";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { Output } from "../output.ts";
import { formatBytes } from "../progress.ts";
import { parseSince } from "./replay.ts";

const MARKED = ["deletion", "no-compact", "no-downsample", "quarantine", "any", "none"] as const;
const SORTS = ["time", "size", "level", "ulid"] as const;
const RESOLUTIONS: Record<string, number> = { raw: 0, "5m": 300_000, "1h": 3_600_000 };

export const lsCommand: Command = {
  summary: "list a bucket's blocks: time range, level, resolution, labels, size, marks, indexed or not",
  usage:
    "ls <bucket-url> [--tenant T] [--json] [--level N] [--resolution raw|5m|1h] [--marked KIND] [--since TIME] [--sort time|size|level|ulid]",
  options: {
    tenant: { type: "string" },
    json: { type: "boolean" },
    level: { type: "string" },
    resolution: { type: "string" },
    marked: { type: "string" },
    since: { type: "string" },
    sort: { type: "string" },
  },
  optionHelp: {
    tenant: "only this tenant (__root__: blocks at the bucket root, Thanos' layout); default every tenant",
    json: "a JSON array, one object per block per line (times in ms and RFC 3339, sizes in bytes, marks with their times)",
    level: "only blocks of this compaction level (1 = as uploaded)",
    resolution: "only blocks of this resolution: raw, 5m or 1h",
    marked: `only blocks with this mark: ${MARKED.join(", ")} (no-compact includes quarantines; any/none: some mark or none)`,
    since:
      "only blocks whose data reaches TIME (block time: meta.json's maxTime ≥ TIME): RFC 3339, epoch ms, or a duration back from now (6h, 2d)",
    sort: "order: time (start, per tenant; the default), size (largest first, whole bucket), level, ulid",
  },
  details: async () =>
    [
      "Columns: TENANT ULID START END DURATION (as Go prints it) LEVEL RES SHARD SERIES SAMPLES CHUNKS SIZE INDEXED MARKS LABELS NOTE.",
      "SIZE sums every object under the block's folder; INDEXED says whether the tenant's bucket-index.json.gz lists it;",
      "MARKS: deletion@<time>, no-compact:<reason>, no-downsample:<reason>, quarantine (its NOTE is the verify report's",
      "first problem). A block whose meta.json is missing or does not parse is listed with the reason in NOTE.",
      "",
      "Examples:",
      "  strata ls s3://strata-blocks --tenant demo",
      "  strata ls s3://strata-blocks --marked quarantine",
      "  strata ls file:///data/bucket --since 2d --resolution raw --sort size --json",
    ].join("\n"),
  async run([url, ...extra], values) {
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const tenant = tenantOption(values.tenant, false);
    const filter = {
      level: values.level === undefined ? undefined : levelArg(String(values.level)),
      resolution: values.resolution === undefined ? undefined : choice("--resolution", values.resolution, RESOLUTIONS),
      marked: values.marked === undefined ? undefined : oneOf<MarkFilter>("--marked", values.marked, MARKED),
      sinceMs: values.since === undefined ? undefined : parseSince(String(values.since)),
    };
    const sort = values.sort === undefined ? "time" : oneOf<BlockSort>("--sort", values.sort, SORTS);
    const store = await openBucketArg(url);
    try {
      const ops = await import("@strata/pipeline/operations");
      const listing = await ops.listBucketBlocks(store, { tenant });
      if (tenant !== undefined && listing.tenants.length === 0) {
        process.stderr.write(`strata ls: tenant ${quoteName(tenantName(tenant))}: no blocks in ${store.url}\n`);
        return 1;
      }
      const rows = ops.sortBlocks(ops.filterBlocks(listing.blocks, filter), sort);
      const out = new Output();
      if (values.json) {
        await out.line("[");
        for (let i = 0; i < rows.length && !out.isClosed; i++)
          await out.line(JSON.stringify(jsonRow(rows[i]!)) + (i < rows.length - 1 ? "," : ""));
        await out.line("]");
      } else for (const l of table(rows)) if (!out.isClosed) await out.line(l);
      await out.flush();
      for (const n of listing.notes)
        if (!values.json || n.includes("unreadable")) process.stderr.write(`strata ls: ${n}\n`);
      return 0;
    } finally {
      await store.close?.();
    }
  },
};

/**
 * `--tenant`: the pipeline's name for it (`__root__` is the root tenant, ""); a name the
 * bucket's tenant rule refuses is a usage error. Undefined when not given and not `required`.
 */
export function tenantOption(v: unknown, required: true): string;
export function tenantOption(v: unknown, required: boolean): string | undefined;
export function tenantOption(v: unknown, required: boolean): string | undefined {
  if (v === undefined) {
    if (required) throw new UsageError("--tenant is required (__root__ for blocks at the bucket root)");
    return undefined;
  }
  const t = tenantFromName(String(v));
  const problem = t === ROOT_TENANT ? undefined : tenantProblem(t);
  if (problem) throw new UsageError(`--tenant: invalid tenant ${quoteName(t)}: ${problem}`);
  return t;
}

function levelArg(s: string): number {
  if (!/^[1-9]\d{0,5}$/.test(s))
    throw new UsageError(`--level: expected a compaction level (1, 2, …), got ${JSON.stringify(s)}`);
  return Number(s);
}

function choice(flag: string, v: unknown, map: Record<string, number>): number {
  const r = map[String(v)];
  if (r === undefined)
    throw new UsageError(`${flag}: expected one of ${Object.keys(map).join(", ")}, got ${JSON.stringify(v)}`);
  return r;
}

function oneOf<T extends string>(flag: string, v: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(String(v)))
    throw new UsageError(`${flag}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
  return String(v) as T;
}

/** A span as Go prints a time.Duration (what Thanos' and Mimir's tools show): `2h0m0s`, `1h59m45.001s`, `250ms`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const s = rest % 1000 === 0 ? String(rest / 1000) : (rest / 1000).toFixed(3).replace(/0+$/, "");
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
const dash = (v: number | string | undefined) => (v === undefined ? "-" : String(v));

function jsonRow(r: BlockRow): Record<string, unknown> {
  return {
    tenant: tenantName(r.tenant),
    ulid: r.block,
    ...(r.minTime !== undefined && r.maxTime !== undefined
      ? {
          minTime: r.minTime,
          maxTime: r.maxTime,
          start: rfc3339(r.minTime),
          end: rfc3339(r.maxTime),
          durationMs: r.maxTime - r.minTime,
        }
      : {}),
    level: r.level,
    resolution: r.resolution === undefined ? undefined : resolutionName(r.resolution),
    labels: r.labels,
    shard: r.shard,
    series: r.series,
    samples: r.samples,
    chunks: r.chunks,
    sizeBytes: r.sizeBytes,
    objects: r.objects,
    indexed: r.indexed,
    verified: r.verified,
    parquet: r.parquet ?? false,
    marks: {
      ...r.marks,
      ...(r.marks.deletion ? { deletion: { ...r.marks.deletion, at: rfc3339(r.marks.deletion.time * 1000) } } : {}),
    },
    problem: r.problem,
  };
}

function marksText(r: BlockRow): string {
  const m: string[] = [];
  if (r.marks.deletion) m.push(`deletion@${rfc3339(r.marks.deletion.time * 1000)}`);
  if (r.marks.quarantine) m.push("quarantine");
  else if (r.marks.noCompact) m.push(`no-compact:${r.marks.noCompact.reason}`);
  if (r.marks.noDownsample) m.push(`no-downsample:${r.marks.noDownsample.reason}`);
  if (r.parquet) m.push("parquet");
  for (const u of r.marks.unreadable ?? []) m.push(`unreadable:${u.file}`);
  return m.length ? m.join(",") : "-";
}

function note(r: BlockRow): string {
  const n: string[] = [];
  if (r.problem) n.push(r.problem);
  if (r.marks.quarantine)
    n.push(
      `quarantined: ${r.marks.quarantine.reason}${r.marks.quarantine.problems > 1 ? ` (${r.marks.quarantine.problems} problems)` : ""}`,
    );
  else if (r.marks.noCompact?.details) n.push(`no-compact: ${r.marks.noCompact.details}`);
  if (r.marks.deletion?.details) n.push(`deletion: ${r.marks.deletion.details}`);
  for (const u of r.marks.unreadable ?? []) n.push(`${u.file}: ${u.problem}`);
  return n.join("; ");
}

const HEADER = [
  "TENANT",
  "ULID",
  "START",
  "END",
  "DURATION",
  "LEVEL",
  "RES",
  "SHARD",
  "SERIES",
  "SAMPLES",
  "CHUNKS",
  "SIZE",
  "INDEXED",
  "MARKS",
  "LABELS",
  "NOTE",
];

/** Aligned columns, the free-text NOTE last (never padded). */
function table(rows: readonly BlockRow[]): string[] {
  const cells = rows.map((r) => {
    const ranged = r.minTime !== undefined && r.maxTime !== undefined;
    const labels = Object.entries(r.labels ?? {});
    return [
      tenantName(r.tenant),
      r.block,
      ranged ? rfc3339(r.minTime!) : "-",
      ranged ? rfc3339(r.maxTime!) : "-",
      ranged && r.maxTime! >= r.minTime! ? goDuration(r.maxTime! - r.minTime!) : "-",
      dash(r.level),
      r.resolution === undefined ? "-" : resolutionName(r.resolution),
      dash(r.shard),
      dash(r.series),
      dash(r.samples),
      dash(r.chunks),
      formatBytes(r.sizeBytes),
      r.indexed ? "yes" : "no",
      marksText(r),
      labels.length ? `{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}` : "-",
      note(r),
    ];
  });
  const all = [HEADER, ...cells];
  const widths = HEADER.map((_, i) => Math.max(...all.map((c) => c[i]!.length)));
  return all.map((c) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}
