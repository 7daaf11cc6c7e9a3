// Every block command's `--help` says what each option does and shows examples, one on a bucket URL.
import { describe, expect, it } from "vitest";
import { commandHelp, type Command } from "../src/command.ts";

const COMMANDS: Record<string, () => Promise<Command>> = {
  verify: async () => (await import("../src/commands/verify.ts")).verifyCommand,
  inspect: async () => (await import("../src/commands/inspect.ts")).inspectCommand,
  dump: async () => (await import("../src/commands/dump.ts")).dumpCommand,
  plan: async () => (await import("../src/commands/plan.ts")).planCommand,
  rewrite: async () => (await import("../src/commands/rewrite.ts")).rewriteCommand,
  compact: async () => (await import("../src/commands/compact.ts")).compactCommand,
  downsample: async () => (await import("../src/commands/downsample.ts")).downsampleCommand,
};

describe("block commands' --help", () => {
  for (const [name, load] of Object.entries(COMMANDS)) {
    it(`strata ${name} --help describes every option and gives examples, one with a URL`, async () => {
      const c = await load();
      expect(Object.keys(c.optionHelp ?? {}).sort()).toEqual(Object.keys(c.options).sort());
      for (const text of Object.values(c.optionHelp ?? {})) expect(text.length).toBeGreaterThan(10);
      expect(c.usage).toMatch(/url/);
      const help = await commandHelp(c);
      expect(help).toContain("Examples:");
      const examples = help.slice(help.indexOf("Examples:")).split("\n").slice(1);
      expect(examples.some((l) => l.includes(`strata ${name} `) && /(s3|file):\/\//.test(l))).toBe(true);
      expect(examples.some((l) => l.includes(`strata ${name} `) && /strata \w+ \.\//.test(l))).toBe(true);
    });
  }
});
