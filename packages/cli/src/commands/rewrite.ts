import { newUlid, rewriteBlock } from "@strata/tsdb";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { inBlock, openBlockReader } from "../block-args.ts";
import { openBlockOutput } from "../block-out.ts";

export const rewriteCommand: Command = {
  summary: "read a block and write it anew with Strata's writer; prints the new block's directory",
  usage: "rewrite <block-dir|block-url> --out <dir|bucket-url/tenant> [--reencode]",
  options: { out: { type: "string" }, reencode: { type: "boolean" } },
  optionHelp: {
    out: "where the new block goes: a directory, or a tenant in a bucket (s3://bucket[/prefix]/<tenant>, file:///path/<tenant>)",
    reencode: "decode and encode every chunk again instead of copying its bytes",
  },
  details: async () =>
    [
      "The block is a directory or a block URL (s3://bucket[/prefix]/<tenant>/<ULID>, file:///path/<tenant>/<ULID>;",
      "__root__ is the tenant of blocks at the bucket root), read in place with ranged GETs. Tombstones are applied.",
      "Into a bucket the new block streams straight to the store, meta.json last, and its URL is printed.",
      "",
      "Examples:",
      "  strata rewrite ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --out ./rewritten --reencode",
      "  strata rewrite s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --out s3://metrics/team-a",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const outArg = values.out as string | undefined;
    if (!outArg) throw new UsageError("--out <dir|bucket-url/tenant> is required");
    const { reader: block, name, close } = await openBlockReader(dir);
    try {
      const out = await openBlockOutput(outArg);
      try {
        const sink = out.sink(newUlid());
        try {
          await rewriteBlock(block, sink, { reencode: Boolean(values.reencode), ulid: sink.ulid });
          process.stdout.write((await sink.commit()) + "\n");
        } catch (e) {
          await sink.abort();
          throw inBlock(name, e);
        }
      } finally {
        await out.close();
      }
    } finally {
      await close();
    }
    return 0;
  },
};
