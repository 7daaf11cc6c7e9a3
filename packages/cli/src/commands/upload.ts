// `strata upload`: put local blocks into a tenant of a bucket as Thanos' `upload-blocks` does
// (chunks, index, meta.json last), each verified first, with progress. The work is
// @strata/pipeline's `uploadBlocks`; this file parses flags and renders its events.
import { stat } from "node:fs/promises";
import { tenantName } from "@strata/bucket";
import { isUlid } from "@strata/tsdb";
import { openBucketArg } from "../bucket-args.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { Progress, formatBytes, formatSeconds } from "../progress.ts";
import { tenantOption } from "./ls.ts";

export const uploadCommand: Command = {
  summary: "upload local blocks to a bucket (chunks, index, meta.json last), each verified first",
  usage: "upload <dir> <bucket-url> --tenant T [--no-verify] [--block ULID...]",
  options: {
    tenant: { type: "string" },
    "no-verify": { type: "boolean" },
    block: { type: "string", multiple: true },
  },
  optionHelp: {
    tenant: "the tenant to upload into (required; __root__ for the bucket root, Thanos' single-tenant layout)",
    "no-verify": "skip the local verification of each block before its upload (the pipeline still verifies it)",
    block: "upload only this block of <dir> (repeatable)",
  },
  details: async () =>
    [
      "<dir> is one block, or a folder of blocks such as a Prometheus data directory (its ULID folders with a",
      "meta.json; wal/ and unfinished blocks are left out). A block that fails verification is not uploaded and its",
      "first problems are printed; a block already in the bucket with the same meta.json is skipped; one there with",
      "a different meta.json is never overwritten. Tombstones are not uploaded (as Thanos): a block with any is",
      "refused (`strata rewrite` applies them). Exit 1 when any block was not uploaded for such a reason.",
      "On a terminal the progress line shows blocks, bytes, throughput and ETA; elsewhere one line per block.",
      "",
      "Examples:",
      "  strata upload /prometheus/data s3://strata-blocks --tenant team-a",
      "  strata upload ./01J0000000000000000000000A file:///data/bucket --tenant __root__ --no-verify",
    ].join("\n"),
  async run([dir, url, ...extra], values) {
    if (!dir || !url) throw new UsageError("a block directory and a bucket URL are required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UsageError(`${dir}: not a directory`);
    const tenant = tenantOption(values.tenant, true);
    const only = ((values.block as string[] | undefined) ?? []).map((b) => {
      if (!isUlid(b)) throw new UsageError(`--block: expected a block ULID, got ${JSON.stringify(b)}`);
      return b.toUpperCase();
    });
    const store = await openBucketArg(url, { create: true });
    try {
      const ops = await import("@strata/pipeline/operations");
      const found = await ops.findLocalBlocks(dir, only);
      for (const p of found.problems) process.stderr.write(`strata upload: ${p}\n`);
      if (found.blocks.length === 0) {
        process.stderr.write(`strata upload: ${dir}: no blocks to upload\n`);
        return 1;
      }
      const progress = new Progress({
        unit: "blocks",
        totalItems: found.blocks.length,
        totalBytes: found.blocks.reduce((a, b) => a + b.bytes, 0),
      });
      const sent = new Map<string, number>();
      const started = new Map<string, number>();
      const outcomes = await ops.uploadBlocks(store, {
        tenant,
        blocks: found.blocks,
        verify: values["no-verify"] !== true,
        onEvent: (e) => {
          if (e.type === "verifying") progress.note(`verifying ${e.block}`);
          else if (e.type === "uploading") {
            started.set(e.block, Date.now());
            progress.note(`uploading ${e.block}`);
          } else if (e.type === "bytes") {
            sent.set(e.block, (sent.get(e.block) ?? 0) + e.bytes);
            progress.addBytes(e.bytes);
          } else {
            const o = e.outcome;
            const counted = sent.get(o.block) ?? 0;
            const t0 = started.get(o.block);
            const took = t0 === undefined ? "" : ` in ${formatSeconds((Date.now() - t0) / 1000)}`;
            const what = o.status === "uploaded" ? `uploaded (${formatBytes(o.bytes)}${took})` : o.message;
            const line = `${o.ok ? "" : "strata upload: "}${tenantName(tenant)}/${o.block}: ${what}`;
            progress.itemDone(line, Math.max(o.bytes - counted, 0), { failed: !o.ok });
          }
        },
      });
      progress.finish();
      const bad = outcomes.filter((o) => !o.ok).length + found.problems.length;
      const up = outcomes.filter((o) => o.status === "uploaded").length;
      const skipped = outcomes.filter((o) => o.status === "skipped").length;
      process.stdout.write(`${up} uploaded, ${skipped} already there, ${bad} not uploaded (${store.url})\n`);
      return bad > 0 ? 1 : 0;
    } finally {
      await store.close?.();
    }
  },
};
