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
    let n = 0;
    for (const c of chunks) {
      const data = c.chunk!.data;
      const k = xorNumSamples(data);
      if (n + k > this.ts.length) this.grow(n + k);
      decodeXOR(data, this.ts, this.vs, n);
      n += k;
    }
    if (n === 0) return false;
    const src32 = new Int32Array(this.vs.buffer);
    const dst32 = new Int32Array(this.cvs.buffer);
    // Each column's samples in arrival order (upstream appends to that column's open chunk).
    const pending: { idx: number[] }[] = Array.from({ length: this.o.dataColumns }, () => ({ idx: [] }));
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const t = this.ts[i]!;
      if (t < mint || t > maxt) continue;
      if (deleted !== undefined && deleted.length > 0 && isDeleted(deleted, t)) continue;
      const col = dataColumnOf(t, mint, colDuration);
      const p = pending[col];
      if (p === undefined) throw new RangeError(`sample at ${t} past the last data column`);
      p.idx.push(i);
      kept++;
    }
    if (kept === 0) return false;
    for (let col = 0; col < pending.length; col++) {
      const idx = pending[col]!.idx;
      const out = this.outs[col]!;
      for (let s = 0; s < idx.length; s += samplesPerChunk) {
        const m = Math.min(samplesPerChunk, idx.length - s);
        let minT = Number.MAX_SAFE_INTEGER;
        // Upstream starts a chunk's max time at 0 (Go's zero value), not at its first sample.
        let maxT = 0;
        for (let j = 0; j < m; j++) {
          const i = idx[s + j]!;
          const t = this.ts[i]!;
          this.cts[j] = t;
          dst32[2 * j] = src32[2 * i]!;
          dst32[2 * j + 1] = src32[2 * i + 1]!;
          if (t < minT) minT = t;
          if (t > maxT) maxT = t;
        }
        const bytes = encodeXOR(this.cts, this.cvs, 0, m);
        writeChunk(out, Encoding.XOR, minT, maxT, bytes);
      }
    }
    return true;
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
