import { compareStrings } from "@strata/tsdb";
import type { ColumnSpec } from "./format.ts";

/**
 * parquet-common's TSDB schema (schema/schema.go, schema/schema_builder.go): the names,
 * metadata keys and the two projections (labels file, chunks file) Cortex writes.
 */
export const LABEL_COLUMN_PREFIX = "l_";
export const DATA_COLUMN_PREFIX = "s_data_";
export const COL_INDEXES_COLUMN = "s_col_indexes";
export const SERIES_HASH_COLUMN = "s_series_hash";
export const MD_DATA_COL_DURATION = "data_col_duration_ms";
export const MD_MIN_T = "minT";
export const MD_MAX_T = "maxT";
/** parquet.Group names its fields in sorted order; WithCompression renames the root. */
export const ROOT_NAME = "compressed";
/** Two system columns count against the column limit (s_col_indexes, s_series_hash). */
export const SYSTEM_COLUMNS = 2;
/** parquet-go's MaxColumnIndex (math.MaxUint16 - 1): parquet-common's default column limit. */
export const MAX_COLUMNS = 65534;

export const labelColumn = (name: string): string => LABEL_COLUMN_PREFIX + name;
export const dataColumn = (i: number): string => DATA_COLUMN_PREFIX + String(i);
export const labelsFileName = (shard: number): string => `${shard}.labels.parquet`;
export const chunksFileName = (shard: number): string => `${shard}.chunks.parquet`;

/** Go's string order on UTF-8 bytes (parquet.Group sorts its field names so). */
export const compareGo = compareStrings;

/** Data columns of [mint, maxt] cut every `colDuration` from mint, both ends included. */
export function dataColumnCount(mint: number, maxt: number, colDuration: number): number {
  let n = 0;
  for (let t = mint; t <= maxt; t += colDuration) n++;
  return n;
}

/** Data column of a sample time (times before mint go to the first). */
export function dataColumnOf(t: number, mint: number, colDuration: number): number {
  return t < mint ? 0 : Math.floor((t - mint) / colDuration);
}

/** One shard's schema: sorted label names and the number of data columns. */
export interface ShardSchema {
  labelNames: string[];
  dataColumns: number;
  /** Label name → column index in the full schema (labels first: 'l' < 's'). */
  labelIndex: Map<string, number>;
}

export function shardSchema(labelNames: Iterable<string>, dataColumns: number): ShardSchema {
  const names = [...new Set(labelNames)].sort(compareGo);
  return { labelNames: names, dataColumns, labelIndex: new Map(names.map((n, i) => [n, i])) };
}

/** The labels file's columns: l_* (optional, dictionary), s_col_indexes, s_series_hash. */
export function labelsColumns(s: ShardSchema, bloomLabels: readonly string[]): ColumnSpec[] {
  const cols: ColumnSpec[] = s.labelNames.map((n) => ({
    name: labelColumn(n),
    optional: true,
    string: true,
    encoding: "dictionary",
    skipPageBounds: false,
    bloomBitsPerValue: bloomLabels.includes(n) ? 10 : 0,
  }));
  cols.push({
    name: COL_INDEXES_COLUMN,
    optional: false,
    string: false,
    encoding: "delta-byte-array",
    skipPageBounds: true,
    bloomBitsPerValue: 0,
  });
  cols.push({
    name: SERIES_HASH_COLUMN,
    optional: false,
    string: false,
    encoding: "plain",
    skipPageBounds: true,
    bloomBitsPerValue: 0,
  });
  return cols;
}

/** The chunks file's columns: s_data_<i> in parquet.Group's (string) order. */
export function chunksColumns(s: ShardSchema): { specs: ColumnSpec[]; dataIndex: number[] } {
  const names = Array.from({ length: s.dataColumns }, (_, i) => dataColumn(i)).sort(compareGo);
  const specs: ColumnSpec[] = names.map((name) => ({
    name,
    optional: false,
    string: false,
    encoding: "delta-length-byte-array",
    skipPageBounds: true,
    bloomBitsPerValue: 0,
  }));
  // dataIndex[i]: position of s_data_<i> among the file's columns.
  const dataIndex = Array.from({ length: s.dataColumns }, (_, i) => names.indexOf(dataColumn(i)));
  return { specs, dataIndex };
}
