import type { Command } from "../main.ts";
import { UsageError } from "../main.ts";

// Placeholder until its engine lands; replaced by the owning issue's work.
export const indexCommand: Command = {
  summary: "rebuild or show a tenant's bucket index (bucket-index.json.gz)",
  usage: "index rebuild|show <bucket-url> [--tenant T]",
  options: {},
  async run() {
    throw new UsageError("not implemented yet");
  },
};
