/** Chunk encoding bytes (P: tsdb/chunkenc/chunk.go; 0xFF is Thanos' AggrChunk). */
export const Encoding = {
  None: 0,
  XOR: 1,
  Histogram: 2,
  FloatHistogram: 3,
  XOR2: 4,
  HistogramST: 5,
  FloatHistogramST: 6,
  Aggr: 0xff,
} as const;
export type EncodingValue = (typeof Encoding)[keyof typeof Encoding];

export function encodingName(e: number): string {
  switch (e) {
    case Encoding.None:
      return "none";
    case Encoding.XOR:
      return "XOR";
    case Encoding.Histogram:
      return "histogram";
    case Encoding.FloatHistogram:
      return "floathistogram";
    case Encoding.XOR2:
      return "XOR2";
    case Encoding.HistogramST:
      return "histogramST";
    case Encoding.FloatHistogramST:
      return "floathistogramST";
    case Encoding.Aggr:
      return "aggr";
    default:
      return `unknown(${e})`;
  }
}

/** A chunk's bytes as stored in a segment record (encoding byte + data). */
export interface Chunk {
  encoding: number;
  data: Uint8Array;
}

/**
 * A chunk's entry in the index plus, once read, its bytes. `ref` is the segment ref
 * (segmentIndex * 2^32 + offset); minTime/maxTime are its first and last sample times.
 */
export interface ChunkMeta {
  ref: number;
  minTime: number;
  maxTime: number;
  chunk?: Chunk;
}

/** Number of samples a chunk holds, read from its header without decoding. */
export function chunkNumSamples(c: Chunk): number {
  switch (c.encoding) {
    case Encoding.XOR:
    case Encoding.XOR2:
    case Encoding.Histogram:
    case Encoding.FloatHistogram:
      return c.data.length >= 2 ? (c.data[0]! << 8) | c.data[1]! : 0;
    case Encoding.HistogramST:
    case Encoding.FloatHistogramST:
      // 2 bits counter reset, 14 bits count.
      return c.data.length >= 2 ? ((c.data[0]! << 8) | c.data[1]!) & 0x3fff : 0;
    default:
      return 0;
  }
}

export function isFloatEncoding(e: number): boolean {
  return e === Encoding.XOR || e === Encoding.XOR2;
}
export function isHistogramEncoding(e: number): boolean {
  return (
    e === Encoding.Histogram ||
    e === Encoding.FloatHistogram ||
    e === Encoding.HistogramST ||
    e === Encoding.FloatHistogramST
  );
}
