// Assembles the command table and dispatches: argv → command → exit code.
// Start-up is the table alone: a command's module (and the engines, schemas and SDKs it
// imports) loads only when that command runs or prints its help, so `strata --help` reads no
// engine and `strata verify --help` reads only verify's (test/startup.test.ts, bench/startup.bench.ts).
import { parseArgs } from "node:util";
import { UsageError, commandHelp, type Command } from "./command.ts";

/** One row of the table: what `strata --help` lists, and how to load the command itself. */
interface Entry {
  group: keyof typeof GROUPS;
  /** The same text as the command's own `summary` (checked by test/command-table.test.ts). */
  summary: string;
  load: () => Promise<Command>;
}

const GROUPS = {
  block: "Block tools (one block, or the few given)",
  bucket: "Bucket tools (a whole bucket: file:///dir or s3://bucket[/prefix])",
  pipeline: "Pipeline (the local runtime, the jobs queue)",
} as const;

// To add a command: one row here, `load` importing its module under commands/.
const commands: Record<string, Entry> = {
  dump: {
    group: "block",
    summary: "print every sample of a block, as `promtool tsdb dump` does ({labels} value timestamp)",
    load: async () => (await import("./commands/dump.ts")).dumpCommand,
  },
  inspect: {
    group: "block",
    summary: "show a block's meta, stats, label cardinalities and chunk encodings",
    load: async () => (await import("./commands/inspect.ts")).inspectCommand,
  },
  rewrite: {
    group: "block",
    summary: "read a block and write it anew with Strata's writer; prints the new block's directory",
    load: async () => (await import("./commands/rewrite.ts")).rewriteCommand,
  },
  verify: {
    group: "block",
    summary: "check blocks against every format invariant; --repair writes fixed copies",
    load: async () => (await import("./commands/verify.ts")).verifyCommand,
  },
  compact: {
    group: "block",
    summary: "compact the given blocks into new block(s); prints each output block's directory",
    load: async () => (await import("./commands/compact.ts")).compactCommand,
  },
  downsample: {
    group: "block",
    summary: "downsample a block to 5m or 1h resolution (Thanos aggregate chunks); prints the new block's directory",
    load: async () => (await import("./commands/downsample.ts")).downsampleCommand,
  },
  convert: {
    group: "block",
    summary: "convert a block to Parquet as Cortex's parquet-converter writes it (parquet-common's format)",
    load: async () => (await import("./commands/convert.ts")).convertCommand,
  },
  parquet: {
    group: "block",
    summary: "inspect converted Parquet files: schema, row groups, sizes, time range, the converter mark",
    load: async () => (await import("./commands/parquet.ts")).parquetCommand,
  },
  plan: {
    group: "bucket",
    summary: "print the compaction groups and plans for a directory of blocks",
    load: async () => (await import("./commands/plan.ts")).planCommand,
  },
  index: {
    group: "bucket",
    summary: "rebuild or show a tenant's bucket index (bucket-index.json.gz)",
    load: async () => (await import("./commands/bucket-index.ts")).indexCommand,
  },
  status: {
    group: "bucket",
    summary: "per tenant: blocks by level and resolution, pending plans, quarantined blocks, index age",
    load: async () => (await import("./commands/status.ts")).statusCommand,
  },
  quarantine: {
    group: "bucket",
    summary: "verify quarantined blocks again in place; lift the quarantine and index those that now pass",
    load: async () => (await import("./commands/quarantine.ts")).quarantineCommand,
  },
  ls: {
    group: "bucket",
    summary: "list a bucket's blocks: time range, level, resolution, labels, size, marks, indexed or not",
    load: async () => (await import("./commands/ls.ts")).lsCommand,
  },
  mark: {
    group: "bucket",
    summary: "mark blocks for deletion, no-compact or no-downsample (both marker copies and the bucket index)",
    load: async () => (await import("./commands/mark.ts")).markCommand,
  },
  unmark: {
    group: "bucket",
    summary: "remove blocks' deletion, no-compact or no-downsample markers (both copies and the bucket index)",
    load: async () => (await import("./commands/mark.ts")).unmarkCommand,
  },
  upload: {
    group: "bucket",
    summary: "upload local blocks to a bucket (chunks, index, meta.json last), each verified first",
    load: async () => (await import("./commands/upload.ts")).uploadCommand,
  },
  overrides: {
    group: "bucket",
    summary: "show or edit per-tenant settings in strata-overrides.json: retention, replica labels, split, enabled",
    load: async () => (await import("./commands/overrides.ts")).overridesCommand,
  },
  web: {
    group: "bucket",
    summary: "serve a page of the bucket: blocks on a timeline per tenant, marks, quarantine, pending plans, index age",
    load: async () => (await import("./commands/web.ts")).webCommand,
  },
  local: {
    group: "pipeline",
    summary: "run the pipeline locally: S3 + SQS emulator on 127.0.0.1:4566, the worker, notifications, the schedule",
    load: async () => (await import("./commands/local.ts")).localCommand,
  },
  replay: {
    group: "pipeline",
    summary:
      "send any job (verify, compact, downsample, plan, retention, cleanup, index-sync, schedule-page, convert) to the jobs queue",
    load: async () => (await import("./commands/replay.ts")).replayCommand,
  },
  dlq: {
    group: "pipeline",
    summary: "list, show or redrive dead letters, with the error the pipeline recorded for each",
    load: async () => (await import("./commands/dlq.ts")).dlqCommand,
  },
};

