import {
  type BlockSink,
  BlockReader,
  type BlockSource,
  type ChunkMeta,
  getLabel,
  type Label,
  METRIC_NAME,
} from "@strata/tsdb";
import { ParquetFileWriter, type WrittenFile } from "./file-writer.ts";
import { Codec } from "./format.ts";
import { SeriesReencoder } from "./reencode.ts";
import { SAMPLES_PER_CHUNK } from "./chunk-value.ts";
import {
  chunksColumns,
  chunksFileName,
  compareGo,
  dataColumnCount,
  labelColumn,
  labelsColumns,
  labelsFileName,
  MAX_COLUMNS,
  MD_DATA_COL_DURATION,
  MD_MAX_T,
  MD_MIN_T,
  ROOT_NAME,
  type ShardSchema,
  shardSchema,
  SYSTEM_COLUMNS,
} from "./schema.ts";
import { encodeColIndexes, seriesHash } from "./row.ts";
import { planShards, type SeriesKey } from "./shards.ts";
import { converterMarkJson, CONVERTER_MARK_FILE } from "./mark.ts";
import { zstdCompressor } from "./zstd.ts";
import type { ChunkBufferFactory } from "./chunk-buffer.ts";
import { spillBuffers } from "./spill.ts";

export interface ConvertOptions {
  /** Width of a data column (ms); parquet-common's and Cortex's default 8h. */
  colDurationMs?: number;
  /** Rows per row group (Cortex's -parquet-converter.max-rows-per-row-group, 1e6). */
  rowGroupSize?: number;
  /** Row groups per shard (Cortex's -parquet-converter.num-row-groups; 0 = unlimited, one shard unless columns overflow). */
  numRowGroups?: number;
  /** Columns per labels file, system columns included (parquet-go's MaxColumnIndex by default). */
  maxColumns?: number;
  /** Labels rows are sorted by, then by the whole label set; `__name__` first as Cortex does. */
  sortBy?: readonly string[];
  /** Labels whose column gets a bloom filter (10 bits per distinct value). */
  bloomFilterLabels?: readonly string[];
  /** zstd level of every page (default 3; parquet-common's SpeedBetterCompression is about 7). */
  zstdLevel?: number;
  /** Write `parquet-converter-mark.json` last (default true). */
  writeMark?: boolean;
  samplesPerChunk?: number;
  /** Encoded bytes after which a page is cut (parquet-go's page buffer, 256 KiB). */
  pageBytes?: number;
  /**
   * A directory for scratch files holding each column chunk until its row group is written
   * (Cortex's -parquet-converter.file-buffer-enabled); without it they wait in memory, so a
   * row group of 1M series costs its compressed size.
   */
  spillDir?: string;
  signal?: AbortSignal;
}

export interface ConvertedShard {
  shard: number;
  rows: number;
  labels: WrittenFile & { name: string; columns: number };
  chunks: WrittenFile & { name: string; columns: number };
}

export interface ConvertResult {
  ulid: string;
  minTime: number;
  maxTime: number;
  series: number;
  shards: ConvertedShard[];
  /** Name of the mark written last, when it was. */
  mark: string | undefined;
}

export const DEFAULT_COL_DURATION_MS = 8 * 3600_000;
/**
 * zstd level. parquet-common asks klauspost's SpeedBetterCompression ("about zstd level 7-8");
 * the level changes sizes, not the format: level 3 measured ~2x faster at level 7's size +2%.
 */
export const DEFAULT_ZSTD_LEVEL = 3;
export const DEFAULT_ROW_GROUP_SIZE = 1_000_000;

/**
 * Converts one TSDB block into parquet-common's files as Cortex's parquet-converter writes
 * them: `<shard>.labels.parquet` and `<shard>.chunks.parquet` per shard, then the mark. Two
 * passes over the index (keys, then rows); memory is one row group's pages plus, per series,
 * its id and sort key.
 */
