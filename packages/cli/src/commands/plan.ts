import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

// Placeholder until its engine lands; replaced by the owning issue's work.
export const planCommand: Command = {
  summary: "print the compaction groups and plans for a directory of blocks",
  usage: "plan <dir>",
  options: {},
  async run() {
    throw new UsageError("not implemented yet");
  },
};
