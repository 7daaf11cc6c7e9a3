// `strata quarantine release`: verify quarantined blocks again in place; lift the quarantine and
// index those that now pass (the next scheduled index re-sync plans their groups).
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { tenantArg } from "./replay.ts";

export const quarantineCommand: Command = {
  summary: "verify quarantined blocks again in place; lift the quarantine and index those that now pass",
  usage:
    "quarantine release <bucket-url> --tenant T --block ULID [--block ULID]...   (file:///dir or s3://bucket[/prefix]; the root tenant is __root__)",
  options: { tenant: { type: "string" }, block: { type: "string", multiple: true } },
  optionHelp: {
    tenant: "the quarantined blocks' tenant (__root__ = blocks at the bucket root)",
    block: "a quarantined block's ULID; repeat for several",
  },
  details: async () =>
    [
      "Each block is verified again where it lies. One that now passes loses its quarantine (both copies of the mark),",
      "gets its verification record and is indexed; one that still fails keeps its mark and its new report.",
      "",
      "Examples:",
      "  strata ls s3://strata-blocks --tenant demo --marked quarantine     # find them, and why",
      "  strata quarantine release s3://strata-blocks --tenant demo --block 01J9Z3Q6W8K3V5T2B7R4M1N0PX",
    ].join("\n"),
  async run([action, url, ...extra], values) {
    if (action !== "release") throw new UsageError(`expected "release", got ${JSON.stringify(action ?? "")}`);
    if (!url) throw new UsageError("a bucket URL is required (file:///path or s3://bucket[/prefix])");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const tenant = tenantArg(values.tenant);
    if (tenant === undefined) throw new UsageError("--tenant is required (__root__ for blocks at the bucket root)");
    const blocks = (values.block as string[] | undefined) ?? [];
    if (blocks.length === 0) throw new UsageError("--block ULID is required");
    const store = await openBucketArg(url);
    try {
      const { releaseQuarantine } = await import("@strata/pipeline/operations");
      let failed = 0;
      for (const block of blocks) {
        const r = await releaseQuarantine(store, { tenant, block: block.toUpperCase() });
        if (r.status === "released")
          process.stdout.write(`${r.block}: released: verified, quarantine lifted, indexed\n`);
        else {
          failed++;
          process.stdout.write(
            `${r.block}: ${r.status === "still-broken" ? `still quarantined: ${r.reason}` : `not released: ${r.reason}`}\n`,
          );
        }
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await store.close?.();
    }
  },
};
