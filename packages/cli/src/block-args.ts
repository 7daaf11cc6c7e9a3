import { stat } from "node:fs/promises";
import { BlockReader } from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";
import { UsageError } from "./command.ts";

/** Open the block directory named on the command line, with a usage error if it is not one. */
export async function openBlockDir(dir: string | undefined): Promise<BlockReader> {
  if (!dir) throw new UsageError("a block directory is required");
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`${dir}: not a directory`);
  return BlockReader.open(new DirBlockSource(dir));
}
