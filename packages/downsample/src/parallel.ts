/**
 * The block loop with worker threads: series go out in batches, outputs come back in
 * series order to the one BlockWriter (see pool.ts for why and README "Performance").
 */
import type { BlockSeries, BlockWriter, ChunkToWrite, Labels } from "@strata/tsdb";
import {
  BatchBuilder,
  BufferPool,
  OutputBuilder,
  OutputCursor,
  buffersOf,
  fromFailure,
  type PackedOutput,
} from "./batch.ts";
import type { Lane } from "./pool.ts";
import { inSeries, type SeriesDownsampler } from "./series.ts";

/**
 * Input chunk bytes per batch handed to a worker: large enough that messages cost little
 * (~7 ms of work each), small enough that the wait for the last ones is short.
 */
const BATCH_BYTES = 1 << 20;
const BATCH_SERIES = 512;
/**
 * Batches a worker holds at once (one in work, the rest waiting): enough that it never
 * idles while this thread runs a batch itself, few enough that the wait at the end is short.
 */
const PER_WORKER = 4;
/**
 * Batches this thread may run and hold beyond those out with workers while the oldest is
 * still out: with too few it waits on a worker instead of working (measured: 2 left it
 * idle 20-130 ms per 116 MB block, 8 under 20 ms).
 */
const HELD_HERE = 8;
/** Buffers kept for reuse on each side: enough for a steady run, so memory stays bounded. */
const MAX_FREE = 4;

/** A batch on its way: output (or error) set once it is back. */
interface Pending {
  labels: Labels[];
  output?: PackedOutput;
  error?: Error;
  /** Settles when a worker's batch is back (undefined for a batch run here). */
  settled?: Promise<void>;
}

const isBack = (p: Pending) => p.output !== undefined || p.error !== undefined;

/** Check every stored record of a series read with unchecked records. */
export function verifySeries(s: BlockSeries, verify: BatchRun["verify"]): void {
  for (let i = 0; i < s.chunks.length; i++) verify(s.chunks[i]!.ref, s.records![i]!);
}

export interface BatchRun {
  /** Name of the input block, for errors. */
  block: string;
  inRes: number;
  outRes: number;
  /** Input bytes per batch (default BATCH_BYTES). */
  batchBytes?: number;
  /**
   * Check one stored record's CRC, throwing the reader's FormatError (file, offset) when it
   * fails: series come with unchecked records, which workers check on their own.
   */
  verify: (ref: number, record: Uint8Array) => void;
}

/** Batches run by workers and by this thread. */
export interface BatchCounts {
  toWorkers: number;
  here: number;
}

/**
 * Series go out in batches to workers with room; when all are busy this thread runs the
 * batch itself, so both cores stay busy whatever their relative speed. Outputs are
 * written strictly in series order; at most a few batches are held (bounded memory).
 */
export async function downsampleInBatches(
  series: AsyncIterable<BlockSeries>,
  writer: BlockWriter,
  ds: SeriesDownsampler,
  lanes: Lane[],
  run: BatchRun,
): Promise<BatchCounts> {
  const { block, inRes, outRes } = run;
  const batchBytes = run.batchBytes ?? BATCH_BYTES;
  const counts: BatchCounts = { toWorkers: 0, here: 0 };
  const queue: Pending[] = [];
  const maxQueued = lanes.length * PER_WORKER + HELD_HERE;
  // Buffers to reuse: inputs the workers handed back, outputs already written.
  const freeIn = new BufferPool(MAX_FREE);
  const freeOut = new BufferPool(MAX_FREE);
  const chunks: ChunkToWrite[] = [];
  const writeHead = async (): Promise<void> => {
    const p = queue.shift()!;
    await p.settled;
    if (p.error !== undefined) throw p.error;
    const out = p.output!;
    const cursor = new OutputCursor(out);
    const upTo = out.failure !== undefined ? out.failure.series : p.labels.length;
    for (let i = 0; i < upTo; i++) await writer.addSeries(p.labels[i]!, cursor.next(chunks));
    freeOut.put(buffersOf(out));
    const f = out.failure;
    if (f === undefined) return;
    if (f.badRecord !== undefined) {
      // The reader rebuilds its own error for the record: file, offset, stored and computed CRC.
      try {
        run.verify(f.badRecord.ref, f.badRecord.bytes);
      } catch (e) {
        throw inSeries(e, block, p.labels[f.series]!);
      }
    }
    throw inSeries(fromFailure(f), block, p.labels[f.series]!);
  };
  const push = async (p: Pending): Promise<void> => {
    queue.push(p);
    // Write what is ready at the head; wait for the head once too much is held.
    while (queue.length > 0 && (isBack(queue[0]!) || queue.length > maxQueued)) await writeHead();
  };
  // The batch being filled: for a worker (input copied) or run here as series arrive.
  let labels: Labels[] = [];
  let toWorker: { lane: Lane; batch: BatchBuilder } | undefined;
  let here: OutputBuilder | undefined;
  let bytes = 0;
  const close = async (): Promise<void> => {
    const p: Pending = { labels };
    if (toWorker !== undefined) {
      counts.toWorkers++;
      // Send back a written output for the worker to fill again: it fills one per batch.
      p.settled = toWorker.lane.run(toWorker.batch.finish(), inRes, outRes, freeOut.take()).then(
        ({ output, used }) => {
          freeIn.put(used);
          p.output = output;
        },
        (e: Error) => void (p.error = e),
      );
    } else {
      counts.here++;
      p.output = here!.finish();
    }
    labels = [];
    toWorker = undefined;
    here = undefined;
    bytes = 0;
    await push(p);
  };
  try {
    for await (const s of series) {
      if (s.chunks.length === 0) continue;
      if (labels.length === 0) {
        const lane = lanes.find((l) => l.alive && l.inFlight < PER_WORKER);
        if (lane !== undefined)
          toWorker = { lane, batch: new BatchBuilder(freeIn.take(), batchBytes + (batchBytes >>> 2)) };
        else here = new OutputBuilder(freeOut.take(), Math.max(1 << 16, batchBytes >>> 1));
      }
      labels.push(s.labels);
      const records = s.records!;
      for (const r of records) bytes += r.length;
      if (toWorker !== undefined) toWorker.batch.add(s.chunks, records);
      else if (!here!.run(ds, s.chunks, () => verifySeries(s, run.verify))) bytes = batchBytes; // failed: close the batch now
      if (bytes >= batchBytes || labels.length >= BATCH_SERIES) await close();
    }
    if (labels.length > 0) await close();
    while (queue.length > 0) await writeHead();
    return counts;
  } finally {
    // Batches still out when this fails settle on their own; nothing waits for them.
    queue.length = 0;
  }
}
