import { newUlid } from "@strata/tsdb";
import { downsampleBlock, parseResolution } from "@strata/downsample";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { BlockArgs, inBlock } from "../block-args.ts";
import { openBlockOutput } from "../block-out.ts";

export const downsampleCommand: Command = {
  summary: "downsample a block to 5m or 1h resolution (Thanos aggregate chunks); prints the new block's directory",
  usage: "downsample <block-dir|block-url> --resolution 5m|1h --out <dir|bucket-url/tenant> [--workers N]",
  options: { resolution: { type: "string" }, out: { type: "string" }, workers: { type: "string" } },
  optionHelp: {
    resolution: "the new block's resolution: 5m (from a raw block) or 1h (from a raw or 5m block)",
    out: "where the new block goes: a directory, or a tenant in a bucket (s3://bucket[/prefix]/<tenant>, file:///path/<tenant>)",
    workers: "threads beside the main one that downsample series (default every core but one, at most 3; 0: none)",
  },
  details: async () =>
    [
      "The block is a directory or a block URL (s3://bucket[/prefix]/<tenant>/<ULID>, file:///path/<tenant>/<ULID>;",
      "__root__ is the tenant of blocks at the bucket root), read in place with ranged GETs. Into a bucket the",
      "new block streams straight to the store, meta.json last, and its URL is printed.",
      "",
      "Examples:",
      "  strata downsample ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --resolution 5m --out ./5m",
      "  strata downsample s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --resolution 5m --out s3://metrics/team-a",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (!dir) throw new UsageError("a block directory or block URL is required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const resText = values.resolution as string | undefined;
    if (!resText) throw new UsageError("--resolution 5m|1h is required");
    const resolution = parseResolution(resText);
    if (resolution === undefined) throw new UsageError(`--resolution must be 5m or 1h, got ${JSON.stringify(resText)}`);
    const outArg = values.out as string | undefined;
    if (!outArg) throw new UsageError("--out <dir|bucket-url/tenant> is required");
    const workersText = values.workers as string | undefined;
    const workers = workersText === undefined ? undefined : Number(workersText);
    if (workers !== undefined && !(Number.isSafeInteger(workers) && workers >= 0)) {
      throw new UsageError(
        `--workers must be a non-negative integer (threads beside the main one), got ${JSON.stringify(workersText)}`,
      );
    }
    // One job, one input: its page cache is RangeCache.forJob(1), as the pipeline's downsampling.
    const args = new BlockArgs({ inputs: 1, progress: "downsampling" });
    try {
      const input = await args.open(dir);
      const out = await openBlockOutput(outArg);
      try {
        const sink = out.sink(newUlid());
        try {
          await downsampleBlock(input.source, sink, { resolution, ulid: sink.ulid, workers });
          const dir = await sink.commit();
          args.endProgress();
          process.stdout.write(dir + "\n");
        } catch (e) {
          await sink.abort();
          throw inBlock(input.name, e);
        }
      } finally {
        await out.close();
      }
    } finally {
      await args.close();
    }
    return 0;
  },
};
