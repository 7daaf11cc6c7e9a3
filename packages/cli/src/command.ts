// The contract between the dispatcher (main.ts) and the commands (commands/*.ts). It lives
// apart from main.ts so that commands never import the module that imports them all.
import type { ParseArgsConfig } from "node:util";

/** A command: its usage line, its options, and what it does with them. */
export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  /** What each option does, shown by `--help`. */
  optionHelp?: Record<string, string>;
  /** More text for `--help` (environment variables, examples). */
  details?: () => Promise<string>;
  run(positionals: string[], values: Record<string, unknown>): Promise<number>;
}

/**
 * Error for bad command-line use: printed without a stack, exit code 2. The CLI's one error
 * class; made from another error (a bad bucket URL, a duration), it keeps it as `cause`.
 */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A command's `--help`: usage line, summary, each option with what it does, then details. */
export async function commandHelp(c: Command): Promise<string> {
  const lines = [`Usage: strata ${c.usage}`, "", c.summary];
  lines.push("", "Options:");
  for (const [k, o] of Object.entries(c.options)) {
    const flag = `  ${o.short ? `-${o.short}, ` : ""}--${k}${o.type === "string" ? " <value>" : ""}`;
    const help = c.optionHelp?.[k];
    lines.push(help ? `${flag.padEnd(30)} ${help}` : flag);
  }
  lines.push(`${"  -h, --help".padEnd(30)} this help`);
  if (c.details) lines.push("", await c.details());
  return lines.join("\n");
}

/**
 * Resolves at the first SIGINT or SIGTERM: for long-running commands (`local`, `web`). Call it
 * before printing that Ctrl-C stops — a write to a pipe is synchronous, so whoever reads that
 * line could signal before a listener added after it exists, and the default action kills.
 */
export function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
