// `strata status`: per tenant, what the pipeline has done and what it would do next.
import { tenantName } from "@strata/bucket";
import { resolutionName } from "@strata/tsdb";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { tenantArg } from "./replay.ts";

export const statusCommand: Command = {
  summary: "per tenant: blocks by level and resolution, pending plans, quarantined blocks, index age",
  usage:
    "status <bucket-url> [--tenant T] [--json]   (file:///dir or s3://bucket[/prefix]; the root tenant is __root__)",
  options: { tenant: { type: "string" }, json: { type: "boolean" } },
  optionHelp: {
    tenant: "only this tenant (__root__ = blocks at the bucket root); every tenant when absent",
    json: "one JSON object per tenant instead of the table",
  },
  details: async () =>
    [
      "Pending plans are what the planner would do next with the default engine settings (ranges 1h,2h,8h,2d,14d; no replica labels).",
      "",
      "Examples:",
      "  strata status s3://strata-blocks",
      "  strata status file:///data/bucket --tenant team-a --json",
    ].join("\n"),
  async run([url, ...extra], values) {
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const store = await openBucketArg(url);
    try {
      const { bucketStatus } = await import("@strata/pipeline/operations");
      const all = await bucketStatus(store, { tenant: tenantArg(values.tenant) });
      if (values.json) {
        process.stdout.write(JSON.stringify(all, null, 2) + "\n");
        return 0;
      }
      if (all.length === 0) process.stdout.write(`${store.url}: no tenants\n`);
      for (const t of all) {
        const name = tenantName(t.tenant);
        const age = t.indexAgeSeconds === undefined ? "no bucket index" : `index ${formatAge(t.indexAgeSeconds)} old`;
        process.stdout.write(`${name}: ${t.live} live blocks, ${t.markedForDeletion} marked for deletion, ${age}\n`);
        for (const [k, n] of Object.entries(t.blocks).sort()) {
          const [level, res] = k.split("/");
          process.stdout.write(`  level ${level} ${resolutionName(Number(res))}: ${n}\n`);
        }
        process.stdout.write(
          `  pending: ${t.pendingCompactions.length} compaction(s), ${t.pendingDownsamples.length} downsampling(s)\n`,
        );
        for (const c of t.pendingCompactions)
          process.stdout.write(`    compact ${c.kind} ${c.inputs.join(",")}: ${c.reason}\n`);
        for (const d of t.pendingDownsamples) process.stdout.write(`    downsample ${d.block} to ${d.resolution} ms\n`);
        process.stdout.write(`  quarantined: ${t.quarantined.length}\n`);
        for (const q of t.quarantined) process.stdout.write(`    ${q.block}: ${q.details}\n`);
        process.stdout.write(`  refused (no-compact): ${t.refused.length}\n`);
        for (const r of t.refused) process.stdout.write(`    ${r.block} [${r.reason}]: ${r.details}\n`);
        process.stdout.write(`  failing jobs: ${t.failing.length}\n`);
        for (const f of t.failing)
          process.stdout.write(
            `    ${f.job}: ${f.attempts} attempt(s)${f.errors.length ? `; last error: ${f.errors[f.errors.length - 1]}` : ""}\n`,
          );
      }
      return 0;
    } finally {
      await store.close?.();
    }
  },
};

function formatAge(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}
