import { mkdir, stat } from "node:fs/promises";
import { newUlid } from "@strata/tsdb";
import { DirBlockSink, DirBlockSource } from "@strata/tsdb/node";
import { downsampleBlock, parseResolution } from "@strata/downsample";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

export const downsampleCommand: Command = {
  summary: "downsample a block to 5m or 1h resolution (Thanos aggregate chunks); prints the new block's directory",
  usage: "downsample <block-dir> --resolution 5m|1h --out <dir> [--workers N]",
  options: { resolution: { type: "string" }, out: { type: "string" }, workers: { type: "string" } },
  async run([dir], values) {
    if (!dir) throw new UsageError("a block directory is required");
    const resText = values.resolution as string | undefined;
    if (!resText) throw new UsageError("--resolution 5m|1h is required");
    const resolution = parseResolution(resText);
    if (resolution === undefined) throw new UsageError(`--resolution must be 5m or 1h, got ${JSON.stringify(resText)}`);
    const outDir = values.out as string | undefined;
    if (!outDir) throw new UsageError("--out <dir> is required");
    const workersText = values.workers as string | undefined;
    const workers = workersText === undefined ? undefined : Number(workersText);
    if (workers !== undefined && !(Number.isSafeInteger(workers) && workers >= 0)) {
      throw new UsageError(
        `--workers must be a non-negative integer (threads beside the main one), got ${JSON.stringify(workersText)}`,
      );
    }
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UsageError(`${dir}: not a directory`);
    await mkdir(outDir, { recursive: true });
    const sink = new DirBlockSink(outDir, newUlid());
    try {
      await downsampleBlock(new DirBlockSource(dir), sink, { resolution, ulid: sink.ulid, workers });
      process.stdout.write((await sink.commit()) + "\n");
    } catch (e) {
      await sink.abort();
      throw e;
    }
    return 0;
  },
};
