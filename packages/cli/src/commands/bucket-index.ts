import { openBucketArg } from "../bucket-args.ts";
import { BucketLayout, ROOT_TENANT, ROOT_TENANT_NAME } from "@strata/bucket";
import { BucketIndexUpdater, IndexConflictError } from "@strata/bucket";
import { BucketIndexInvalidError, type BucketIndex } from "@strata/bucket";
import type { ObjectStore } from "@strata/bucket";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

/** `strata index rebuild|show <bucket-url>`: the Mimir bucket index of one tenant or all. */
export const indexCommand: Command = {
  summary: "rebuild or show a tenant's bucket index (bucket-index.json.gz)",
  usage:
    "index rebuild <bucket-url> [--tenant T] | index show <bucket-url> --tenant T [--json]   (file:///dir or s3://bucket[/prefix]; S3 endpoint from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)",
  options: { tenant: { type: "string" }, json: { type: "boolean" }, "root-tenant": { type: "string" } },
  optionHelp: {
    tenant:
      "the tenant whose index to rebuild or show (rebuild: every tenant when absent; __root__ = blocks at the bucket root)",
    json: "show: print the index as Mimir's JSON instead of a summary",
    "root-tenant": "the name the root tenant's blocks are listed under (default __root__)",
  },
  details: async () =>
    [
      "A rebuild indexes only verified blocks (those with strata-verified.json); it verifies the others in place first,",
      "and quarantines those that fail. The index is written with a compare-and-swap, so a running pipeline is safe.",
      "",
      "Examples:",
      "  strata index show s3://strata-blocks --tenant demo",
      "  strata index rebuild s3://strata-blocks --tenant demo",
      "  strata index rebuild file:///data/bucket",
    ].join("\n"),
  async run([action, url, ...extra], values) {
    if (action !== "rebuild" && action !== "show")
      throw new UsageError(`expected "rebuild" or "show", got ${JSON.stringify(action ?? "")}`);
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const tenant = values.tenant as string | undefined;
    const layout = new BucketLayout({ rootTenant: (values["root-tenant"] as string | undefined) ?? ROOT_TENANT_NAME });
    const store = await openBucketArg(url);
    try {
      if (action === "rebuild") return await rebuild(store, layout, tenant);
      if (!tenant)
        throw new UsageError(
          "show needs --tenant (use the root tenant name, default __root__, for a Thanos-style bucket)",
        );
      return await show(store, layout, tenant, values.json === true);
    } catch (e) {
      if (e instanceof BucketIndexInvalidError || e instanceof IndexConflictError) {
        process.stderr.write(`strata index: ${e.message}\n`);
        return 1;
      }
      throw e;
    } finally {
      await store.close?.();
    }
  },
};

/**
 * Rebuilds each tenant's index through the pipeline's admission rule: blocks a verify already
 * admitted are kept, the others are verified in place now and indexed or quarantined, so the
 * rebuilt index never lists an unverified block.
 */
async function rebuild(store: ObjectStore, layout: BucketLayout, tenant: string | undefined): Promise<number> {
  const tenants = tenant ? [tenant] : await layout.listTenants(store);
  if (tenants.length === 0) {
    process.stderr.write(`strata index: ${store.url}: no tenants (no blocks) found\n`);
    return 1;
  }
  const { rebuildIndex } = await import("@strata/pipeline/operations");
  let code = 0;
  for (const t of tenants) {
    // The layout names the root tenant for people (--root-tenant); the pipeline takes the tenant itself.
    const r = await rebuildIndex(store, t === layout.rootTenant ? ROOT_TENANT : t);
    process.stdout.write(
      `${t}: ${r.blocks} blocks, ${r.deletionMarks} deletion marks -> ${store.url}/${layout.indexKey(t)}\n`,
    );
    for (const id of r.admitted) process.stdout.write(`  verified and indexed ${id}\n`);
    for (const q of r.quarantined) process.stdout.write(`  quarantined ${q.block}: ${q.reason}\n`);
    for (const q of r.incomplete) process.stdout.write(`  not indexed ${q.block}: ${q.reason}\n`);
    for (const [id, why] of r.partials) process.stdout.write(`  skipped partial block ${id}: ${why}\n`);
    if (r.quarantined.length > 0) code = 1;
  }
  return code;
}

async function show(store: ObjectStore, layout: BucketLayout, tenant: string, json: boolean): Promise<number> {
  const cur = await new BucketIndexUpdater(store, { layout }).read(tenant);
  if (!cur) {
    process.stderr.write(
      `strata index: ${store.url}/${layout.indexKey(tenant)}: no bucket index (run \`strata index rebuild\`)\n`,
    );
    return 1;
  }
  process.stdout.write(json ? JSON.stringify(cur.index, null, 2) + "\n" : render(tenant, cur.index));
  return 0;
}

function render(tenant: string, idx: BucketIndex): string {
  const marked = new Map(idx.block_deletion_marks.map((m) => [m.block_id, m.deletion_time]));
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  const lines = [
    `tenant ${tenant}: version ${idx.version}, ${idx.blocks.length} blocks, ${idx.block_deletion_marks.length} deletion marks, updated ${iso(idx.updated_at * 1000)}`,
    ["BLOCK", "MIN TIME", "MAX TIME", "LEVEL", "SOURCE", "SHARD", "UPLOADED", "DELETION MARK"].join("\t"),
  ];
  const blocks = [...idx.blocks].sort((a, b) => a.min_time - b.min_time || (a.block_id < b.block_id ? -1 : 1));
  for (const b of blocks) {
    const del = marked.get(b.block_id);
    lines.push(
      [
        b.block_id,
        iso(b.min_time),
        iso(b.max_time),
        b.compaction_level ?? "-",
        b.source ?? "-",
        b.compactor_shard_id ?? "-",
        iso(b.uploaded_at * 1000),
        del === undefined ? "-" : iso(del * 1000),
      ].join("\t"),
    );
  }
  return lines.join("\n") + "\n";
}
