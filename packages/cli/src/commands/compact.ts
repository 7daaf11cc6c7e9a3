import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

// Placeholder until its engine lands; replaced by the owning issue's work.
export const compactCommand: Command = {
  summary: "compact the given blocks into new block(s)",
  usage: "compact <block-dir>... --out <dir> [--dedup none|1:1|penalty] [--replica-label L]... [--shards N] [--json]",
  options: {},
  async run() {
    throw new UsageError("not implemented yet");
  },
};
