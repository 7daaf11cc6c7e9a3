// Assembles the command table and dispatches: argv → command → exit code.
import { parseArgs } from "node:util";
import { FormatError } from "@strata/tsdb";
import { UsageError, commandHelp, type Command } from "./command.ts";
import { dumpCommand } from "./commands/dump.ts";
import { inspectCommand } from "./commands/inspect.ts";
import { rewriteCommand } from "./commands/rewrite.ts";
import { verifyCommand } from "./commands/verify.ts";
import { planCommand } from "./commands/plan.ts";
import { compactCommand } from "./commands/compact.ts";
import { downsampleCommand } from "./commands/downsample.ts";
import { indexCommand } from "./commands/bucket-index.ts";
import { localCommand } from "./commands/local.ts";
import { replayCommand } from "./commands/replay.ts";
import { statusCommand } from "./commands/status.ts";
import { quarantineCommand } from "./commands/quarantine.ts";
import { lsCommand } from "./commands/ls.ts";
import { markCommand, unmarkCommand } from "./commands/mark.ts";
import { uploadCommand } from "./commands/upload.ts";
import { webCommand } from "./commands/web.ts";
import { dlqCommand } from "./commands/dlq.ts";

const commands: Record<string, Command> = {
  dump: dumpCommand,
  inspect: inspectCommand,
  rewrite: rewriteCommand,
  verify: verifyCommand,
  plan: planCommand,
  compact: compactCommand,
  downsample: downsampleCommand,
  index: indexCommand,
  local: localCommand,
  replay: replayCommand,
  status: statusCommand,
  quarantine: quarantineCommand,
  ls: lsCommand,
  mark: markCommand,
  unmark: unmarkCommand,
  upload: uploadCommand,
  web: webCommand,
  dlq: dlqCommand,
};

function help(): string {
  const lines = [
    "strata: Prometheus TSDB block tooling (event-driven compactor toolkit)",
    "",
    "Usage: strata <command> [options]",
    "",
    "Commands:",
  ];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `strata <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help() + "\n");
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`strata: unknown command ${JSON.stringify(name)}\n\n${help()}\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write((await commandHelp(cmd)) + "\n");
      return 0;
    }
    return await cmd.run(positionals, values);
  } catch (e) {
    return reportError(name, e);
  }
}

/** Bad input is reported as one line naming what was wrong; only bugs get a stack. */
function reportError(name: string, e: unknown): number {
  if (e instanceof FormatError) {
    process.stderr.write(`strata ${name}: ${e.message}\n`);
    return 1;
  }
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith?.("ERR_PARSE_ARGS")) {
    process.stderr.write(`strata ${name}: ${(e as Error).message}\n`);
    return 2;
  }
  const errno = e as NodeJS.ErrnoException;
  if (errno.code === "ENOENT" || errno.code === "EACCES" || errno.code === "ENOTDIR") {
    process.stderr.write(`strata ${name}: ${errno.message}\n`);
    return 1;
  }
  process.stderr.write(`strata ${name}: internal error: ${(e as Error).stack ?? String(e)}\n`);
  return 70;
}