export async function convertBlock(
  source: BlockSource,
  sink: BlockSink,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  const colDuration = opts.colDurationMs ?? DEFAULT_COL_DURATION_MS;
  const rowGroupSize = opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  const sortBy = opts.sortBy ?? [METRIC_NAME];
  const bloom = opts.bloomFilterLabels ?? [METRIC_NAME];
  const maxColumns = opts.maxColumns ?? MAX_COLUMNS;
  if (!(colDuration > 0) || !(rowGroupSize > 0) || maxColumns <= SYSTEM_COLUMNS) {
    throw new RangeError("colDurationMs and rowGroupSize must be positive, maxColumns above 2");
  }
  const block = await BlockReader.open(source);
  const spill = opts.spillDir === undefined ? undefined : spillBuffers(opts.spillDir);
  try {
    const { minTime: mint, maxTime: maxt, ulid } = block.meta;
    const nData = dataColumnCount(mint, maxt, colDuration);
    const keys = await collectKeys(block, mint, maxt, sortBy);
    const inIndexOrder = sortKeys(keys);
    const plan = await planShards(block, keys, inIndexOrder, {
      rowGroupSize,
      numRowGroups: opts.numRowGroups ?? 0,
      maxColumns,
      indexLabelNames: block.index.labelNames(),
    });
    const compress = zstdCompressor(opts.zstdLevel ?? DEFAULT_ZSTD_LEVEL);
    const shards: ConvertedShard[] = [];
    for (let shard = 0; shard < plan.length; shard++) {
      opts.signal?.throwIfAborted();
      const p = plan[shard]!;
      const schema = shardSchema(p.labelNames, nData);
      shards.push(
        await writeShard(block, sink, shard, schema, p.series, inIndexOrder, {
          mint,
          maxt,
          colDuration,
          rowGroupSize,
          sortBy,
          bloom,
          compress,
          samplesPerChunk: opts.samplesPerChunk ?? SAMPLES_PER_CHUNK,
          pageBytes: opts.pageBytes ?? 256 * 1024,
          buffers: spill?.factory,
          signal: opts.signal,
        }),
      );
    }
    let mark: string | undefined;
    if (opts.writeMark ?? true) {
      const s = await sink.create(CONVERTER_MARK_FILE);
      await s.write(new TextEncoder().encode(converterMarkJson(shards.length)));
      await s.close();
      mark = CONVERTER_MARK_FILE;
    }
    return { ulid, minTime: mint, maxTime: maxt, series: keys.length, shards, mark };
  } finally {
    spill?.cleanup();
    await block.close();
  }
}

/** Pass 1: every series with a chunk overlapping [mint, maxt], with its sort key. */
async function collectKeys(
  block: BlockReader,
  mint: number,
  maxt: number,
  sortBy: readonly string[],
): Promise<SeriesKey[]> {
  const keys: SeriesKey[] = [];
  const cur = block.index.seriesCursor();
  let pos = 0;
  for (;;) {
    const s = cur.tryNext() ?? (await cur.next());
    if (s === null) break;
    if (!s.chunks.some((c) => mint <= c.maxTime && c.minTime <= maxt)) continue;
    keys.push({ id: s.id, key: sortBy.map((n) => getLabel(s.labels, n) ?? ""), pos: pos++ });
  }
  return keys;
}

/** Sorts by the sort labels' values, then index order (= labels order); true if that is index order. */
function sortKeys(keys: SeriesKey[]): boolean {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) if (compareKeys(keys[i - 1]!, keys[i]!) > 0) sorted = false;
  if (!sorted) keys.sort(compareKeys);
  return sorted;
}

function compareKeys(a: SeriesKey, b: SeriesKey): number {
  for (let i = 0; i < a.key.length; i++) {
    const c = compareGo(a.key[i]!, b.key[i]!);
    if (c !== 0) return c;
  }
  return a.pos - b.pos;
}

interface ShardOptions {
  mint: number;
  maxt: number;
  colDuration: number;
  rowGroupSize: number;
  sortBy: readonly string[];
  bloom: readonly string[];
  compress: (b: Uint8Array) => Promise<Uint8Array>;
  samplesPerChunk: number;
  pageBytes: number;
  buffers: ChunkBufferFactory | undefined;
  signal: AbortSignal | undefined;
}

