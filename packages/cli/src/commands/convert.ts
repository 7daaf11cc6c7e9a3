import { rm } from "node:fs/promises";
import { join } from "node:path";
import { convertBlock, type ConvertResult } from "@strata/parquet";
import { type BlockSink, tryParseDuration } from "@strata/tsdb";
import { FileSink } from "@strata/tsdb/node";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { BlockArgs, inBlock, isUrlArg } from "../block-args.ts";

function positiveInt(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}

/** Files written into one directory; on failure the ones made so far are removed. */
function dirSink(dir: string): BlockSink & { undo(): Promise<void>; close(): Promise<void> } {
  const made: string[] = [];
  return {
    async create(name) {
      const path = join(dir, name);
      made.push(path);
      return FileSink.create(path);
    },
    undo: async () => {
      await Promise.all(made.map((p) => rm(p, { force: true })));
    },
    close: async () => {},
  };
}

/** Files written into a block's folder in a bucket (as Cortex writes them); on failure they are deleted. */
async function bucketSink(out: string): Promise<BlockSink & { undo(): Promise<void>; close(): Promise<void> }> {
  const b = await import("@strata/bucket");
  let loc: import("@strata/bucket").BlockUrl;
  try {
    loc = b.parseBlockUrl(out);
  } catch (e) {
    if (e instanceof b.BucketUrlError) throw new UsageError(`--out: ${e.message}`, { cause: e });
    throw e;
  }
  const store = await b.openStore(loc.bucketUrl);
  const prefix = new b.BucketLayout({ rootTenant: b.ROOT_TENANT }).blockPrefix(loc.tenant, loc.block);
  const made: string[] = [];
  return {
    async create(name) {
      made.push(prefix + name);
      return store.createWriter(prefix + name);
    },
    undo: async () => {
      await Promise.all(made.map((k) => store.delete(k).catch(() => {})));
    },
    close: async () => {
      await store.close?.();
    },
  };
}

export function convertReport(r: ConvertResult): string {
  const lines = [
    `block ${r.ulid}: ${r.series} series, ${r.shards.length} shard(s), ` +
      `${new Date(r.minTime).toISOString()} – ${new Date(r.maxTime).toISOString()}`,
  ];
  for (const s of r.shards) {
    for (const f of [s.labels, s.chunks]) {
      lines.push(`  ${f.name}  ${f.rows} rows  ${f.rowGroups} row group(s)  ${f.columns} columns  ${f.bytes} bytes`);
    }
  }
  if (r.mark) lines.push(`  ${r.mark}`);
  return `${lines.join("\n")}\n`;
}

export const convertCommand: Command = {
  summary: "convert a block to Parquet as Cortex's parquet-converter writes it (parquet-common's format)",
  usage:
    "convert <block-dir|block-url> --out <dir|block-url> [--col-duration 8h] [--row-group-size N] [--num-row-groups N] [--max-columns N]",
  options: {
    out: { type: "string" },
    "col-duration": { type: "string" },
    "row-group-size": { type: "string" },
    "num-row-groups": { type: "string" },
    "max-columns": { type: "string" },
  },
  optionHelp: {
    out:
      "where the files go: a directory (made if missing), or a block's folder in a bucket (s3://bucket[/prefix]/<tenant>/<ULID>, " +
      "file:///path/<tenant>/<ULID>) as Cortex writes them: <shard>.labels.parquet, <shard>.chunks.parquet, then parquet-converter-mark.json",
    "col-duration": "time each data column (s_data_<i>) covers, from the block's start (default 8h, as Cortex)",
    "row-group-size":
      "rows (series) per row group (default 1000000, Cortex's -parquet-converter.max-rows-per-row-group)",
    "num-row-groups": "row groups per shard; more series make more shards (default 0: one shard, Cortex's default)",
    "max-columns":
      "columns per labels file, two system columns included; more label names make more shards (default 65534)",
  },
  details: async () =>
    [
      "The block is a directory or a block URL (s3://bucket[/prefix]/<tenant>/<ULID>, file:///path/<tenant>/<ULID>),",
      "read in place with ranged GETs. The files are those Cortex writes into the block's folder: copy them",
      "there (with the mark last) for Cortex's parquet querier and store-gateway.",
      "",
      "Examples:",
      "  strata convert ./data/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --out ./parquet/01JB3Y8ZK6M0N4R2T5V7W9X1Y3",
      "  strata convert s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --out ./pq --row-group-size 100000",
      "  strata convert s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3 --out s3://metrics/team-a/01JB3Y8ZK6M0N4R2T5V7W9X1Y3",
    ].join("\n"),
  run: async ([dir, ...extra], values) => {
    if (!dir) throw new UsageError("a block directory or block URL is required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const out = values.out as string | undefined;
    if (!out) throw new UsageError("--out <dir|block-url> is required");
    const colText = values["col-duration"] as string | undefined;
    const colDurationMs = colText === undefined ? undefined : tryParseDuration(colText);
    if (colDurationMs !== undefined && !(colDurationMs > 0)) {
      throw new UsageError(`--col-duration must be a positive duration, got ${JSON.stringify(colText)}`);
    }
    if (colText !== undefined && colDurationMs === undefined) {
      throw new UsageError(`--col-duration: expected a duration such as 8h or 30m, got ${JSON.stringify(colText)}`);
    }
    const rowGroupSize = positiveInt(values["row-group-size"] as string | undefined, "--row-group-size", 1);
    const numRowGroups = positiveInt(values["num-row-groups"] as string | undefined, "--num-row-groups", 0);
    const maxColumns = positiveInt(values["max-columns"] as string | undefined, "--max-columns", 3);
    const args = new BlockArgs({ inputs: 1, progress: "converting" });
    try {
      const input = await args.open(dir);
      const sink = isUrlArg(out) ? await bucketSink(out) : dirSink(out);
      try {
        const r = await convertBlock(input.source, sink, { colDurationMs, rowGroupSize, numRowGroups, maxColumns });
        args.endProgress();
        process.stdout.write(convertReport(r));
      } catch (e) {
        await sink.undo();
        throw inBlock(input.name, e);
      } finally {
        await sink.close();
      }
    } finally {
      await args.close();
    }
    return 0;
  },
};
