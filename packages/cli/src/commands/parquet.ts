import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CONVERTER_MARK_FILE,
  inspectParquet,
  MD_DATA_COL_DURATION,
  MD_MAX_T,
  MD_MIN_T,
  type ParquetFileInfo,
} from "@strata/parquet";
import { formatDuration } from "@strata/tsdb";
import { FileSource } from "@strata/tsdb/node";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";

const MAX_MARK_BYTES = 64 * 1024;

function iso(ms: string | undefined): string {
  const n = Number(ms);
  return ms !== undefined && Number.isFinite(n) ? new Date(n).toISOString() : "?";
}

export function describeFile(name: string, f: ParquetFileInfo): string {
  const kv = f.keyValue;
  const dur = Number(kv[MD_DATA_COL_DURATION]);
  const lines = [
    `${name}: ${f.bytes} bytes, ${f.rows} rows, ${f.rowGroups.length} row group(s), ${f.columns.length} columns`,
    `  time range ${iso(kv[MD_MIN_T])} – ${iso(kv[MD_MAX_T])}` +
      (Number.isFinite(dur) && dur > 0 ? `, data columns of ${formatDuration(dur)}` : ""),
    `  created by ${f.createdBy ?? "?"}`,
    "  schema:",
  ];
  for (const c of f.columns) lines.push(`    ${c.name}  ${c.type} ${c.repetition}${c.logical ? ` ${c.logical}` : ""}`);
  f.rowGroups.forEach((g, i) => {
    lines.push(
      `  row group ${i}: ${g.rows} rows, ${g.compressedBytes} bytes compressed (${g.uncompressedBytes} uncompressed)` +
        (g.sortingColumns.length ? `, sorted by ${g.sortingColumns.join(", ")}` : ""),
    );
    for (const c of g.columns) {
      lines.push(
        `    ${c.name}  ${c.codec} ${c.encodings.join(",")}  ${c.compressedBytes} bytes` +
          (c.bloomFilterBytes ? `  bloom filter ${c.bloomFilterBytes} bytes` : ""),
      );
    }
  });
  return lines.join("\n");
}

export const parquetCommand: Command = {
  summary: "inspect converted Parquet files: schema, row groups, sizes, time range, the converter mark",
  usage: "parquet inspect <dir> [--json]",
  options: { json: { type: "boolean" } },
  optionHelp: { json: "print one JSON object: each file's summary and the mark" },
  details: async () =>
    [
      "<dir> holds what `strata convert` (or Cortex's parquet-converter) wrote: <shard>.labels.parquet,",
      "<shard>.chunks.parquet and parquet-converter-mark.json. Only the footers are read.",
      "",
      "Examples:",
      "  strata parquet inspect ./parquet/01JB3Y8ZK6M0N4R2T5V7W9X1Y3",
      "  strata parquet inspect ./pq --json | jq '.files[\"0.labels.parquet\"].rowGroups | length'",
    ].join("\n"),
  run: async ([sub, dir, ...extra], values) => {
    if (sub !== "inspect") throw new UsageError(`unknown subcommand ${JSON.stringify(sub ?? "")}: expected inspect`);
    if (!dir) throw new UsageError("a directory is required");
    if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
    const entries = await readdir(dir).catch(() => {
      throw new UsageError(`${dir}: not a directory`);
    });
    const names = entries.filter((n) => n.endsWith(".parquet")).sort();
    if (names.length === 0) throw new UsageError(`${dir}: no .parquet file`);
    const files: Record<string, ParquetFileInfo> = {};
    for (const n of names) {
      const src = await FileSource.open(join(dir, n));
      try {
        files[n] = await inspectParquet(src);
      } catch (e) {
        throw new Error(`${join(dir, n)}: ${(e as Error).message}`, { cause: e });
      } finally {
        await src.close?.();
      }
    }
    let mark: unknown;
    if (entries.includes(CONVERTER_MARK_FILE)) {
      const text = await readFile(join(dir, CONVERTER_MARK_FILE), "utf8");
      mark = text.length > MAX_MARK_BYTES ? undefined : JSON.parse(text);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ files, mark: mark ?? null })}\n`);
      return 0;
    }
    for (const n of names) process.stdout.write(`${describeFile(n, files[n]!)}\n`);
    process.stdout.write(
      mark === undefined ? "no converter mark\n" : `${CONVERTER_MARK_FILE}: ${JSON.stringify(mark)}\n`,
    );
    return 0;
  },
};
