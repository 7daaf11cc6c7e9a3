import {
  type ChunkMeta,
  decodeXOR,
  Encoding,
  encodeXOR,
  FormatError,
  type Interval,
  isDeleted,
  xorNumSamples,
} from "@strata/tsdb";
import { ByteBuf } from "./bytes.ts";
import { dataColumnOf } from "./schema.ts";
import { reencodeHistograms } from "./reencode-histograms.ts";
import { type ReencodeOptions, SAMPLES_PER_CHUNK, writeChunk } from "./chunk-value.ts";

/**
 * One series' chunks re-encoded into parquet-common's data column values
 * (schema/encoder.go): samples in chunk order (chunks by min time), each sent to the column
 * of its time, a new chunk cut when one reaches `samplesPerChunk`; per column the XOR chunks,
 * then histogram, then float histogram ones, each as uvarint encoding, min time, max time,
 * length, then the chunk bytes. Samples outside [mint, maxt] or deleted are dropped
 * (tsdb.NewBlockChunkSeriesSet does that upstream). Columns without samples are empty.
 */
export class SeriesReencoder {
  private readonly o: ReencodeOptions;
  private ts = new Float64Array(1024);
  private vs = new Float64Array(1024);
  private cts = new Float64Array(SAMPLES_PER_CHUNK);
  private cvs = new Float64Array(SAMPLES_PER_CHUNK);
  private readonly outs: ByteBuf[];

  constructor(o: ReencodeOptions) {
    this.o = o;
    this.outs = Array.from({ length: o.dataColumns }, () => new ByteBuf(256));
    this.cts = new Float64Array(o.samplesPerChunk);
    this.cvs = new Float64Array(o.samplesPerChunk);
  }

  /** Values per data column (views valid until the next call); undefined when no sample is left. */
  encode(chunks: readonly ChunkMeta[], deleted: readonly Interval[] | undefined): Uint8Array[] | undefined {
    for (const o of this.outs) o.reset();
    const sorted = [...chunks].sort((a, b) => a.minTime - b.minTime);
    const xor = sorted.filter((c) => c.chunk?.encoding === Encoding.XOR);
    const hist = sorted.filter((c) => c.chunk !== undefined && c.chunk.encoding !== Encoding.XOR);
    for (const c of sorted) {
      const e = c.chunk?.encoding;
      if (e !== Encoding.XOR && e !== Encoding.Histogram && e !== Encoding.FloatHistogram) {
        throw new FormatError("unknown-encoding", "chunk encoding parquet-common does not convert", {
          expected: "XOR, histogram or float histogram",
          found: String(e ?? "no chunk bytes"),
        });
      }
    }
    let any = this.encodeXOR(xor, deleted);
    if (hist.length > 0 && reencodeHistograms(hist, deleted, this.o, this.outs)) any = true;
    if (!any) return undefined;
    return this.outs.map((o) => o.view());
  }

  private encodeXOR(chunks: readonly ChunkMeta[], deleted: readonly Interval[] | undefined): boolean {
    const { mint, maxt, colDuration, samplesPerChunk } = this.o;
    const hasDeletes = deleted !== undefined && deleted.length > 0;
    // Each column's open chunk: the indexes (into ts/vs) of its samples so far.
    const open: number[][] = Array.from({ length: this.o.dataColumns }, () => []);
    let n = 0;
    let kept = 0;
    for (let ci = 0; ci < chunks.length; ci++) {
      const data = chunks[ci]!.chunk!.data;
      const k = xorNumSamples(data);
      if (k === 0) continue;
      if (n + k > this.ts.length) this.grow(n + k);
      decodeXOR(data, this.ts, this.vs, n);
      const first = n;
      n += k;
      if (!hasDeletes && k <= samplesPerChunk && this.copyWhole(chunks, ci, first, k, open)) {
        kept += k;
        continue;
      }
      for (let i = first; i < n; i++) {
        const t = this.ts[i]!;
        if (t < mint || t > maxt) continue;
        if (hasDeletes && isDeleted(deleted, t)) continue;
        const col = dataColumnOf(t, mint, colDuration);
        const o = open[col];
        if (o === undefined) throw new RangeError(`sample at ${t} past the last data column`);
        o.push(i);
        kept++;
        if (o.length >= samplesPerChunk) this.cut(col, o);
      }
    }
    for (let col = 0; col < open.length; col++) if (open[col]!.length > 0) this.cut(col, open[col]!);
    return kept > 0;
  }

  /**
   * A source chunk whose samples all fall in one column, while that column has no open chunk,
   * and which upstream would close where it ends (it holds samplesPerChunk samples, or the next
   * chunk starts in another column): re-encoding would give the same samples in the same chunk,
   * and Prometheus' XOR appender the same bytes, so its bytes are copied.
   */
  private copyWhole(chunks: readonly ChunkMeta[], ci: number, first: number, k: number, open: number[][]): boolean {
    const { mint, maxt, colDuration, samplesPerChunk } = this.o;
    let minT = Number.MAX_SAFE_INTEGER;
    let maxT = 0;
    let col = -1;
    for (let i = first; i < first + k; i++) {
      const t = this.ts[i]!;
      if (t < mint || t > maxt) return false;
      const c = dataColumnOf(t, mint, colDuration);
      if (col === -1) col = c;
      else if (c !== col) return false;
      if (t < minT) minT = t;
      if (t > maxT) maxT = t;
    }
    if (col < 0 || col >= open.length || open[col]!.length > 0) return false;
    if (k < samplesPerChunk) {
      const next = chunks[ci + 1];
      if (next !== undefined && dataColumnOf(next.minTime, mint, colDuration) === col) return false;
    }
    writeChunk(this.outs[col]!, Encoding.XOR, minT, maxT, chunks[ci]!.chunk!.data);
    return true;
  }

  /** Encodes a column's open chunk into its value and empties it. */
  private cut(col: number, idx: number[]): void {
    const src32 = new Int32Array(this.vs.buffer);
    const dst32 = new Int32Array(this.cvs.buffer);
    const m = idx.length;
    let minT = Number.MAX_SAFE_INTEGER;
    // Upstream starts a chunk's max time at 0 (Go's zero value), not at its first sample.
    let maxT = 0;
    for (let j = 0; j < m; j++) {
      const i = idx[j]!;
      const t = this.ts[i]!;
      this.cts[j] = t;
      dst32[2 * j] = src32[2 * i]!;
      dst32[2 * j + 1] = src32[2 * i + 1]!;
      if (t < minT) minT = t;
      if (t > maxT) maxT = t;
    }
    writeChunk(this.outs[col]!, Encoding.XOR, minT, maxT, encodeXOR(this.cts, this.cvs, 0, m));
    idx.length = 0;
  }

  private grow(n: number): void {
    let cap = this.ts.length * 2;
    while (cap < n) cap *= 2;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    ts.set(this.ts);
    new Int32Array(vs.buffer).set(new Int32Array(this.vs.buffer));
    this.ts = ts;
    this.vs = vs;
  }
}