/** The names and summaries `strata --help` lists (for tests; loads no command). */
export const commandTable: Readonly<Record<string, Readonly<Entry>>> = commands;

function help(): string {
  const lines = [
    "strata: Prometheus TSDB block tooling (event-driven compactor toolkit)",
    "",
    "Usage: strata <command> [options]",
  ];
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  for (const [group, title] of Object.entries(GROUPS)) {
    lines.push("", `${title}:`);
    for (const [name, c] of Object.entries(commands))
      if (c.group === group) lines.push(`  ${name.padEnd(width)}${c.summary}`);
  }
  lines.push(
    "",
    "`strata <command> --help` (or `strata help <command>`) shows what each of its options does, with examples.",
  );
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  let [name, ...rest] = argv;
  // `strata help <command>` is `strata <command> --help`.
  if (name === "help" && rest[0] !== undefined) [name, rest] = [rest[0], ["--help"]];
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help() + "\n");
    return 0;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    process.stderr.write(`strata: unknown command ${JSON.stringify(name)}\n\n${help()}\n`);
    return 2;
  }
  try {
    const cmd = await entry.load();
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
    return await reportError(name, e);
  }
}

/** Bad input is reported as one line naming what was wrong; only bugs get a stack. */
async function reportError(name: string, e: unknown): Promise<number> {
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) {
    process.stderr.write(`strata ${name}: ${(e as Error).message}\n`);
    return 2;
  }
  if (code === "ENOENT" || code === "EACCES" || code === "ENOTDIR" || (await isFormatError(e))) {
    process.stderr.write(`strata ${name}: ${(e as Error).message}\n`);
    return 1;
  }
  // A bucket's own errors and what S3 answered (no such bucket, access denied, unreachable).
  const bucket = await (await import("./bad-input.ts")).reportBucketProblem(name, e);
  if (bucket !== undefined) return bucket;
  process.stderr.write(`strata ${name}: internal error: ${(e as Error | null)?.stack ?? String(e)}\n`);
  return 70;
}

/**
 * Whether `e` is a FormatError (bad bytes in a block). Imported here, not at the top: the
 * format library is large, and a FormatError can only have come from an already loaded copy,
 * so on that path the import costs nothing.
 */
async function isFormatError(e: unknown): Promise<boolean> {
  if (!(e instanceof Error)) return false;
  const tsdb = await import("@strata/tsdb").catch(() => undefined);
  return tsdb !== undefined && e instanceof tsdb.FormatError;
}
