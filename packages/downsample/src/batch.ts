/**
 * Batches of series in flat buffers, so a worker thread can downsample them (the buffers
 * are transferred, not cloned) and hand back framed chunk records in series order. The
 * same code runs a batch on the calling thread, so both paths write identical bytes.
 */
import {
  ChunkReader,
  FormatError,
  chunkRecordCrcOk,
  chunkRecordSize,
  uvarintSize,
  writeChunkRecord,
  type ChunkMeta,
  type ChunkToWrite,
  type FormatErrorCode,
} from "@strata/tsdb";
import type { SeriesDownsampler } from "./series.ts";

/** Input chunks of one batch. */
export interface PackedInput {
  /**
   * The chunks' stored records back to back, as read and not yet CRC-checked: the worker
   * checks them, so that work leaves the reading thread too.
   */
  data: Uint8Array;
  /** Per series: n, then n × (ref, minTime, maxTime, record length). */
  table: Float64Array;
  series: number;
}

/** Output chunks of one batch, or the failure that stopped it. */
export interface PackedOutput {
  /** Stored chunk records (length, encoding, data, CRC32C) back to back. */
  records: Uint8Array;
  /** Per series: n, then n × (minTime, maxTime, encoding, data length). */
  table: Float64Array;
  failure?: SeriesFailure;
}

/** An error thrown for one series, as plain data (it crosses threads). */
export interface SeriesFailure {
  /** Index of the series in its batch. */
  series: number;
  message: string;
  stack?: string;
  format?: { code: FormatErrorCode; detail: string; file?: string; offset?: number; expected?: string; found?: string };
  /** A record whose CRC did not match: the reader names the file and offset. */
  badRecord?: { ref: number; bytes: Uint8Array };
}

/**
 * Memory a batch can reuse instead of allocating: buffers travel back to the thread that
 * fills them, so a steady run allocates nothing per batch (and GC has no churn).
 */
export interface BatchBuffers {
  bytes: ArrayBuffer;
  table: ArrayBuffer;
}

/**
 * Buffers kept for reuse, at most `max` (the rest are left to GC): buffers arrive as batches
 * finish, and a side that is handed more than it uses must not hoard them.
 */
export class BufferPool {
  private readonly free: BatchBuffers[] = [];
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.free.length;
  }

  put(b: BatchBuffers): void {
    if (this.free.length < this.max) this.free.push(b);
  }

  take(): BatchBuffers | undefined {
    return this.free.pop();
  }
}

/** The buffers behind a packed batch, for reuse once it has been consumed. */
export function buffersOf(p: { table: Float64Array } & ({ data: Uint8Array } | { records: Uint8Array })): BatchBuffers {
  return { bytes: ("data" in p ? p.data : p.records).buffer as ArrayBuffer, table: p.table.buffer as ArrayBuffer };
}

const IN_FIELDS = 4;
const OUT_FIELDS = 4;

/** Grow `a` to hold at least `need` elements, keeping [0, used). */
function grown<T extends Uint8Array | Float64Array>(a: T, used: number, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  let c = a.length * 2;
  while (c < need) c *= 2;
  const b = make(c);
  b.set(a.subarray(0, used));
  return b;
}

/**
 * Collects series for a worker: records are copied (readers recycle their memory); labels
 * stay with the caller, which writes the output.
 */
export class BatchBuilder {
  private series = 0;
  private data: Uint8Array;
  private dataLen = 0;
  private table: Float64Array;
  private tableLen = 0;

  constructor(reuse: BatchBuffers | undefined, dataCapacity: number) {
    this.data =
      reuse && reuse.bytes.byteLength >= dataCapacity ? new Uint8Array(reuse.bytes) : new Uint8Array(dataCapacity);
    this.table = reuse ? new Float64Array(reuse.table) : new Float64Array(1024);
  }

  /** A series: its chunk metas and their stored records (parallel arrays). */
  add(chunks: readonly ChunkMeta[], records: readonly Uint8Array[]): void {
    this.series++;
    this.table = grown(
      this.table,
      this.tableLen,
      this.tableLen + 1 + IN_FIELDS * chunks.length,
      (n) => new Float64Array(n),
    );
    const t = this.table;
    let ti = this.tableLen;
    t[ti++] = chunks.length;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      const rec = records[i]!;
      const len = rec.length;
      this.data = grown(this.data, this.dataLen, this.dataLen + len, (n) => new Uint8Array(n));
      this.data.set(rec, this.dataLen);
      this.dataLen += len;
      t[ti++] = c.ref;
      t[ti++] = c.minTime;
      t[ti++] = c.maxTime;
      t[ti++] = len;
    }
    this.tableLen = ti;
  }

  finish(): PackedInput {
    return {
      data: this.data.subarray(0, this.dataLen),
      table: this.table.subarray(0, this.tableLen),
      series: this.series,
    };
  }
}

/** Packs downsampled series (framed records and their table) as they are produced. */
export class OutputBuilder {
  private records: Uint8Array;
  private rl = 0;
  private table: Float64Array;
  private tl = 0;
  failure: SeriesFailure | undefined;
  /** Series added so far. */
  size = 0;

