/**
 * The downsampling engine: one block in (raw or already downsampled), one block out at a
 * coarser resolution, series by series, as Thanos' compactor writes it (T: pkg/compact/
 * downsample/downsample.go Downsample, streamed_block_writer.go). Works through the
 * BlockSource/BlockSink ports only.
 */
import {
  BlockReader,
  BlockWriter,
  FormatError,
  RESOLUTION_1H,
  RESOLUTION_5M,
  blockResolution,
  newUlid,
  type BlockMeta,
  type BlockSink,
  type BlockSource,
  type ChunkToWrite,
  type DownsampleResolution,
  type WrittenBlock,
} from "@strata/tsdb";
import { SeriesDownsampler, inSeries } from "./series.ts";
import { defaultWorkers, workerLanes } from "./pool.ts";
import { downsampleInBatches, verifySeries } from "./parallel.ts";

export interface DownsampleOptions {
  resolution: DownsampleResolution;
  /** ULID of the new block (default: a fresh one). */
  ulid?: string;
  /** Max bytes per chunk segment (default as Prometheus). */
  segmentSize?: number;
  /**
   * Worker threads downsampling batches of series beside this one (default: every core
   * but one, at most 3; 0 = all on this thread). The output is the same either way.
   */
  workers?: number;
  /** Input chunk bytes per batch given to a worker (default 1 MiB). */
  batchBytes?: number;
}

/**
 * Downsample the block behind `input` to `opts.resolution` and write the result into
 * `sink` (the caller commits or aborts it). Tombstones are not applied, as in Thanos
 * (object-store blocks carry none; deletions are rewrites).
 */
export async function downsampleBlock(
  input: BlockSource,
  sink: BlockSink,
  opts: DownsampleOptions,
): Promise<WrittenBlock> {
  const reader = await BlockReader.open(input);
  try {
    const inRes = blockResolution(reader.meta);
    if (opts.resolution !== RESOLUTION_5M && opts.resolution !== RESOLUTION_1H) {
      throw new RangeError(`target resolution must be 300000 (5m) or 3600000 (1h), got ${opts.resolution}`);
    }
    if (inRes >= opts.resolution) {
      throw new FormatError(
        "invalid-value",
        `block ${reader.meta.ulid} is at resolution ${inRes} ms; cannot downsample to ${opts.resolution} ms`,
        {
          file: `${input.name}/meta.json`,
          expected: `thanos.downsample.resolution < ${opts.resolution}`,
          found: String(inRes),
        },
      );
    }
    const writer = new BlockWriter(sink, { segmentSize: opts.segmentSize });
    await writer.addSymbols(reader.index.symbols);
    const ds = new SeriesDownsampler(inRes, opts.resolution);
    const lanes = workerLanes(opts.workers ?? defaultWorkers());
    // Records come unchecked and are checked series by series (by the workers when there
    // are some), so a bad CRC is reported with its series, the same way on either path.
    const series = reader.series({ withRecords: true, verifyRecords: false });
    const verify = (ref: number, record: Uint8Array) => reader.chunks.verifyRecord(ref, record);
    if (lanes.length > 0) {
      await downsampleInBatches(series, writer, ds, lanes, {
        block: input.name,
        inRes,
        outRes: opts.resolution,
        batchBytes: opts.batchBytes,
        verify,
      });
    } else {
      for await (const s of series) {
        if (s.chunks.length === 0) continue;
        let out: ChunkToWrite[];
        try {
          verifySeries(s, verify);
          out = ds.series(s.chunks);
        } catch (e) {
          throw inSeries(e, input.name, s.labels);
        }
        await writer.addSeries(s.labels, out);
      }
    }
    return await writer.finish(outputMeta(reader.meta, opts.ulid ?? newUlid(), opts.resolution));
  } finally {
    await reader.close();
  }
}

/**
 * Thanos' output meta: the input's (time range, compaction level, sources, parents,
 * external labels kept) with a new ULID, the target resolution and source "compactor".
 * The writer recomputes stats, segment files, files and index stats.
 */
export function outputMeta(input: BlockMeta, ulid: string, resolution: number): BlockMeta {
  const thanos = input.thanos ?? {};
  return {
    ...input,
    ulid,
    version: 1,
    stats: {},
    thanos: {
      ...thanos,
      version: 1,
      labels: thanos.labels ?? {},
      downsample: { resolution },
      source: "compactor",
    },
  };
}
