import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

// Placeholder until its engine lands; replaced by the owning issue's work.
export const verifyCommand: Command = {
  summary: "check blocks against every format invariant; --repair writes fixed copies",
  usage: "verify <block-dir>... [--json] [--repair --out <dir>]",
  options: {},
  async run() {
    throw new UsageError("not implemented yet");
  },
};
