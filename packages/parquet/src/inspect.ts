import type { ByteSource } from "@strata/tsdb";
import { type FileMetaData, parquetMetadataAsync } from "hyparquet";

/** What `strata parquet inspect` shows of one file. */
export interface ParquetFileInfo {
  bytes: number;
  rows: number;
  createdBy: string | undefined;
  keyValue: Record<string, string>;
  columns: { name: string; type: string; repetition: string; logical: string | undefined }[];
  rowGroups: {
    rows: number;
    compressedBytes: number;
    uncompressedBytes: number;
    sortingColumns: string[];
    columns: { name: string; codec: string; encodings: string[]; compressedBytes: number; bloomFilterBytes: number }[];
  }[];
}

const MAX_FOOTER = 64 * 1024 * 1024;

/** Reads a file's footer (through hyparquet) into a summary; the footer size is capped. */
export async function inspectParquet(src: ByteSource): Promise<ParquetFileInfo> {
  const buffer = {
    byteLength: src.size,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const e = Math.min(end ?? src.size, src.size);
      if (e - start > MAX_FOOTER) throw new RangeError(`parquet footer read of ${e - start} bytes over the cap`);
      const b = await src.read(start, e - start);
      return b.slice().buffer as ArrayBuffer;
    },
  };
  const md: FileMetaData = await parquetMetadataAsync(buffer);
  const leaves = md.schema.slice(1);
  const kv: Record<string, string> = {};
  for (const e of md.key_value_metadata ?? []) kv[e.key] = e.value ?? "";
  return {
    bytes: src.size,
    rows: Number(md.num_rows),
    createdBy: md.created_by,
    keyValue: kv,
    columns: leaves.map((s) => ({
      name: s.name,
      type: String(s.type ?? "group"),
      repetition: String(s.repetition_type ?? ""),
      logical: s.logical_type?.type,
    })),
    rowGroups: md.row_groups.map((rg) => ({
      rows: Number(rg.num_rows),
      compressedBytes: Number(rg.total_compressed_size ?? 0),
      uncompressedBytes: Number(rg.total_byte_size),
      sortingColumns: (rg.sorting_columns ?? []).map((s) => leaves[s.column_idx]?.name ?? `#${s.column_idx}`),
      columns: rg.columns.map((c) => ({
        name: c.meta_data?.path_in_schema.join(".") ?? "",
        codec: String(c.meta_data?.codec ?? ""),
        encodings: (c.meta_data?.encodings ?? []).map(String),
        compressedBytes: Number(c.meta_data?.total_compressed_size ?? 0),
        bloomFilterBytes: Number(c.meta_data?.bloom_filter_length ?? 0),
      })),
    })),
  };
}