async function writeShard(
  block: BlockReader,
  sink: BlockSink,
  shard: number,
  schema: ShardSchema,
  series: readonly SeriesKey[],
  inIndexOrder: boolean,
  o: ShardOptions,
): Promise<ConvertedShard> {
  const kv: [string, string][] = [
    [MD_DATA_COL_DURATION, String(o.colDuration)],
    [MD_MAX_T, String(o.maxt)],
    [MD_MIN_T, String(o.mint)],
  ];
  const common = {
    rootName: ROOT_NAME,
    keyValue: kv,
    codec: Codec.ZSTD,
    compress: o.compress,
    pageBytes: o.pageBytes,
    buffers: o.buffers,
  };
  const createdBy = "strata (parquet-common format)";
  const lcols = labelsColumns(schema, o.bloom);
  const { specs: ccols, dataIndex } = chunksColumns(schema);
  const lname = labelsFileName(shard);
  const cname = chunksFileName(shard);
  const lw = new ParquetFileWriter(await sink.create(lname), {
    ...common,
    columns: lcols,
    sortingColumns: o.sortBy.map(labelColumn),
    createdBy,
  });
  const cw = new ParquetFileWriter(await sink.create(cname), {
    ...common,
    columns: ccols,
    sortingColumns: o.sortBy.map(labelColumn),
    createdBy,
  });
  const enc = new SeriesReencoder({
    mint: o.mint,
    maxt: o.maxt,
    colDuration: o.colDuration,
    dataColumns: schema.dataColumns,
    samplesPerChunk: o.samplesPerChunk,
  });
  const lrow: (Uint8Array | string | undefined)[] = new Array(lcols.length);
  const crow: (Uint8Array | undefined)[] = new Array(ccols.length);
  const nLabels = schema.labelNames.length;
  let rows = 0;
  const emit = async (labels: Label[], chunks: ChunkMeta[], id: number): Promise<void> => {
    const values = enc.encode(chunks, block.tombstones.get(id));
    if (values === undefined) return;
    lrow.fill(undefined);
    const idx: number[] = [];
    for (const l of labels) {
      const ci = schema.labelIndex.get(l.name);
      if (ci === undefined) throw new Error(`label ${l.name} has no column in shard ${shard}`);
      lrow[ci] = l.value;
      idx.push(ci);
    }
    lrow[nLabels] = encodeColIndexes(idx);
    lrow[nLabels + 1] = seriesHash(labels);
    for (let i = 0; i < values.length; i++) crow[dataIndex[i]!] = values[i]!;
    lw.addRow(lrow);
    cw.addRow(crow);
    rows++;
    await lw.drain();
    await cw.drain();
    if (lw.bufferedRows >= o.rowGroupSize) {
      await lw.flushRowGroup();
      await cw.flushRowGroup();
    }
  };
  try {
    if (inIndexOrder) {
      // One walk in index order over this shard's ids (a contiguous run of the sorted keys).
      const want = new Set(series.map((s) => s.id));
      const last = series.length > 0 ? series[series.length - 1]!.id : -1;
      const cur = block.seriesCursor({ withChunks: true });
      for (;;) {
        const s = cur.tryNext() ?? (await cur.next());
        if (s === null) break;
        if (s.id > last) break;
        if (!want.has(s.id)) continue;
        o.signal?.throwIfAborted();
        await emit(s.labels, s.chunks, s.id);
      }
    } else {
      for (const k of series) {
        o.signal?.throwIfAborted();
        const e = await block.index.series(k.id);
        const chunks: ChunkMeta[] = [];
        for (const c of e.chunks) chunks.push({ ...c, chunk: await block.chunks.chunk(c.ref) });
        await emit(e.labels, chunks, k.id);
      }
    }
  } catch (e) {
    // Unfinished files are abandoned (an S3 upload aborted): the caller removes what was stored.
    await Promise.allSettled([lw.abort(), cw.abort()]);
    throw e;
  }
  const lf = await lw.close();
  const cf = await cw.close();
  return {
    shard,
    rows,
    labels: { ...lf, name: lname, columns: lcols.length },
    chunks: { ...cf, name: cname, columns: ccols.length },
  };
}