  constructor(reuse: BatchBuffers | undefined, capacity: number) {
    this.records = reuse && reuse.bytes.byteLength >= capacity ? new Uint8Array(reuse.bytes) : new Uint8Array(capacity);
    this.table = reuse ? new Float64Array(reuse.table) : new Float64Array(1024);
  }

  /** One series' output chunks (copied; the downsampler reuses their memory). */
  add(out: readonly ChunkToWrite[]): void {
    this.table = grown(this.table, this.tl, this.tl + 1 + OUT_FIELDS * out.length, (c) => new Float64Array(c));
    const table = this.table;
    let tl = this.tl;
    table[tl++] = out.length;
    for (const c of out) {
      const data = c.chunk.data;
      this.records = grown(this.records, this.rl, this.rl + chunkRecordSize(data.length), (n) => new Uint8Array(n));
      this.rl = writeChunkRecord(this.records, this.rl, c.chunk.encoding, data);
      table[tl++] = c.minTime;
      table[tl++] = c.maxTime;
      table[tl++] = c.chunk.encoding;
      table[tl++] = data.length;
    }
    this.tl = tl;
    this.size++;
  }

  /**
   * Downsample one series with `ds` into the batch, after `check` (the chunks' CRCs);
   * false (and `failure` set) if either threw.
   */
  run(ds: SeriesDownsampler, chunks: readonly ChunkMeta[], check?: () => void): boolean {
    try {
      check?.();
      this.add(ds.series(chunks));
      return true;
    } catch (e) {
      this.failure = toFailure(this.size, e);
      return false;
    }
  }

  finish(): PackedOutput {
    return {
      records: this.records.subarray(0, this.rl),
      table: this.table.subarray(0, this.tl),
      failure: this.failure,
    };
  }
}

/** Downsample every series of a packed batch with `ds`; a series that throws ends it. */
export function runBatch(ds: SeriesDownsampler, input: PackedInput, reuse?: BatchBuffers): PackedOutput {
  const inT = input.table;
  const chunks: ChunkMeta[] = [];
  // Aggregates are smaller than their raw input; the buffer grows when they are not.
  const out = new OutputBuilder(reuse, Math.max(1 << 16, input.data.length >>> 1));
  let at = 0;
  let ti = 0;
  for (let s = 0; s < input.series; s++) {
    const n = inT[ti++]!;
    chunks.length = 0;
    let bad: SeriesFailure | undefined;
    for (let k = 0; k < n; k++, ti += IN_FIELDS) {
      const record = input.data.subarray(at, at + inT[ti + 3]!);
      at += record.length;
      if (bad === undefined && !chunkRecordCrcOk(record)) {
        bad = {
          series: s,
          message: `chunk at ref ${inT[ti]}: CRC32C mismatch`,
          badRecord: { ref: inT[ti]!, bytes: record.slice() },
        };
      }
      chunks.push({
        ref: inT[ti]!,
        minTime: inT[ti + 1]!,
        maxTime: inT[ti + 2]!,
        chunk: ChunkReader.chunkOfRecord(record),
      });
    }
    if (bad !== undefined) {
      out.failure = bad;
      break;
    }
    if (!out.run(ds, chunks)) break;
  }
  return out.finish();
}

function toFailure(series: number, e: unknown): SeriesFailure {
  if (e instanceof FormatError) {
    return {
      series,
      message: e.message,
      stack: e.stack,
      format: { code: e.code, detail: e.detail, file: e.file, offset: e.offset, expected: e.expected, found: e.found },
    };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { series, message: err.message, stack: err.stack };
}

/** The error a failure stands for, rebuilt on the thread that writes the block. */
export function fromFailure(f: SeriesFailure): Error {
  const e = f.format
    ? new FormatError(f.format.code, f.format.detail, {
        file: f.format.file,
        offset: f.format.offset,
        expected: f.format.expected,
        found: f.format.found,
      })
    : new Error(f.message);
  if (f.stack !== undefined) e.stack = f.stack;
  return e;
}

/** Walks a batch's output series by series. */
export class OutputCursor {
  private ti = 0;
  private at = 0;
  private readonly out: PackedOutput;

  constructor(out: PackedOutput) {
    this.out = out;
  }

  /** The next series' chunks (views into the output; `into` is cleared and filled). */
  next(into: ChunkToWrite[]): ChunkToWrite[] {
    const { table, records } = this.out;
    into.length = 0;
    const n = table[this.ti++]!;
    for (let k = 0; k < n; k++, this.ti += OUT_FIELDS) {
      const len = table[this.ti + 3]!;
      const recLen = chunkRecordSize(len);
      const record = records.subarray(this.at, this.at + recLen);
      const dataAt = this.at + uvarintSize(len) + 1;
      into.push({
        minTime: table[this.ti]!,
        maxTime: table[this.ti + 1]!,
        chunk: { encoding: table[this.ti + 2]!, data: records.subarray(dataAt, dataAt + len) },
        record,
      });
      this.at += recLen;
    }
    return into;
  }
}
