import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

// Placeholder until its engine lands; replaced by the owning issue's work.
export const downsampleCommand: Command = {
  summary: "downsample a block to 5m or 1h resolution",
  usage: "downsample <block-dir> --resolution 5m|1h --out <dir>",
  options: {},
  async run() {
    throw new UsageError("not implemented yet");
  },
};
