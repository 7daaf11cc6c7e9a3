// Test support: reads our files back through hyparquet (an independent reader) and the
// block through @strata/tsdb, in the shapes the tests compare.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type FileMetaData, parquetMetadata, parquetReadObjects } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import {
  BlockReader,
  compareLabels,
  compareStrings,
  decodeXOR,
  getLabel,
  type Label,
  METRIC_NAME,
  xorNumSamples,
} from "@strata/tsdb";
import { DirBlockSource } from "@strata/tsdb/node";

export interface ParquetFile {
  bytes: Uint8Array;
  buffer: ArrayBuffer;
  md: FileMetaData;
  rows: Record<string, unknown>[];
}

export async function readParquet(path: string): Promise<ParquetFile> {
  const b = await readFile(path);
  const buffer = b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
  const md = parquetMetadata(buffer);
  const rows = (await parquetReadObjects({ file: buffer, compressors, utf8: false })) as Record<string, unknown>[];
  return { bytes: new Uint8Array(buffer), buffer, md, rows };
}

export async function readShard(dir: string, shard: number): Promise<{ labels: ParquetFile; chunks: ParquetFile }> {
  return {
    labels: await readParquet(join(dir, `${shard}.labels.parquet`)),
    chunks: await readParquet(join(dir, `${shard}.chunks.parquet`)),
  };
}

/** One series of the block: labels and samples (values as raw 64-bit patterns, NaN payloads kept). */
export interface ExpectedSeries {
  labels: Label[];
  ts: number[];
  bits: bigint[];
}

const bitsOf = (vs: Float64Array, i: number): bigint => new BigUint64Array(vs.buffer, i * 8, 1)[0]!;

/** The block's series in parquet-common's row order: by the sort labels (__name__), then the whole label set. */
export async function expectedSeries(
  blockDir: string,
  sortBy: readonly string[] = [METRIC_NAME],
): Promise<ExpectedSeries[]> {
  const block = await BlockReader.open(new DirBlockSource(blockDir));
  const out: ExpectedSeries[] = [];
  try {
    for await (const s of block.series()) {
      const e: ExpectedSeries = { labels: s.labels.map((l) => ({ ...l })), ts: [], bits: [] };
      for (const c of s.chunks) {
        const data = c.chunk!.data;
        const n = xorNumSamples(data);
        const ts = new Float64Array(n);
        const vs = new Float64Array(n);
        decodeXOR(data, ts, vs);
        for (let i = 0; i < n; i++) {
          e.ts.push(ts[i]!);
          e.bits.push(bitsOf(vs, i));
        }
      }
      out.push(e);
    }
  } finally {
    await block.close();
  }
  out.sort((a, b) => {
    for (const n of sortBy) {
      const c = compareStrings(getLabel(a.labels, n) ?? "", getLabel(b.labels, n) ?? "");
      if (c !== 0) return c;
    }
    return compareLabels(a.labels, b.labels);
  });
  return out;
}

/** Samples of one chunk as parquet-common's decoder would hand them out. */
export function xorSamples(data: Uint8Array): { ts: number[]; bits: bigint[] } {
  const n = xorNumSamples(data);
  const ts = new Float64Array(n);
  const vs = new Float64Array(n);
  decodeXOR(data, ts, vs);
  return { ts: [...ts], bits: Array.from({ length: n }, (_, i) => bitsOf(vs, i)) };
}

export const utf8 = new TextDecoder();
