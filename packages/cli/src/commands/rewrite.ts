import { mkdir } from "node:fs/promises";
import { newUlid, rewriteBlock } from "@strata/tsdb";
import { DirBlockSink } from "@strata/tsdb/node";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { openBlockDir } from "../block-args.ts";

export const rewriteCommand: Command = {
  summary: "read a block and write it anew with Strata's writer; prints the new block's directory",
  usage: "rewrite <block-dir> --out <dir> [--reencode]",
  options: { out: { type: "string" }, reencode: { type: "boolean" } },
  async run([dir], values) {
    const outDir = values.out as string | undefined;
    if (!outDir) throw new UsageError("--out <dir> is required");
    const block = await openBlockDir(dir);
    await mkdir(outDir, { recursive: true });
    const sink = new DirBlockSink(outDir, newUlid());
    try {
      await rewriteBlock(block, sink, { reencode: Boolean(values.reencode), ulid: sink.ulid });
      process.stdout.write((await sink.commit()) + "\n");
    } catch (e) {
      await sink.abort();
      throw e;
    } finally {
      await block.close();
    }
    return 0;
  },
};
